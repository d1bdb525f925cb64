/**
 * Masking COPY … TO STDOUT data (sql-copy "File Formats"). PostgreSQL sends one row per CopyData
 * message in text and CSV; binary COPY sends its file header with the first tuple and the trailer
 * (field count −1) on its own, each tuple laid out like a DataRow. Values are masked as in the
 * text format (text/CSV) or binary format, then re-escaped or re-quoted for the COPY format.
 *
 * COPY carries no RowDescription: the plan comes from lineage alone (`planCopy`), and a column
 * whose type lineage cannot tell is masked to NULL, which is legal for any type.
 */
import type { CatalogSnapshot } from './catalog.ts';
import { applyReplacements, maskTuple, type Replacements } from './data-row.ts';
import type { AnyNode } from './lineage-expr.ts';
import type { StatementLineage } from './lineage.ts';
import { KEEP, maskDetectedValue, maskWholeValue, type CellResult } from './mask-value.ts';
import { planResult, type ColumnPlan, type MaskContext, type MaskRules, type ResultPlan } from './result-plan.ts';
import type { RowField } from './types.ts';

export interface CopyFormatOptions {
  format: 'text' | 'csv' | 'binary';
  /** One character; default tab (text) or comma (CSV). */
  delimiter?: string;
  /** The NULL marker; default `\N` (text) or the empty unquoted string (CSV). */
  null?: string;
  quote?: string;
  escape?: string;
  /** The first row is a header line (never masked; createCopyOutMasker skips it). */
  header?: boolean;
}

export type CopyFormat = 'text' | 'csv' | 'binary' | CopyFormatOptions;

/** Options of a `COPY … TO` statement's parse tree (`CopyStmt`), as they shape the data. */
export function copyFormatOf(copyStmt: object): CopyFormatOptions {
  const options: CopyFormatOptions = { format: 'text' };
  for (const node of ((copyStmt as AnyNode).options as AnyNode[]) ?? []) {
    const def = (node.DefElem as AnyNode) ?? {};
    const arg = def.arg as AnyNode | undefined;
    const value = ((arg?.String as AnyNode)?.sval as string | undefined) ?? ((arg?.Boolean as AnyNode)?.boolval === false ? 'false' : undefined);
    switch (def.defname) {
      case 'format':
        if (value === 'csv' || value === 'binary' || value === 'text') options.format = value;
        break;
      case 'delimiter':
        options.delimiter = value;
        break;
      case 'null':
        options.null = value;
        break;
      case 'quote':
        options.quote = value;
        break;
      case 'escape':
        options.escape = value;
        break;
      case 'header':
        options.header = value !== 'false' && value !== 'off' && value !== '0';
        break;
    }
  }
  return options;
}

/** A plan for COPY output of `columnCount` columns, from lineage (types where lineage knows them). */
export function planCopy(lineage: StatementLineage, columnCount: number, format: CopyFormat, catalog: CatalogSnapshot, rules: MaskRules): ResultPlan {
  const binary = normalize(format).format === 'binary';
  const fields: RowField[] = Array.from({ length: columnCount }, (_, i) => {
    const col = lineage.columns?.length === columnCount ? lineage.columns[i] : undefined;
    return { name: col?.name ?? '', tableOid: 0, attnum: 0, typeOid: col?.typeOid ?? 0, format: binary ? 1 : 0 };
  });
  return planResult(fields, lineage, catalog, rules);
}

/** Masks the CopyData messages of one COPY OUT in order, skipping a CSV/text header line. */
export function createCopyOutMasker(format: CopyFormat, plan: ResultPlan, ctx: MaskContext): (data: Buffer) => Buffer | null {
  const options = normalize(format);
  let headerPending = options.header === true && options.format !== 'binary';
  return function maskCopyData(data) {
    if (headerPending) {
      headerPending = false;
      return null;
    }
    return maskCopyRow(data, options, plan, ctx);
  };
}

/** One CopyData payload masked, or null when nothing changed. */
export function maskCopyRow(data: Buffer, format: CopyFormat, plan: ResultPlan, ctx: MaskContext): Buffer | null {
  if (!plan.needsRowWork) return null;
  const options = normalize(format);
  if (options.format === 'binary') return maskBinaryCopy(data, plan, ctx);
  return options.format === 'csv' ? maskCsvRow(data, options, plan, ctx) : maskTextRow(data, options, plan, ctx);
}

function normalize(format: CopyFormat): CopyFormatOptions {
  return typeof format === 'string' ? { format } : format;
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

function maskBinaryCopy(data: Buffer, plan: ResultPlan, ctx: MaskContext): Buffer | null {
  let pos = 0;
  if (data.length >= 19 && data.subarray(0, 11).equals(SIGNATURE)) pos = 19 + data.readInt32BE(15); // flags, extension length, extension
  const replacements: Replacements = [];
  while (pos + 2 <= data.length) {
    const count = data.readInt16BE(pos);
    pos += 2;
    if (count < 0) break; // trailer
    pos = maskTuple(data, pos, count, plan, ctx, replacements);
  }
  return replacements.length === 0 ? null : applyReplacements(data, replacements);
}

/** The masked text of one value (text format), KEEP, or null for NULL. */
function maskValueText(value: string, column: ColumnPlan, ctx: MaskContext): CellResult {
  const cell = Buffer.from(value);
  return column.action === 'mask' ? maskWholeValue(cell, column.shape, 0, ctx.rules) : maskDetectedValue(cell, column.shape, 0, ctx.rules);
}

function maskTextRow(data: Buffer, options: CopyFormatOptions, plan: ResultPlan, ctx: MaskContext): Buffer | null {
  const delimiter = options.delimiter ?? '\t';
  const nullMarker = options.null ?? '\\N';
  const row = data.toString('utf8');
  const newline = row.endsWith('\r\n') ? '\r\n' : row.endsWith('\n') ? '\n' : '';
  const fields = row.slice(0, row.length - newline.length).split(delimiter); // escaping never leaves a raw delimiter inside a value
  let changed = false;
  fields.forEach((raw, i) => {
    const column = plan.columns[i] ?? { action: 'mask', shape: { kind: 'other' }, format: 0 };
    if (column.action === 'pass' || raw === nullMarker) return;
    const result = maskValueText(unescapeCopyText(raw), column, ctx);
    if (result === KEEP) return;
    ctx.maskedCells += 1;
    changed = true;
    fields[i] = result === null ? nullMarker : escapeCopyText(result.toString('utf8'), delimiter);
  });
  return changed ? Buffer.from(fields.join(delimiter) + newline) : null;
}

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

export function unescapeCopyText(raw: string): string {
  if (!raw.includes('\\')) return raw;
  return raw.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/gs, (_, e: string) => {
    if (e[0] === 'x' && e.length > 1) return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return ESCAPES[e] ?? e;
  });
}

export function escapeCopyText(value: string, delimiter: string): string {
  let out = '';
  for (const ch of value) {
    if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === delimiter) out += `\\${ch}`;
    else out += ch;
  }
  return out;
}

interface CsvField {
  value: string;
  quoted: boolean;
  /** The field as it appeared in the row. */
  raw: string;
}

function maskCsvRow(data: Buffer, options: CopyFormatOptions, plan: ResultPlan, ctx: MaskContext): Buffer | null {
  const delimiter = options.delimiter ?? ',';
  const quote = options.quote ?? '"';
  const escape = options.escape ?? quote;
  const nullMarker = options.null ?? '';
  const row = data.toString('utf8');
  const newline = row.endsWith('\r\n') ? '\r\n' : row.endsWith('\n') ? '\n' : '';
  const fields = parseCsvRow(row.slice(0, row.length - newline.length), delimiter, quote, escape);
  let changed = false;
  const out = fields.map((field, i) => {
    const column = plan.columns[i] ?? { action: 'mask', shape: { kind: 'other' }, format: 0 };
    const original = field.raw;
    if (column.action === 'pass' || (!field.quoted && field.value === nullMarker)) return original;
    const result = maskValueText(field.value, column, ctx);
    if (result === KEEP) return original;
    ctx.maskedCells += 1;
    changed = true;
    return result === null ? nullMarker : quoteCsv(result.toString('utf8'), quote, escape);
  });
  return changed ? Buffer.from(out.join(delimiter) + newline) : null;
}

export function parseCsvRow(row: string, delimiter: string, quote: string, escape: string): CsvField[] {
  const fields: CsvField[] = [];
  let i = 0;
  for (;;) {
    const start = i;
    if (row.startsWith(quote, i)) {
      let value = '';
      i += quote.length;
      while (i < row.length) {
        if (row.startsWith(escape, i) && (row.startsWith(quote, i + escape.length) || (escape !== quote && row.startsWith(escape, i + escape.length)))) {
          value += row[i + escape.length];
          i += escape.length + 1;
        } else if (row.startsWith(quote, i)) {
          i += quote.length;
          break;
        } else {
          value += row[i];
          i += 1;
        }
      }
      // Anything between the closing quote and the delimiter belongs to the field (PostgreSQL allows it).
      const next = row.indexOf(delimiter, i);
      value += row.slice(i, next === -1 ? row.length : next);
      fields.push({ value, quoted: true, raw: row.slice(start, next === -1 ? row.length : next) });
      if (next === -1) return fields;
      i = next + delimiter.length;
    } else {
      const next = row.indexOf(delimiter, i);
      const raw = row.slice(i, next === -1 ? row.length : next);
      fields.push({ value: raw, quoted: false, raw });
      if (next === -1) return fields;
      i = next + delimiter.length;
    }
  }
}

function quoteCsv(value: string, quote: string, escape: string): string {
  let body = '';
  for (const ch of value) body += ch === quote || ch === escape ? escape + ch : ch;
  return quote + body + quote;
}
