import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical.ts';
import type { Checkpoint } from './checkpoint.ts';
import type { ChainedEvent } from './event.ts';
import { earlierProblem, problems } from './problems.ts';
import { ChainVerifier } from './verify.ts';
import type { VerifyResult } from './verify.ts';

/**
 * `audit export --format jsonl`: one canonical JSON object per line. The header comes first. Write
 * the checkpoint for event `from - 1` (if any) before the first event, and every other checkpoint
 * right after the event it covers; include no checkpoint beyond `to`.
 *
 * The header is not signed: its `to` catches a file cut short by accident or by a careless hand,
 * and its public keys are only a convenience — pass the trusted key (--pubkey) to verify for real.
 */
export type ExportHeader = {
  kind: 'header';
  format: 'portcullis-audit-export';
  version: 1;
  exportedAt: string;
  /** SPKI PEM. */
  publicKeys: string[];
  /** First exported seq, or null when the export starts at the retained start of the chain. */
  from: number | null;
  /** Last exported seq, or null when unknown. */
  to: number | null;
};

export type ExportLine = ExportHeader | ({ kind: 'event' } & ChainedEvent) | ({ kind: 'checkpoint' } & Checkpoint);

/** canonicalJson(line) + '\n'. */
export function exportLine(line: ExportLine): string {
  return canonicalJson(line) + '\n';
}

export class AuditExportFormatError extends Error {
  static readonly code = 'AUDIT_EXPORT_FORMAT';
  constructor(readonly lineNumber: number, detail: string) {
    super(`audit export line ${lineNumber}: ${detail}`);
    this.name = 'AuditExportFormatError';
  }
}

/**
 * Verifies an export offline, streaming, with no database. Lines may keep their trailing newline;
 * blank lines are skipped. Throws AuditExportFormatError for a file that is not an export at all.
 */
export async function verifyExport(lines: AsyncIterable<string>, options: { publicKeys?: KeyObject[] }): Promise<VerifyResult> {
  let header: ExportHeader | null = null;
  let verifier: ChainVerifier | null = null;
  let lineNumber = 0;
  for await (const raw of lines) {
    lineNumber += 1;
    const text = raw.trim();
    if (text === '') continue;
    const line = parseLine(text, lineNumber);
    if (header === null || verifier === null) {
      header = readHeader(line, lineNumber);
      const publicKeys = options.publicKeys ?? header.publicKeys.map((pem, i) => parseKey(pem, i, lineNumber));
      verifier = new ChainVerifier(header.from === null ? { publicKeys } : { publicKeys, startSeq: header.from });
      continue;
    }
    const { kind, ...rest } = line;
    if (kind === 'event') verifier.addEvent(rest as unknown as ChainedEvent);
    else if (kind === 'checkpoint') verifier.addCheckpoint(rest as unknown as Checkpoint);
    else throw new AuditExportFormatError(lineNumber, `unknown kind ${JSON.stringify(kind)} (expected "event" or "checkpoint")`);
  }
  if (header === null || verifier === null) throw new AuditExportFormatError(lineNumber, 'the file is empty: no export header');
  return checkRunsTo(header.to, verifier.finish());
}

/** The events must run exactly to the header's `to`. */
function checkRunsTo(to: number | null, result: VerifyResult): VerifyResult {
  if (to === null) return result;
  const lastSeq = result.lastSeq ?? (result.firstSeq ?? 1) - 1;
  let problem = result.problem;
  if (lastSeq < to) problem = earlierProblem(problem, problems.tailMissing(lastSeq, to, 'the export header'));
  else if (lastSeq > to) problem = earlierProblem(problem, problems.strayNumber(to + 1, lastSeq));
  return { ...result, ok: problem === null, problem };
}

function parseLine(text: string, lineNumber: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AuditExportFormatError(lineNumber, `not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AuditExportFormatError(lineNumber, 'not a JSON object');
  }
  return value as Record<string, unknown>;
}

function readHeader(line: Record<string, unknown>, lineNumber: number): ExportHeader {
  if (line.kind !== 'header' || line.format !== 'portcullis-audit-export') {
    throw new AuditExportFormatError(lineNumber, 'the first line is not a portcullis-audit-export header');
  }
  if (line.version !== 1) throw new AuditExportFormatError(lineNumber, `export version ${String(line.version)} is not supported (expected 1)`);
  const { publicKeys, from, to } = line;
  if (!Array.isArray(publicKeys) || !publicKeys.every((k) => typeof k === 'string')) {
    throw new AuditExportFormatError(lineNumber, 'header.publicKeys must be a list of PEM strings');
  }
  for (const [name, value] of [['from', from], ['to', to]] as const) {
    if (value !== null && !(Number.isSafeInteger(value) && (value as number) >= 1)) {
      throw new AuditExportFormatError(lineNumber, `header.${name} must be a positive whole number or null`);
    }
  }
  return line as unknown as ExportHeader;
}

function parseKey(pem: string, index: number, lineNumber: number): KeyObject {
  try {
    return createPublicKey(pem);
  } catch (error) {
    throw new AuditExportFormatError(lineNumber, `header.publicKeys[${index}] is not a public key (${(error as Error).message})`);
  }
}
