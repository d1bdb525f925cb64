/**
 * Result-shape messages of https://www.postgresql.org/docs/current/protocol-message-formats.html:
 * RowDescription 'T', DataRow 'D', ParameterDescription 't', CopyInResponse 'G' / CopyOutResponse 'H' /
 * CopyBothResponse 'W' (COPY flow: https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-COPY).
 *
 * DataRow is the hot path: decodeDataRow hands out zero-copy views of the cells, and a masker that
 * leaves a row alone should forward the original frame instead of re-encoding it.
 */
import { MalformedMessageError } from './errors.ts';
import { BackendType } from './message-types.ts';
import { MessageReader } from './message-reader.ts';
import { MessageWriter } from './message-writer.ts';

export interface RowField {
  name: string;
  /** The column's table, 0 when the value is computed. */
  tableOid: number;
  /** The column's attribute number in that table, 0 when computed. */
  attnum: number;
  typeOid: number;
  /** pg_type.typlen: negative for variable width. */
  typeSize: number;
  /** pg_attribute.atttypmod, -1 when none. */
  typeModifier: number;
  /** 0 text, 1 binary (0 in a Describe answer, where the format is not yet known). */
  format: 0 | 1;
}

export function decodeRowDescription(body: Buffer): RowField[] {
  const reader = new MessageReader(body, 'RowDescription');
  const count = reader.uint16('field count');
  const fields = new Array<RowField>(count);
  for (let i = 0; i < count; i++) {
    const name = reader.cstring('field name');
    const tableOid = reader.uint32('table OID');
    const attnum = reader.int16('attribute number');
    const typeOid = reader.uint32('type OID');
    const typeSize = reader.int16('type size');
    const typeModifier = reader.int32('type modifier');
    const format = reader.int16('format code');
    if (format !== 0 && format !== 1) throw reader.malformed(`format code of ${JSON.stringify(name)} must be 0 or 1, got ${format}`);
    fields[i] = { name, tableOid, attnum, typeOid, typeSize, typeModifier, format };
  }
  reader.end();
  return fields;
}

export function encodeRowDescription(fields: readonly RowField[]): Buffer {
  const writer = new MessageWriter(BackendType.RowDescription, 7 + fields.length * 32).uint16(fields.length);
  for (const field of fields) {
    writer.cstring(field.name).uint32(field.tableOid).int16(field.attnum).uint32(field.typeOid).int16(field.typeSize).int32(field.typeModifier).int16(field.format);
  }
  return writer.end();
}

/** The cells of a DataRow, null for SQL NULL; each a view into `body`. Per-row hot path: reads directly. */
export function decodeDataRow(body: Buffer): (Buffer | null)[] {
  if (body.length < 2) throw new MalformedMessageError(`invalid DataRow message: ${body.length} bytes cannot hold the column count`);
  const count = body.readUInt16BE(0);
  const cells = new Array<Buffer | null>(count);
  let offset = 2;
  for (let i = 0; i < count; i++) {
    if (offset + 4 > body.length) throw new MalformedMessageError(`invalid DataRow message: column ${i + 1} of ${count} is missing`);
    const length = body.readInt32BE(offset);
    offset += 4;
    if (length === -1) {
      cells[i] = null;
      continue;
    }
    if (length < 0 || offset + length > body.length) throw new MalformedMessageError(`invalid DataRow message: column ${i + 1} declares ${length} bytes, ${body.length - offset} remain`);
    cells[i] = body.subarray(offset, offset + length);
    offset += length;
  }
  if (offset !== body.length) throw new MalformedMessageError(`invalid DataRow message: ${body.length - offset} unexpected trailing bytes`);
  return cells;
}

export function encodeDataRow(cells: readonly (Uint8Array | null)[]): Buffer {
  let size = 7;
  for (const cell of cells) size += 4 + (cell?.length ?? 0);
  const writer = new MessageWriter(BackendType.DataRow, size).uint16(cells.length);
  for (const cell of cells) {
    if (cell === null) writer.int32(-1);
    else writer.int32(cell.length).bytes(cell);
  }
  return writer.end();
}

/** ParameterDescription 't': the type OIDs of a prepared statement's parameters. */
export function decodeParameterDescription(body: Buffer): number[] {
  const reader = new MessageReader(body, 'ParameterDescription');
  const count = reader.uint16('parameter count');
  const types = new Array<number>(count);
  for (let i = 0; i < count; i++) types[i] = reader.uint32('parameter type');
  reader.end();
  return types;
}

export function encodeParameterDescription(types: readonly number[]): Buffer {
  const writer = new MessageWriter(BackendType.ParameterDescription, 7 + 4 * types.length).uint16(types.length);
  for (const oid of types) writer.uint32(oid);
  return writer.end();
}

export interface CopyResponse {
  /** 0 textual (text/csv), 1 binary. */
  format: 0 | 1;
  /** One per column; all 0 when `format` is 0. */
  columnFormats: number[];
}

/** CopyInResponse 'G', CopyOutResponse 'H' and CopyBothResponse 'W' share this body. */
export function decodeCopyResponse(body: Buffer): CopyResponse {
  const reader = new MessageReader(body, 'CopyResponse');
  const format = reader.int8('overall format');
  if (format !== 0 && format !== 1) throw reader.malformed(`overall format must be 0 or 1, got ${format}`);
  const count = reader.uint16('column count');
  const columnFormats = new Array<number>(count);
  for (let i = 0; i < count; i++) columnFormats[i] = reader.int16('column format');
  reader.end();
  return { format, columnFormats };
}

/** `type` is BackendType.CopyInResponse, CopyOutResponse or CopyBothResponse. */
export function encodeCopyResponse(type: number, response: CopyResponse): Buffer {
  if (type !== BackendType.CopyInResponse && type !== BackendType.CopyOutResponse && type !== BackendType.CopyBothResponse) {
    throw new RangeError(`not a CopyResponse type: 0x${type.toString(16)}`);
  }
  const writer = new MessageWriter(type, 8 + 2 * response.columnFormats.length).int8(response.format).uint16(response.columnFormats.length);
  for (const format of response.columnFormats) writer.int16(format);
  return writer.end();
}
