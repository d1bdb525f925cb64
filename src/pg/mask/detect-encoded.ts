/**
 * Sensitive values hidden in an encoding: runs of base64 (standard or URL-safe) or hex, and
 * PostgreSQL's bytea text output `\x…`, are decoded and handed back when they decode to text, so
 * the plain detectors can look inside. The span reported for a hit is the whole encoded run.
 */

const MIN_RUN = 16;
const MAX_RUN = 65_536;
const RUN = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}/g;
const HEX = /^(?:[0-9a-fA-F]{2})+$/;

export interface DecodedRun {
  start: number;
  end: number;
  text: string;
}

/** Base64 and hex runs of `text` that decode to readable text. */
export function decodeEncodedRuns(text: string): DecodedRun[] {
  const runs: DecodedRun[] = [];
  if (text.length > 2 && text.charCodeAt(0) === 92 && text.charCodeAt(1) === 120) {
    // bytea hex output: `\x` then hex digits, the whole value
    const hex = text.slice(2);
    if (HEX.test(hex)) {
      const decoded = readable(Buffer.from(hex, 'hex'));
      if (decoded !== null) runs.push({ start: 0, end: text.length, text: decoded });
      return runs;
    }
  }
  RUN.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = RUN.exec(text)) !== null) {
    const run = match[0];
    if (run.length < MIN_RUN || run.length > MAX_RUN) continue;
    const bytes = run.length >= 20 && HEX.test(run) ? Buffer.from(run, 'hex') : Buffer.from(run, /[-_]/.test(run) ? 'base64url' : 'base64');
    const decoded = readable(bytes);
    if (decoded !== null) runs.push({ start: match.index, end: match.index + run.length, text: decoded });
  }
  return runs;
}

/**
 * The bytes as text when they read as text: at most 5% control bytes and, decoded as UTF-8, at
 * most 5% invalid sequences; null for binary noise, which is what most random-looking runs decode to.
 */
export function readable(bytes: Uint8Array): string | null {
  if (bytes.length < 6) return null;
  let control = 0;
  let high = 0;
  for (let i = 0; i < bytes.length; i += 1) {
    const b = bytes[i]!;
    if ((b < 0x20 && b !== 9 && b !== 10 && b !== 13) || b === 0x7f) control += 1;
    else if (b >= 0x80) high += 1;
  }
  if (control > bytes.length * 0.05) return null;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
  if (high > 0) {
    let invalid = 0;
    for (let i = 0; i < text.length; i += 1) if (text.charCodeAt(i) === 0xfffd) invalid += 1;
    if (invalid > text.length * 0.05) return null;
  }
  return text;
}
