/**
 * The three mask styles applied to text: `redact` (`****`), `partial` (`****` and the last four
 * characters, only when at least four others stay hidden) and `hash` (a keyed HMAC-SHA256, the
 * first 16 hex digits: the same value always masks the same way, so joins and group-bys over a
 * masked column still line up, and without the key nobody can test guesses against it).
 */
import { createHmac } from 'node:crypto';
import type { MaskStyle, SensitiveSpan } from './types.ts';

export interface StyleContext {
  style: MaskStyle;
  hashKey: Buffer;
}

export const REDACTED = '****';
const PARTIAL_SHOWN = 4;

export function keyedHash(key: Buffer, data: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

export function hashHex(key: Buffer, data: string | Uint8Array): string {
  return keyedHash(key, data).toString('hex', 0, 8);
}

/** The last four characters (code points) when the value is long enough to keep four hidden. */
export function partialTail(value: string): string {
  // Code points, so a surrogate pair is never cut in half.
  const chars = Array.from(value);
  return chars.length >= PARTIAL_SHOWN * 2 ? chars.slice(-PARTIAL_SHOWN).join('') : '';
}

/** A whole text value masked in the configured style. */
export function maskString(value: string, ctx: StyleContext): string {
  switch (ctx.style) {
    case 'redact':
      return REDACTED;
    case 'partial':
      return REDACTED + partialTail(value);
    case 'hash':
      return hashHex(ctx.hashKey, value);
  }
}

/** `text` with each span replaced by its mask; spans sorted and disjoint (mergeSpans). */
export function maskSpans(text: string, spans: readonly SensitiveSpan[], ctx: StyleContext): string {
  let out = '';
  let at = 0;
  for (const span of spans) {
    out += text.slice(at, span.start) + maskString(text.slice(span.start, span.end), ctx);
    at = span.end;
  }
  return out + text.slice(at);
}
