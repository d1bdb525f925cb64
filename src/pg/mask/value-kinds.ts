/**
 * What a column's type means for masking: how a masked value is written (kind), and whether a
 * value detector could ever fire on it. Built-in OIDs are fixed (src/include/catalog/pg_type.dat);
 * types created by users (OID ≥ 16384: domains, citext, enums) are resolved through the catalog.
 */
import type { TypeInfo } from './catalog.ts';

export type ValueKind =
  | 'text'
  | 'char1'
  | 'json'
  | 'jsonb'
  | 'bytea'
  | 'bool'
  | 'int2'
  | 'int4'
  | 'int8'
  | 'float4'
  | 'float8'
  | 'numeric'
  | 'uuid'
  | 'date'
  | 'time'
  | 'timetz'
  | 'timestamp'
  | 'timestamptz'
  | 'interval'
  | 'array'
  /** Values no detector can match (inet, money, enum labels, …): masked to NULL. */
  | 'opaque-scalar'
  /** Anything else (composites, records, tsvector, unknown user types): detected, masked to NULL. */
  | 'other';

export interface TypeShape {
  kind: ValueKind;
  /** For arrays: the element's shape. */
  element?: TypeShape;
}

const SCALARS: Record<number, ValueKind> = {
  16: 'bool',
  17: 'bytea',
  18: 'char1',
  19: 'text', // name
  20: 'int8',
  21: 'int2',
  23: 'int4',
  25: 'text',
  114: 'json',
  142: 'text', // xml: `****` is legal XML content
  700: 'float4',
  701: 'float8',
  705: 'text', // unknown (untyped literals)
  1042: 'text', // bpchar
  1043: 'text', // varchar
  1082: 'date',
  1083: 'time',
  1114: 'timestamp',
  1184: 'timestamptz',
  1186: 'interval',
  1266: 'timetz',
  1700: 'numeric',
  2275: 'text', // cstring
  2950: 'uuid',
  3802: 'jsonb',
};

/** Built-in types whose text can never hold an email, token or hash. */
const OPAQUE_SCALARS = new Set([
  22, 24, 26, 27, 28, 29, 30, 600, 601, 602, 603, 604, 628, 650, 718, 774, 790, 829, 869, 1560, 1562, 2202, 2203, 2204, 2205, 2206, 3220, 3734,
  3769, 3904, 3906, 3908, 3910, 3912, 3926, 4089, 4096, 5069, 4451, 4532, 4533, 4534, 4535, 4536,
]);

/** Array type OID → element type OID for the built-in arrays. */
const ARRAYS: Record<number, number> = {
  1000: 16, 1001: 17, 1002: 18, 1003: 19, 1016: 20, 1005: 21, 1007: 23, 1009: 25, 199: 114, 143: 142, 1021: 700, 1022: 701,
  1014: 1042, 1015: 1043, 1182: 1082, 1183: 1083, 1115: 1114, 1185: 1184, 1187: 1186, 1270: 1266, 1231: 1700, 2951: 2950, 3807: 3802,
  1263: 2275, 1028: 26, 1040: 829, 1041: 869, 651: 650, 791: 790, 2287: 2249,
};

const FIRST_NORMAL_OID = 16384;

export function typeShape(typeOid: number, lookup?: (oid: number) => TypeInfo | undefined, depth = 0): TypeShape {
  const scalar = SCALARS[typeOid];
  if (scalar) return { kind: scalar };
  if (OPAQUE_SCALARS.has(typeOid)) return { kind: 'opaque-scalar' };
  const element = ARRAYS[typeOid];
  if (element !== undefined) return { kind: 'array', element: typeShape(element, lookup, depth + 1) };
  if (typeOid < FIRST_NORMAL_OID || !lookup || depth > 4) return { kind: 'other' };
  const info = lookup(typeOid);
  if (!info) return { kind: 'other' };
  if (info.baseOid !== 0 && info.baseOid !== typeOid) return typeShape(info.baseOid, lookup, depth + 1); // domain
  if (info.elemOid !== 0 && info.category === 'A') return { kind: 'array', element: typeShape(info.elemOid, lookup, depth + 1) };
  if (info.category === 'S') return { kind: 'text' }; // citext and other string types
  if (info.category === 'E' || info.category === 'N' || info.category === 'D' || info.category === 'B') return { kind: 'opaque-scalar' };
  return { kind: 'other' };
}

/** No detector can fire on a value of this shape, so an unconfigured column passes untouched. */
export function isDetectionFree(shape: TypeShape): boolean {
  switch (shape.kind) {
    case 'text':
    case 'json':
    case 'jsonb':
    case 'bytea':
    case 'other':
      return false;
    case 'array':
      return isDetectionFree(shape.element!);
    default:
      return true;
  }
}
