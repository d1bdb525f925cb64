/**
 * The lines of one ScanInput as chunks of text: lines joined by '\n' (a gap in the line numbers
 * becomes a line holding only NUL, so a PEM block is never glued across a hunk boundary), at most about
 * CHUNK_CHARS each, never cut inside a BEGIN…END block. A chunk is the unit of work between two
 * checks of the time limit, and the content secretlint lints in one call.
 */
import type { ScanInput } from './types.ts';

export const CHUNK_CHARS = 65_536;
/** secretlint sees lines longer than this as overlapping windows, one per line of its content. */
export const SECRETLINT_WINDOW = 8_192;
/** secretlint lints a chunk in pieces of about this size (see secretlintPieces). */
export const SECRETLINT_PIECE = 16_384;
const SECRETLINT_STEP = 7_168;
/** The line standing for a gap in the line numbers: a NUL, which no rule and no PEM body accepts. */
export const GAP = '\u0000';
/** A BEGIN without END stops holding the chunk open after this many lines. */
const MAX_BLOCK_LINES = 200;

export interface ChunkEntry {
  /** Index into ScanInput.lines, or -1 for the line standing for a gap (GAP). */
  lineIndex: number;
  text: string;
}

export interface Chunk {
  entries: ChunkEntry[];
  text: string;
  /** Offset in `text` where each entry starts. */
  starts: number[];
}

export function* chunksOf(input: ScanInput): Generator<Chunk> {
  let entries: ChunkEntry[] = [];
  let size = 0;
  let openBlockLines = -1;
  for (let i = 0; i < input.lines.length; i += 1) {
    const { line, text } = input.lines[i]!;
    if (typeof text !== 'string') throw new TypeError(`line ${line} of ${input.path} has no text`);
    const previous = input.lines[i - 1];
    if (previous && line !== previous.line + 1 && entries.length > 0) entries.push({ lineIndex: -1, text: GAP });
    entries.push({ lineIndex: i, text });
    size += text.length + 1;
    if (text.includes('-----BEGIN')) openBlockLines = 0;
    else if (openBlockLines >= 0) openBlockLines += 1;
    if (text.includes('-----END') || openBlockLines > MAX_BLOCK_LINES) openBlockLines = -1;
    if (size >= CHUNK_CHARS && openBlockLines < 0) {
      yield makeChunk(entries);
      entries = [];
      size = 0;
    }
  }
  if (entries.length > 0) yield makeChunk(entries);
}

function makeChunk(entries: ChunkEntry[]): Chunk {
  const starts: number[] = [];
  let offset = 0;
  for (const entry of entries) {
    starts.push(offset);
    offset += entry.text.length + 1;
  }
  return { entries, text: entries.map((entry) => entry.text).join('\n'), starts };
}

/** Index of the entry holding `offset`. */
export function entryAt(starts: readonly number[], offset: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid]! <= offset) low = mid;
    else high = mid - 1;
  }
  return low;
}

export interface WindowedContent {
  text: string;
  /** Maps an offset in `text` to an entry of the chunk and a column in it. */
  locate(offset: number): { entry: number; column: number };
}

/**
 * The chunk as secretlint should see it: long lines cut into overlapping windows of their own, and
 * the whole cut into pieces of about SECRETLINT_PIECE characters (never inside a BEGIN…END block).
 * @secretlint/core drops duplicate messages by comparing every message with every later one, so a
 * call's cost grows with the square of what it reports: 10,000 AWS key ids in one call take seconds,
 * in 16 KB pieces tens of milliseconds.
 */
export function secretlintPieces(chunk: Chunk): WindowedContent[] {
  const pieces: WindowedContent[] = [];
  let texts: string[] = [];
  let starts: number[] = [];
  let origin: Array<{ entry: number; base: number }> = [];
  let offset = 0;
  let openBlockLines = -1;
  const flush = () => {
    if (texts.length === 0) return;
    const pieceStarts = starts;
    const pieceOrigin = origin;
    pieces.push({ text: texts.join('\n'), locate: (at) => locateIn(pieceStarts, at, (k) => pieceOrigin[k]!) });
    texts = [];
    starts = [];
    origin = [];
    offset = 0;
  };
  const add = (text: string, entry: number, base: number) => {
    texts.push(text);
    starts.push(offset);
    origin.push({ entry, base });
    offset += text.length + 1;
    if (offset >= SECRETLINT_PIECE && openBlockLines < 0) flush();
  };
  chunk.entries.forEach((entry, k) => {
    const { text } = entry;
    if (text.includes('-----BEGIN')) openBlockLines = 0;
    else if (openBlockLines >= 0) openBlockLines += 1;
    if (text.includes('-----END') || openBlockLines > MAX_BLOCK_LINES) openBlockLines = -1;
    if (text.length <= SECRETLINT_WINDOW) return add(text, k, 0);
    for (let base = 0; ; base += SECRETLINT_STEP) {
      add(text.slice(base, base + SECRETLINT_WINDOW), k, base);
      if (base + SECRETLINT_WINDOW >= text.length) break;
    }
  });
  flush();
  return pieces;
}

function locateIn(starts: readonly number[], offset: number, origin: (k: number) => { entry: number; base: number }) {
  const k = entryAt(starts, offset);
  const { entry, base } = origin(k);
  return { entry, column: base + offset - starts[k]! };
}
