/**
 * Other readings of one line, so that a secret written in a disguise is still seen by the same
 * rules: JSON/notebook escapes undone (twice, for escaped JSON inside JSON), string concatenation
 * joined (`"sk-ant-" + "api03…"`), %XX decoded, and base64 or hex runs decoded when they decode to
 * text. Each view maps its offsets back to the line, so a finding keeps its real column.
 */

export type ViewKind = 'escaped' | 'concatenated' | 'url-encoded' | 'base64' | 'hex';

export interface TextView {
  kind: ViewKind;
  text: string;
  /** Offset in the source of the character at `offset` in the view (an encoded run maps to its start). */
  toSource(offset: number): number;
  /** Offset in the source just after the view text that ends at `offset`. */
  toSourceEnd(offset: number): number;
}

/** Lines longer than this are read in windows of this size for views (overlapping by VIEW_OVERLAP). */
export const VIEW_WINDOW = 65_536;
export const VIEW_OVERLAP = 4_096;
const MIN_ENCODED_RUN = 16;
const MAX_ENCODED_RUN = 65_536;

/** Cheap test: could an escaped, concatenated or URL-encoded view of this text differ from it? */
export const VIEW_TRIGGER = /\\(?:["'\\/bfnrtu]|x[0-9a-fA-F]{2})|(["'`])[ \t]*(?:\+|\.\.?|\|\||&)[ \t]*\1|(["'`])[ \t]+\2|%[0-9A-Fa-f]{2}/g;

const ESCAPE = /\\(?:["'\\/bfnrt]|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2})/;
const CONCAT = /(["'`])[ \t]*(?:\+|\.\.?|\|\||&)[ \t]*\1|(["'`])[ \t]+\2/g;
const PERCENT = /%[0-9A-Fa-f]{2}/;
const BASE64_RUN = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}/g;
const HEX_RUN = /(?<![0-9A-Za-z])(?:[0-9a-fA-F]{2}){10,}(?![0-9A-Za-z])/g;

/** Escaped, concatenated and URL-encoded readings of one line (or window of a long line). */
export function buildViews(source: string): TextView[] {
  const views: TextView[] = [];
  if (ESCAPE.test(source)) {
    const once = unescapeString(source);
    const twice = ESCAPE.test(once.text) ? unescapeString(once.text) : undefined;
    views.push(mapped('escaped', twice ? twice.text : once.text, twice ? compose(once.map, twice.map) : once.map));
  }
  CONCAT.lastIndex = 0;
  if (CONCAT.test(source)) {
    const joined = joinConcatenation(source);
    if (joined.text !== source) views.push(mapped('concatenated', joined.text, joined.map));
  }
  if (PERCENT.test(source)) {
    const decoded = percentDecode(source);
    views.push(mapped('url-encoded', decoded.text, decoded.map));
  }
  return views;
}

/**
 * Base64 and hex runs of `text` that decode to text, as views mapped onto the whole run. Runs never
 * span lines, so this is done once over a chunk rather than line by line.
 */
export function buildDecodedViews(text: string): TextView[] {
  return [...decodedRuns(text, BASE64_RUN, 'base64'), ...decodedRuns(text, HEX_RUN, 'hex')];
}

interface Mapped {
  text: string;
  /** map[i] = source offset of view character i; map[text.length] = source length. */
  map: Int32Array;
}

function mapped(kind: ViewKind, text: string, map: Int32Array): TextView {
  return {
    kind,
    text,
    toSource: (offset) => map[Math.min(offset, map.length - 1)]!,
    toSourceEnd: (offset) => (offset <= 0 ? map[0]! : map[Math.min(offset - 1, map.length - 2)]! + 1),
  };
}

function compose(first: Int32Array, second: Int32Array): Int32Array {
  const out = new Int32Array(second.length);
  for (let i = 0; i < second.length; i += 1) out[i] = first[second[i]!]!;
  return out;
}

class MappedBuilder {
  private readonly parts: string[] = [];
  private readonly offsets: number[] = [];
  push(text: string, sourceOffset: number): void {
    this.parts.push(text);
    for (let i = 0; i < text.length; i += 1) this.offsets.push(sourceOffset);
  }
  copy(source: string, from: number, to: number): void {
    this.parts.push(source.slice(from, to));
    for (let i = from; i < to; i += 1) this.offsets.push(i);
  }
  done(sourceLength: number): Mapped {
    return { text: this.parts.join(''), map: Int32Array.from([...this.offsets, sourceLength]) };
  }
}

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '"': '"', "'": "'", '\\': '\\', '/': '/' };

function unescapeString(source: string): Mapped {
  const out = new MappedBuilder();
  let copied = 0;
  const pattern = new RegExp(ESCAPE.source, 'g');
  for (const match of source.matchAll(pattern)) {
    const at = match.index;
    out.copy(source, copied, at);
    const code = match[0].slice(1);
    const ch = code.length === 1 ? SIMPLE_ESCAPES[code]! : String.fromCharCode(Number.parseInt(code.slice(1), 16));
    out.push(ch, at);
    copied = at + match[0].length;
  }
  out.copy(source, copied, source.length);
  return out.done(source.length);
}

function joinConcatenation(source: string): Mapped {
  const out = new MappedBuilder();
  let copied = 0;
  CONCAT.lastIndex = 0;
  for (const match of source.matchAll(CONCAT)) {
    out.copy(source, copied, match.index);
    copied = match.index + match[0].length;
  }
  out.copy(source, copied, source.length);
  return out.done(source.length);
}

function percentDecode(source: string): Mapped {
  const out = new MappedBuilder();
  let copied = 0;
  for (const match of source.matchAll(/%([0-9A-Fa-f]{2})/g)) {
    out.copy(source, copied, match.index);
    out.push(String.fromCharCode(Number.parseInt(match[1]!, 16)), match.index);
    copied = match.index + 3;
  }
  out.copy(source, copied, source.length);
  return out.done(source.length);
}

/** Runs that decode to text (at least 90 % printable ASCII) become views mapped onto the whole run. */
function decodedRuns(source: string, pattern: RegExp, kind: 'base64' | 'hex'): TextView[] {
  const views: TextView[] = [];
  pattern.lastIndex = 0;
  for (const match of source.matchAll(pattern)) {
    const run = match[0];
    if (run.length < MIN_ENCODED_RUN || run.length > MAX_ENCODED_RUN) continue;
    if (kind === 'base64' && !couldBeBase64OfText(run)) continue;
    const bytes = Buffer.from(run, kind);
    if (bytes.length < 8 || !isMostlyPrintable(bytes)) continue;
    const start = match.index;
    const end = start + run.length;
    views.push({ kind, text: bytes.toString('latin1'), toSource: () => start, toSourceEnd: () => end });
  }
  return views;
}

/**
 * In base64 of ASCII, each group of 4 characters starts with the top 6 bits of a byte below 0x80,
 * so the 1st, 5th, 9th… character is one of A–Z, a–f. Checked before decoding: identifiers and
 * paths rarely pass, and nothing is allocated for them.
 */
function couldBeBase64OfText(run: string): boolean {
  for (let i = 0; i < run.length - 3; i += 4) {
    const c = run.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

function isMostlyPrintable(bytes: Buffer): boolean {
  let printable = 0;
  for (const b of bytes) if ((b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d) printable += 1;
  return printable >= bytes.length * 0.9;
}

/**
 * A string concatenated over several lines (`"abc" +` newline `"def"`), read as one: the text of
 * `lines[from]` up to its closing quote, then each continuation after its opening quote. Offsets
 * past the first line map to its end, so a finding lands on the line where the secret starts.
 */
export function joinConcatenatedLines(lines: readonly string[], from: number, maxLines = 8): TextView | undefined {
  const first = lines[from];
  if (first === undefined || first.length > VIEW_WINDOW) return undefined;
  const tail = /(["'`])[ \t]*(\+|\.\.?|\|\||&|\\)?[ \t]*$/.exec(first);
  if (!tail) return undefined;
  const quote = tail[1]!;
  let text = first.slice(0, tail.index);
  let last = from;
  for (let i = from + 1; i < lines.length && i <= from + maxLines; i += 1) {
    const next = lines[i]!;
    const head = new RegExp(`^[ \\t]*(\\+|\\.\\.?|\\|\\||&)?[ \\t]*${quote === '`' ? '`' : quote}`).exec(next);
    // An operator on either side, or none at all (Python's and C's implicit concatenation).
    if (!head || next.length > VIEW_WINDOW) break;
    const rest = next.slice(head[0].length);
    const more = /(["'`])[ \t]*(\+|\.\.?|\|\||&|\\)?[ \t]*$/.exec(rest);
    text += more ? rest.slice(0, more.index) : rest;
    last = i;
    if (!more) break;
  }
  if (last === from) return undefined;
  const firstLength = tail.index;
  return {
    kind: 'concatenated',
    text,
    toSource: (offset) => Math.min(offset, firstLength),
    toSourceEnd: (offset) => Math.min(offset, first.length),
  };
}
