/**
 * Value detectors, the last net over every text value leaving the gateway (issue 5, item 4):
 * emails, card numbers, US SSNs, JWTs, password hashes and the scan module's secrets, also inside
 * base64/hex/bytea encodings.
 *
 * Most values are short, harmless text, so one pass over the characters (or the raw bytes of a
 * cell, before any decoding) computes a shape — is there an `@`, a `$`, how many digits, how long
 * is the longest token run — and only the detectors the shape allows are run. For a 20-character
 * name that pass is all the work there is.
 */
import { findJwts, findPasswordHashes, findSecrets } from './detect-credentials.ts';
import { decodeEncodedRuns } from './detect-encoded.ts';
import { findCardNumbers, findEmails, findSsns } from './detect-pii.ts';
import type { DetectorName, SensitiveSpan } from './types.ts';

/** Enabled detectors as a bit set (bit i = DETECTOR_NAMES[i]). */
export type DetectorSet = number;

const BIT: Record<DetectorName, number> = { email: 1, card: 2, ssn: 4, jwt: 8, 'password-hash': 16, secret: 32 };
export const ALL_DETECTORS: DetectorSet = 63;
export const NO_DETECTORS: DetectorSet = 0;

export function detectorSet(detectors: 'all' | readonly DetectorName[]): DetectorSet {
  if (detectors === 'all') return ALL_DETECTORS;
  let set = 0;
  for (const name of detectors) set |= BIT[name];
  return set;
}

/** What one pass over a value tells the prefilter. */
interface Shape {
  at: boolean;
  dollar: boolean;
  /** '=', ':', '>' or '-': the separators of assignments, URLs and command-line flags. */
  separator: boolean;
  /**
   * Most digits in one run of digits joined by spaces or dashes: cards (13+) and SSNs (9) live in
   * such runs, so a hex digest with 20 digits scattered between letters needs neither finder.
   */
  digitRun: number;
  /** Digits in the run being read. */
  currentDigits: number;
  /** Longest run of base64/base64url characters (which also covers hex and JWT segments). */
  run: number;
  /** The run being read. */
  current: number;
  length: number;
}

/**
 * The shape of the value the prefilter read last. One module-level object rather than a new one
 * per value: the prefilter runs on every text cell of every row, and must not allocate. The
 * contract that follows: detectShaped(text) reads this shape, so it must come right after a
 * prefilter call (mayContainSensitive / bytesMayContainSensitive) on the same value.
 */
const shape: Shape = { at: false, dollar: false, separator: false, digitRun: 0, currentDigits: 0, run: 0, current: 0, length: 0 };

function isRunChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 43 || c === 47 || c === 95 || c === 45 || c === 61;
}

function note(c: number): void {
  if (c >= 48 && c <= 57) {
    shape.currentDigits += 1;
    if (shape.currentDigits > shape.digitRun) shape.digitRun = shape.currentDigits;
  } else {
    // Spaces and dashes join digit groups; anything else ends the run.
    if (c !== 32 && c !== 45) shape.currentDigits = 0;
    if (c === 64) shape.at = true;
    else if (c === 36) shape.dollar = true;
    else if (c === 61 || c === 58 || c === 62 || c === 45) shape.separator = true;
  }
  if (isRunChar(c)) {
    shape.current += 1;
    if (shape.current > shape.run) shape.run = shape.current;
  } else {
    shape.current = 0;
  }
}

function reset(length: number): void {
  shape.at = shape.dollar = shape.separator = false;
  shape.digitRun = shape.currentDigits = shape.run = shape.current = 0;
  shape.length = length;
}

/** The shape allows at least one enabled detector (reads the module-level `shape`). */
function shapeAllows(enabled: DetectorSet): boolean {
  if (shape.length < 6) return false;
  return (
    ((enabled & BIT.email) !== 0 && shape.at) ||
    ((enabled & BIT.card) !== 0 && shape.digitRun >= 13) ||
    ((enabled & BIT.ssn) !== 0 && shape.digitRun >= 9) ||
    ((enabled & BIT['password-hash']) !== 0 && shape.dollar) ||
    ((enabled & BIT.secret) !== 0 && shape.length >= 8 && (shape.separator || shape.run >= 12)) ||
    (enabled !== 0 && shape.run >= 16) // JWTs and encoded values
  );
}

/** Cheap test on a string: could any enabled detector fire? */
export function mayContainSensitive(text: string, enabled: DetectorSet): boolean {
  if (enabled === 0) return false;
  reset(text.length);
  for (let i = 0; i < text.length; i += 1) note(text.charCodeAt(i));
  return shapeAllows(enabled);
}

/** Cheap test on the raw UTF-8 bytes of a cell, so most cells are never decoded. */
export function bytesMayContainSensitive(bytes: Uint8Array, start: number, end: number, enabled: DetectorSet): boolean {
  if (enabled === 0) return false;
  reset(end - start);
  for (let i = start; i < end; i += 1) note(bytes[i]!);
  return shapeAllows(enabled);
}

/** Every sensitive span of `text` found by the enabled detectors, sorted and non-overlapping. */
export function findSensitiveSpans(text: string, enabled: DetectorSet): SensitiveSpan[] {
  if (!mayContainSensitive(text, enabled)) return [];
  return detectShaped(text, enabled);
}

/** Like findSensitiveSpans, right after a prefilter call on the same value said it may contain something. */
export function detectShaped(text: string, enabled: DetectorSet): SensitiveSpan[] {
  const spans: SensitiveSpan[] = [];
  runPlain(text, enabled, spans);
  if (shape.run >= 16 || text.startsWith('\\x')) {
    for (const run of decodeEncodedRuns(text)) {
      const inner: SensitiveSpan[] = [];
      if (mayContainSensitive(run.text, enabled)) runPlain(run.text, enabled, inner);
      if (inner.length > 0) spans.push({ detector: inner[0]!.detector, start: run.start, end: run.end });
    }
  }
  return mergeSpans(spans);
}

export function containsSensitive(text: string, enabled: DetectorSet): boolean {
  return findSensitiveSpans(text, enabled).length > 0;
}

/** Runs the detectors the current shape allows (the shape must be of `text`). */
function runPlain(text: string, enabled: DetectorSet, out: SensitiveSpan[]): void {
  const { at, dollar, digitRun, separator, run, length } = shape;
  const add = (detector: DetectorName, found: Array<[number, number]>) => {
    for (const [start, end] of found) out.push({ detector, start, end });
  };
  if (enabled & BIT.email && at) add('email', findEmails(text));
  if (enabled & BIT.card && digitRun >= 13) add('card', findCardNumbers(text));
  if (enabled & BIT.ssn && digitRun >= 9) add('ssn', findSsns(text));
  if (enabled & BIT.jwt && run >= 16) add('jwt', findJwts(text));
  if (enabled & BIT['password-hash'] && dollar) add('password-hash', findPasswordHashes(text));
  if (enabled & BIT.secret && length >= 8 && (separator || run >= 12)) add('secret', findSecrets(text));
}

/** Sorted by start; overlapping or touching spans merged (the earlier span's detector names it). */
export function mergeSpans(spans: SensitiveSpan[]): SensitiveSpan[] {
  if (spans.length < 2) return spans;
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: SensitiveSpan[] = [{ ...spans[0]! }];
  for (let i = 1; i < spans.length; i += 1) {
    const span = spans[i]!;
    const last = merged[merged.length - 1]!;
    if (span.start <= last.end) last.end = Math.max(last.end, span.end);
    else merged.push({ ...span });
  }
  return merged;
}

