/**
 * What the record keeps (issue 5, item 5): Bind parameters and statement texts run through the
 * detectors, detected spans replaced by `****` whatever the mask style (the record is read by
 * people, and a keyed hash there would only invite guessing); binary parameters shown as hex,
 * long values cut.
 */
import { ALL_DETECTORS, bytesMayContainSensitive, detectShaped, findSensitiveSpans, type DetectorSet } from './detectors.ts';
import { maskSpans, REDACTED } from './mask-text.ts';

export interface InspectedParameters {
  /** A detector fired on the value. */
  sensitive: boolean[];
  /** What may be recorded; null for a NULL parameter. */
  redacted: (string | null)[];
}

const MAX_RECORDED = 256;
const REDACT = { style: 'redact' as const, hashKey: Buffer.alloc(0) };

/** `formats` as in Bind: none = all text, one = for all, else one per parameter. */
export function inspectParameters(values: readonly (Buffer | null)[], formats: readonly number[], detectors: DetectorSet = ALL_DETECTORS): InspectedParameters {
  const sensitive: boolean[] = [];
  const redacted: (string | null)[] = [];
  values.forEach((value, i) => {
    if (value === null) {
      sensitive.push(false);
      redacted.push(null);
      return;
    }
    const binary = (formats.length === 1 ? formats[0] : formats[i]) === 1;
    const text = value.toString(binary ? 'latin1' : 'utf8');
    const spans = bytesMayContainSensitive(value, 0, value.length, detectors) ? detectShaped(text, detectors) : [];
    sensitive.push(spans.length > 0);
    if (binary) redacted.push(spans.length > 0 ? REDACTED : cut(`\\x${value.toString('hex')}`));
    else redacted.push(cut(spans.length > 0 ? maskSpans(text, spans, REDACT) : text));
  });
  return { sensitive, redacted };
}

function cut(text: string): string {
  return text.length > MAX_RECORDED ? `${text.slice(0, MAX_RECORDED)}…[${text.length} chars]` : text;
}

/** A statement's text with detected sensitive literals replaced by `****` (not cut). */
export function redactText(text: string, detectors: DetectorSet = ALL_DETECTORS): string {
  const spans = findSensitiveSpans(text, detectors);
  return spans.length === 0 ? text : maskSpans(text, spans, REDACT);
}
