/**
 * The secret scanner: our keyword-anchored rules and PEM detector over each chunk and over the
 * decoded/unescaped views of its lines, plus secretlint's preset over the chunk; then one finding per
 * secret per line (the most specific rule wins where findings overlap), allow-lists applied.
 *
 * Fails closed: anything thrown, and running past `timeoutMs` (checked between chunks, so a scan
 * overruns by at most one chunk's work), rejects with PortcullisError('SCAN_FAILED').
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { PortcullisError, isPortcullisError } from '../errors.ts';
import type { Candidate } from './candidate.ts';
import { chunksOf, entryAt, secretlintPieces, type Chunk } from './chunks.ts';
import { buildKeywordIndex, type KeywordHits, type KeywordIndex } from './keyword-index.ts';
import { fingerprintSecret, redactSecret } from './redact.ts';
import { findPrivateKeys, patternRules } from './rules/index.ts';
import { createSecretlintEngine, SECRETLINT_KEYWORDS, type SecretlintEngine } from './secretlint/engine.ts';
import type { ScanInput, SecretFinding, SecretScanner, SecretScannerOptions } from './types.ts';
import { buildDecodedViews, buildViews, joinConcatenatedLines, VIEW_OVERLAP, VIEW_TRIGGER, VIEW_WINDOW, type TextView, type ViewKind } from './views.ts';

export const ALLOW_MARKER = 'portcullis:allow-secret';

const VIA: Record<ViewKind, string> = {
  escaped: 'inside an escaped string',
  concatenated: 'split across string concatenation',
  'url-encoded': 'URL-encoded',
  base64: 'base64-encoded',
  hex: 'hex-encoded',
};

/** A candidate placed on a line of the input. */
interface Placed extends Candidate {
  lineIndex: number;
  column: number;
  endColumn: number;
  via?: ViewKind;
}

export async function createSecretScanner(options: SecretScannerOptions = {}): Promise<SecretScanner> {
  let secretlint: SecretlintEngine;
  try {
    secretlint = await createSecretlintEngine();
  } catch (error) {
    if (isPortcullisError(error)) throw error;
    throw new PortcullisError('SCAN_FAILED', 'the secret scanner could not start', { cause: error });
  }
  const index = buildKeywordIndex(patternRules, SECRETLINT_KEYWORDS);
  const allowed = new Set((options.allowFingerprints ?? []).map((f) => f.replace(/^sha256:/i, '').toLowerCase()));
  const timeoutMs = options.timeoutMs;

  return {
    async scan(input) {
      const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
      try {
        const placed: Placed[] = [];
        for (const chunk of chunksOf(input)) {
          const hits: KeywordHits = { secretlintRules: new Set() };
          placed.push(...scanChunkRules(index, chunk, hits));
          placed.push(...(await scanChunkSecretlint(secretlint, chunk, input.path, hits)));
          if (Date.now() > deadline) throw timedOut(input.path, timeoutMs!);
          await yieldToEventLoop();
        }
        return toFindings(input, placed, allowed);
      } catch (error) {
        if (isPortcullisError(error)) throw error;
        throw new PortcullisError('SCAN_FAILED', `the secret scan of ${input.path} failed, so nothing was let through`, { cause: error });
      }
    },
  };
}

function timedOut(path: string, timeoutMs: number): PortcullisError {
  return new PortcullisError('SCAN_FAILED', `the secret scan of ${path} did not finish within ${timeoutMs} ms, so nothing was let through`, {
    hint: 'push fewer or smaller changes at once, or ask an admin to raise limits.scanTimeout',
  });
}

function scanChunkRules(index: KeywordIndex, chunk: Chunk, hits: KeywordHits): Placed[] {
  const placed: Placed[] = [];
  const onChunk = (c: Candidate) => {
    const k = entryAt(chunk.starts, c.start);
    const entry = chunk.entries[k]!;
    const column = c.start - chunk.starts[k]!;
    placed.push({ ...c, lineIndex: entry.lineIndex, column, endColumn: Math.min(entry.text.length, c.end - chunk.starts[k]!) });
  };
  index.search(chunk.text, hits).forEach(onChunk);
  findPrivateKeys(chunk.text).forEach(onChunk);
  for (const view of buildDecodedViews(chunk.text)) {
    const k = entryAt(chunk.starts, view.toSource(0));
    const entry = chunk.entries[k]!;
    placed.push(...scanView(index, view, entry.lineIndex, -chunk.starts[k]!));
  }

  for (const k of linesWithViews(chunk)) {
    const entry = chunk.entries[k]!;
    for (let base = 0; base < entry.text.length; base += VIEW_WINDOW - VIEW_OVERLAP) {
      for (const view of buildViews(entry.text.slice(base, base + VIEW_WINDOW))) placed.push(...scanView(index, view, entry.lineIndex, base));
      if (base + VIEW_WINDOW >= entry.text.length) break;
    }
  }
  // Strings concatenated across lines.
  const texts = chunk.entries.map((entry) => entry.text);
  chunk.entries.forEach((entry, k) => {
    if (entry.lineIndex < 0 || !endsLikeConcatenation(entry.text)) return;
    const view = joinConcatenatedLines(texts, k);
    if (view) placed.push(...scanView(index, view, entry.lineIndex, 0));
  });
  return placed;
}

function scanView(index: KeywordIndex, view: TextView, lineIndex: number, base: number): Placed[] {
  return [...index.search(view.text), ...findPrivateKeys(view.text)].map((c) => ({
    ...c,
    lineIndex,
    column: base + view.toSource(c.start),
    endColumn: base + view.toSourceEnd(c.end),
    via: view.kind,
  }));
}

/** Entries (indexes) with something a view could decode, found in one pass over the chunk. */
function linesWithViews(chunk: Chunk): number[] {
  const found: number[] = [];
  const trigger = new RegExp(VIEW_TRIGGER.source, 'g');
  let hit: RegExpExecArray | null;
  while ((hit = trigger.exec(chunk.text)) !== null) {
    const k = entryAt(chunk.starts, hit.index);
    if (chunk.entries[k]!.lineIndex >= 0) found.push(k);
    const next = chunk.starts[k + 1];
    if (next === undefined) break;
    trigger.lastIndex = next;
  }
  return found;
}

function endsLikeConcatenation(text: string): boolean {
  const trimmed = text.trimEnd();
  const last = trimmed[trimmed.length - 1];
  if (last === undefined) return false;
  if (last === '"' || last === "'" || last === '`') return true;
  return '+.|&\\'.includes(last) && /["'`][ \t]*(?:\+|\.\.?|\|\||&|\\)$/.test(trimmed.slice(-8));
}

async function scanChunkSecretlint(engine: SecretlintEngine, chunk: Chunk, path: string, hits: KeywordHits): Promise<Placed[]> {
  if (hits.secretlintRules.size === 0 && engine.alwaysOn.length === 0) return [];
  const placed: Placed[] = [];
  for (const piece of secretlintPieces(chunk)) {
    for (const f of await engine.lint(piece.text, path, hits.secretlintRules)) {
      const { entry: k, column } = piece.locate(f.start);
      const entry = chunk.entries[k]!;
      placed.push({ ...f, lineIndex: entry.lineIndex, column, endColumn: Math.min(entry.text.length, column + (f.end - f.start)) });
    }
  }
  return placed;
}

/** One finding per secret per line; where findings overlap, the most specific rule's stays. */
function toFindings(input: ScanInput, placed: Placed[], allowed: ReadonlySet<string>): SecretFinding[] {
  placed.sort((a, b) => a.lineIndex - b.lineIndex || a.priority - b.priority || a.column - b.column);
  const findings: SecretFinding[] = [];
  let line = -1;
  let fingerprints = new Set<string>();
  let spans = new KeptSpans();
  for (const p of placed) {
    if (p.lineIndex < 0) continue;
    if (p.lineIndex !== line) {
      line = p.lineIndex;
      fingerprints = new Set();
      spans = new KeptSpans();
    }
    const fingerprint = fingerprintSecret(p.secret);
    const end = Math.max(p.endColumn, p.column + 1);
    if (fingerprints.has(fingerprint) || spans.overlaps(p.column, end)) continue;
    fingerprints.add(fingerprint);
    spans.add(p.column, end);
    const source = input.lines[p.lineIndex]!;
    if (allowed.has(fingerprint) || source.text.includes(ALLOW_MARKER)) continue;
    findings.push({
      ruleId: p.ruleId,
      message: p.via ? `${p.message} (found ${VIA[p.via]})` : p.message,
      path: input.path,
      line: source.line,
      column: p.column + 1,
      preview: redactSecret(p.secret, p.publicPrefix),
      fingerprint,
    });
  }
  return findings.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Disjoint [start, end) spans kept on one line, sorted by start: overlap tests in O(log n). */
class KeptSpans {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  overlaps(start: number, end: number): boolean {
    const i = this.firstStartAtOrAfter(end) - 1; // the last span starting before `end`
    return i >= 0 && this.ends[i]! > start;
  }

  add(start: number, end: number): void {
    const i = this.firstStartAtOrAfter(start);
    this.starts.splice(i, 0, start);
    this.ends.splice(i, 0, end);
  }

  private firstStartAtOrAfter(value: number): number {
    let low = 0;
    let high = this.starts.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.starts[mid]! < value) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
