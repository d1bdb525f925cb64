/**
 * Rewriting the elements of an array value while keeping its shape: the text form
 * (`[1:2]={a,"b c",NULL}`, nested braces for more dimensions; arrayfuncs.c array_out) and the
 * binary form (ndim, has-null flag, element type, dimensions and lower bounds, then each element
 * as int32 length (−1 for NULL) and bytes; array_send).
 *
 * A transform returns undefined to keep an element, null to make it NULL, or the new value.
 */

export type ElementResult<T> = T | null | undefined;

export interface Rewritten<T> {
  value: T;
  changed: boolean;
}

/** The text array with elements transformed; null when it does not parse. */
export function rewriteArrayText(text: string, transform: (element: string) => ElementResult<string>): Rewritten<string> | null {
  const open = text.indexOf('{');
  if (open === -1) return null;
  let out = text.slice(0, open);
  let changed = false;
  let i = open;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '{' || c === '}' || c === ',' || c === ' ') {
      out += c;
      i += 1;
      continue;
    }
    let raw: string;
    let value: string;
    let quoted = false;
    if (c === '"') {
      quoted = true;
      value = '';
      let j = i + 1;
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\') j += 1;
        value += text[j] ?? '';
        j += 1;
      }
      if (j >= text.length) return null;
      raw = text.slice(i, j + 1);
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && text[j] !== ',' && text[j] !== '}') j += 1;
      raw = text.slice(i, j);
      value = raw;
      i = j;
    }
    if (!quoted && value.toUpperCase() === 'NULL') {
      out += raw;
      continue;
    }
    const result = transform(value);
    if (result === undefined) {
      out += raw;
    } else {
      changed = true;
      out += result === null ? 'NULL' : quoteElement(result);
    }
  }
  return { value: changed ? out : text, changed };
}

function quoteElement(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

const HEADER = 12;

/** The binary array with elements transformed; null when it is malformed. */
export function rewriteArrayBinary(
  cell: Buffer,
  transform: (element: Buffer, elementOid: number) => ElementResult<Buffer>,
): Rewritten<Buffer> | null {
  if (cell.length < HEADER) return null;
  const ndim = cell.readInt32BE(0);
  const elementOid = cell.readUInt32BE(8);
  if (ndim < 0 || ndim > 6 || cell.length < HEADER + ndim * 8) return null;
  let count = ndim === 0 ? 0 : 1;
  for (let d = 0; d < ndim; d += 1) count *= cell.readInt32BE(HEADER + d * 8);
  const pieces: Buffer[] = [];
  let pos = HEADER + ndim * 8;
  let changed = false;
  let hasNull = cell.readInt32BE(4) !== 0;
  for (let k = 0; k < count; k += 1) {
    if (pos + 4 > cell.length) return null;
    const length = cell.readInt32BE(pos);
    const element = length < 0 ? null : cell.subarray(pos + 4, pos + 4 + length);
    const next = pos + 4 + Math.max(0, length);
    const result = element === null ? undefined : transform(element, elementOid);
    if (result === undefined) {
      pieces.push(cell.subarray(pos, next));
    } else {
      changed = true;
      pieces.push(lengthPrefixed(result));
      if (result === null) hasNull = true;
    }
    pos = next;
  }
  if (pos !== cell.length) return null;
  if (!changed) return { value: cell, changed };
  const header = Buffer.from(cell.subarray(0, HEADER + ndim * 8));
  header.writeInt32BE(hasNull ? 1 : 0, 4);
  return { value: Buffer.concat([header, ...pieces]), changed };
}

function lengthPrefixed(value: Buffer | null): Buffer {
  const out = Buffer.allocUnsafe(4 + (value?.length ?? 0));
  out.writeInt32BE(value === null ? -1 : value.length, 0);
  value?.copy(out, 4);
  return out;
}
