/**
 * Masking a DataRow message body in place of the original (protocol-message-formats: DataRow is
 * Int16 column count, then per column Int32 length, −1 for NULL, and that many bytes). Columns the
 * plan passes are skipped by their length alone; only 'detect' and 'mask' cells are looked at,
 * and a new body is built only when some cell changed. The same tuple layout is used by binary
 * COPY, which shares `maskTuple`.
 */
import { KEEP, maskDetectedValue, maskWholeValue } from './mask-value.ts';
import type { ColumnPlan, MaskContext, ResultPlan } from './result-plan.ts';

/** Flat triples: start of the cell's length word, end of the cell, replacement (null = SQL NULL). */
export type Replacements = Array<number | Buffer | null>;

const EXTRA_COLUMN: ColumnPlan = { action: 'mask', shape: { kind: 'other' }, format: 1 };

function readInt32(buf: Buffer, at: number): number {
  return (buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!;
}

/**
 * Walks `count` cells from `pos`, noting replacements; returns the position after the tuple.
 * Throws on a truncated tuple: the framer handed over a broken message, and nothing half-masked
 * may go out.
 */
export function maskTuple(buf: Buffer, pos: number, count: number, plan: ResultPlan, ctx: MaskContext, out: Replacements): number {
  const columns = plan.columns;
  const rules = ctx.rules;
  for (let i = 0; i < count; i += 1) {
    if (pos + 4 > buf.length) throw new RangeError('DataRow truncated: column length missing');
    const length = readInt32(buf, pos);
    const start = pos;
    pos += 4;
    if (length < 0) continue;
    const end = pos + length;
    if (end > buf.length) throw new RangeError('DataRow truncated: column value cut short');
    // Columns beyond the RowDescription cannot be judged: masked to NULL (fail closed).
    const column = columns[i] ?? EXTRA_COLUMN;
    if (column.action !== 'pass') {
      const cell = buf.subarray(pos, end);
      const result = column.action === 'mask' ? maskWholeValue(cell, column.shape, column.format, rules) : maskDetectedValue(cell, column.shape, column.format, rules);
      if (result !== KEEP) {
        out.push(start, end, result);
        ctx.maskedCells += 1;
      }
    }
    pos = end;
  }
  return pos;
}

/** `buf` with the noted cells replaced (length words rewritten). */
export function applyReplacements(buf: Buffer, replacements: Replacements): Buffer {
  let size = buf.length;
  for (let k = 0; k < replacements.length; k += 3) {
    const value = replacements[k + 2] as Buffer | null;
    size += 4 + (value?.length ?? 0) - ((replacements[k + 1] as number) - (replacements[k] as number));
  }
  const out = Buffer.allocUnsafe(size);
  let from = 0;
  let to = 0;
  for (let k = 0; k < replacements.length; k += 3) {
    const start = replacements[k] as number;
    const end = replacements[k + 1] as number;
    const value = replacements[k + 2] as Buffer | null;
    to += buf.copy(out, to, from, start);
    out.writeInt32BE(value === null ? -1 : value.length, to);
    to += 4;
    if (value) to += value.copy(out, to);
    from = end;
  }
  buf.copy(out, to, from);
  return out;
}

/**
 * The masked DataRow body, or null when nothing changed (forward the original bytes). Masked
 * cells are counted in `ctx.maskedCells`.
 */
export function maskDataRow(body: Buffer, plan: ResultPlan, ctx: MaskContext): Buffer | null {
  if (!plan.needsRowWork && body.length >= 2 && ((body[0]! << 8) | body[1]!) <= plan.columns.length) return null;
  if (body.length < 2) throw new RangeError('DataRow truncated: column count missing');
  const count = (body[0]! << 8) | body[1]!;
  const replacements: Replacements = [];
  maskTuple(body, 2, count, plan, ctx, replacements);
  return replacements.length === 0 ? null : applyReplacements(body, replacements);
}
