/**
 * Masking one cell so that it stays a legal value of its type, in the text format (0) and the
 * binary format (1): `maskWholeValue` for a sensitive column, `maskDetectedValue` for a value
 * where a detector fires (only the detected spans are masked where the type allows it).
 *
 * Types without a masked form we can write (composites, ranges, geometric types, enums, unknown
 * user types) become NULL: NULL is a legal value of every type, in both formats.
 */
import { bytesMayContainSensitive, detectShaped, type DetectorSet } from './detectors.ts';
import { isScalarKind, maskScalarBinary, maskScalarText } from './mask-scalar.ts';
import { maskSpans, maskString, REDACTED, type StyleContext } from './mask-text.ts';
import { rewriteArrayBinary, rewriteArrayText } from './pg-array.ts';
import type { TypeShape } from './value-kinds.ts';

/** Returned by maskDetectedValue when nothing was found: the caller keeps the original bytes. */
export const KEEP: unique symbol = Symbol('keep');
export type CellResult = Buffer | null | typeof KEEP;

export interface ValueMaskContext extends StyleContext {
  detectors: DetectorSet;
}

const REDACTED_BYTES = Buffer.from(REDACTED);

/** A sensitive column's value, masked whole. Null means SQL NULL. */
export function maskWholeValue(cell: Buffer, shape: TypeShape, format: 0 | 1, ctx: StyleContext): Buffer | null {
  const kind = shape.kind;
  if (isScalarKind(kind)) return format === 0 ? Buffer.from(maskScalarText(cell.toString('latin1'), kind, ctx)) : maskScalarBinary(cell, kind, ctx);
  switch (kind) {
    case 'text':
      return ctx.style === 'redact' ? REDACTED_BYTES : Buffer.from(maskString(cell.toString('utf8'), ctx));
    case 'json':
    case 'jsonb': {
      const versioned = kind === 'jsonb' && format === 1;
      return encodeJson(JSON.stringify(maskJsonDocument(cell.toString('utf8', versioned ? 1 : 0), ctx)), versioned);
    }
    case 'bytea': {
      const bytes = format === 0 ? decodeByteaText(cell.toString('latin1')) : cell;
      const masked = Buffer.from(maskString(bytes.toString('latin1'), ctx), 'latin1');
      return format === 0 ? encodeByteaText(masked) : masked;
    }
    case 'array':
      return maskWholeArray(cell, shape.element!, format, ctx);
    default:
      return null;
  }
}

/**
 * A JSON document masked whole, as a JSON string. Partial keeps the tail of a document that is a
 * string (`"4111…1111"`), never the tail of an object's text; hash is over the document's text.
 */
function maskJsonDocument(text: string, ctx: StyleContext): string {
  if (ctx.style !== 'partial') return maskString(text, ctx);
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'string' ? maskString(value, ctx) : REDACTED;
  } catch {
    return REDACTED;
  }
}

function maskWholeArray(cell: Buffer, element: TypeShape, format: 0 | 1, ctx: StyleContext): Buffer | null {
  if (format === 0) {
    if (!maskableElement(element)) return null;
    const rewritten = rewriteArrayText(cell.toString('utf8'), (value) => maskWholeValue(Buffer.from(value), element, 0, ctx)?.toString('utf8') ?? null);
    if (rewritten === null) return null;
    return rewritten.changed ? Buffer.from(rewritten.value) : cell; // `{}` or only NULLs: nothing to hide
  }
  const rewritten = rewriteArrayBinary(cell, (value) => maskWholeValue(value, element, 1, ctx));
  return rewritten === null ? null : rewritten.value;
}

/** Element types whose text form we can rewrite inside `{…}` (others null the whole array). */
function maskableElement(element: TypeShape): boolean {
  return element.kind !== 'other' && element.kind !== 'opaque-scalar' && element.kind !== 'array';
}

/** A value a detector may find something in: masked spans, NULL, or KEEP when nothing was found. */
export function maskDetectedValue(cell: Buffer, shape: TypeShape, format: 0 | 1, ctx: ValueMaskContext): CellResult {
  switch (shape.kind) {
    case 'text': {
      if (!bytesMayContainSensitive(cell, 0, cell.length, ctx.detectors)) return KEEP;
      const masked = maskedText(cell.toString('utf8'), ctx);
      return masked === undefined ? KEEP : Buffer.from(masked);
    }
    case 'json':
    case 'jsonb': {
      const offset = shape.kind === 'jsonb' && format === 1 ? 1 : 0;
      if (!bytesMayContainSensitive(cell, offset, cell.length, ctx.detectors)) return KEEP;
      const masked = maskedText(cell.toString('utf8', offset), ctx);
      if (masked === undefined) return KEEP;
      // A partial mask can cut a JSON escape in two; a document that no longer parses is masked whole.
      return isJson(masked) ? encodeJson(masked, offset === 1) : maskWholeValue(cell, shape, format, ctx);
    }
    case 'bytea': {
      const bytes = format === 0 ? decodeByteaText(cell.toString('latin1')) : cell;
      if (!bytesMayContainSensitive(bytes, 0, bytes.length, ctx.detectors)) return KEEP;
      const masked = maskedText(bytes.toString('latin1'), ctx);
      if (masked === undefined) return KEEP;
      const out = Buffer.from(masked, 'latin1');
      return format === 0 ? encodeByteaText(out) : out;
    }
    case 'array':
      return maskDetectedArray(cell, shape.element!, format, ctx);
    case 'other': {
      // Composites, records, tsvector, user types: we cannot rewrite part of one, so a hit nulls it.
      if (!bytesMayContainSensitive(cell, 0, cell.length, ctx.detectors)) return KEEP;
      return maskedText(cell.toString(format === 0 ? 'utf8' : 'latin1'), ctx) === undefined ? KEEP : null;
    }
    default:
      return KEEP;
  }
}

function maskDetectedArray(cell: Buffer, element: TypeShape, format: 0 | 1, ctx: ValueMaskContext): CellResult {
  if (!bytesMayContainSensitive(cell, 0, cell.length, ctx.detectors)) return KEEP;
  if (format === 0) {
    if (element.kind === 'array') return KEEP;
    const rewritten = rewriteArrayText(cell.toString('utf8'), (value) => {
      const result = maskDetectedValue(Buffer.from(value), element, 0, ctx);
      return result === KEEP ? undefined : (result?.toString('utf8') ?? null);
    });
    if (rewritten === null) return null; // unreadable: cannot tell what it holds
    return rewritten.changed ? Buffer.from(rewritten.value) : KEEP;
  }
  const rewritten = rewriteArrayBinary(cell, (value) => {
    const result = maskDetectedValue(value, element, 1, ctx);
    return result === KEEP ? undefined : result;
  });
  if (rewritten === null) return null;
  return rewritten.changed ? rewritten.value : KEEP;
}

/** The text with detected spans masked, or undefined when no detector fires. */
export function maskedText(text: string, ctx: ValueMaskContext): string | undefined {
  const spans = detectShaped(text, ctx.detectors);
  return spans.length === 0 ? undefined : maskSpans(text, spans, ctx);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function encodeJson(text: string, versioned: boolean): Buffer {
  if (!versioned) return Buffer.from(text);
  const body = Buffer.from(text);
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = 1; // jsonb binary format version
  body.copy(out, 1);
  return out;
}

/** bytea text output: `\x` + hex (bytea_output = hex) or the escape format (backslash-octal). */
export function decodeByteaText(text: string): Buffer {
  if (text.startsWith('\\x')) return Buffer.from(text.slice(2), 'hex');
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 92 && text[i + 1] === '\\') {
      bytes.push(92);
      i += 1;
    } else if (c === 92 && /^[0-3][0-7]{2}$/.test(text.slice(i + 1, i + 4))) {
      bytes.push(parseInt(text.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(c & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** Hex format, which bytea input accepts whatever bytea_output the session uses. */
export function encodeByteaText(bytes: Buffer): Buffer {
  return Buffer.from(`\\x${bytes.toString('hex')}`, 'latin1');
}
