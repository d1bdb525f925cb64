/**
 * Shapes shared by the masking modules (issue 5, item 4 "Inline masking"). The policy module
 * produces `MaskPolicy`; the engine supplies the hash key. Everything here is data, no behaviour.
 */

export type DetectorName = 'email' | 'card' | 'ssn' | 'jwt' | 'password-hash' | 'secret';

export const DETECTOR_NAMES: readonly DetectorName[] = ['email', 'card', 'ssn', 'jwt', 'password-hash', 'secret'];

export type MaskStyle = 'redact' | 'partial' | 'hash';

/** `sql.mask` as the policy module hands it over. */
export interface MaskPolicy {
  /**
   * Sensitive columns: `table.column` or `schema.table.column` globs, or bare column-name globs
   * such as `*email*` that match any table (and output column names). Case-insensitive.
   */
  columns: string[];
  detectors: 'all' | DetectorName[];
  style: MaskStyle;
}

/** A sensitive piece of a text value: UTF-16 offsets, `end` exclusive. */
export interface SensitiveSpan {
  detector: DetectorName;
  start: number;
  end: number;
}

/** One field of a RowDescription, as the codec decodes it. */
export interface RowField {
  name: string;
  /** OID of the table the column comes from, 0 when it is computed. */
  tableOid: number;
  /** Attribute number in that table (1-based), 0 for a whole-row column or no origin. */
  attnum: number;
  typeOid: number;
  format: 0 | 1;
}
