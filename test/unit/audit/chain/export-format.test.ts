import { describe, expect, it } from 'vitest';
import { AuditExportFormatError, exportLine, verifyExport } from '../../../../src/audit/chain/index.ts';
import type { ExportLine } from '../../../../src/audit/chain/index.ts';
import { buildChain, newSigningKey } from './chain-fixtures.ts';
import type { StoredChain } from './chain-fixtures.ts';

const key = newSigningKey();
const other = newSigningKey();
const chain = buildChain(
  Array.from({ length: 35 }, (_, i) => ({ type: 'git.push', at: '2026-11-26T10:00:00.000Z', actor: 'agent', subject: 'acme/api', data: { i } })),
  10,
  key,
);

/** Header, the anchor checkpoint, then each event followed by its checkpoint — as `audit export` writes. */
function exportText(stored: StoredChain, from: number | null, to: number | null, publicKeys = [key.publicKeyPem]): string[] {
  const lines: ExportLine[] = [{ kind: 'header', format: 'portcullis-audit-export', version: 1, exportedAt: '2026-11-26T12:00:00.000Z', publicKeys, from, to }];
  const first = stored.events[0]?.seq ?? 1;
  for (const c of stored.checkpoints) if (c.seq === first - 1) lines.push({ kind: 'checkpoint', ...c });
  for (const e of stored.events) {
    lines.push({ kind: 'event', ...e });
    for (const c of stored.checkpoints) if (c.seq === e.seq) lines.push({ kind: 'checkpoint', ...c });
  }
  return lines.map(exportLine);
}

async function* feed(lines: string[]): AsyncIterable<string> {
  yield* lines;
}

describe('export format', () => {
  it('writes one canonical JSON object per line', () => {
    const line = exportLine({ kind: 'checkpoint', ...chain.checkpoints[0]! });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(line.startsWith('{"at":')).toBe(true);
  });

  it('verifies a whole export with the header keys or with given keys', async () => {
    const lines = exportText(chain, 1, 35);
    expect(await verifyExport(feed(lines), {})).toEqual({ ok: true, events: 35, checkpoints: 3, firstSeq: 1, lastSeq: 35, lastCheckpointSeq: 30, problem: null });
    expect((await verifyExport(feed(lines), { publicKeys: [other.publicKey] })).problem).toMatchObject({ kind: 'unknown-key', seq: 10 });
  });

  it('verifies a range export, anchored by the checkpoint before it when there is one', async () => {
    const middle = { events: chain.events.slice(10, 25), checkpoints: chain.checkpoints.filter((c) => c.seq >= 10 && c.seq <= 25) };
    expect(await verifyExport(feed(exportText(middle, 11, 25)), { publicKeys: [key.publicKey] })).toMatchObject({ ok: true, firstSeq: 11, lastSeq: 25, checkpoints: 2 });
    const unanchored = { events: chain.events.slice(12, 25), checkpoints: chain.checkpoints.filter((c) => c.seq === 20) };
    expect(await verifyExport(feed(exportText(unanchored, 13, 25)), { publicKeys: [key.publicKey] })).toMatchObject({ ok: true, firstSeq: 13 });
  });

  it('detects a tail cut after the last checkpoint through the header’s `to`', async () => {
    const lines = exportText(chain, 1, 35).slice(0, -3);
    expect((await verifyExport(feed(lines), {})).problem).toEqual({
      kind: 'deleted', seq: 33, message: 'events 33–35 were deleted: the export header covers event 35, but the chain ends at event 32',
    });
  });

  it('detects a missing head through the header’s `from`, and events beyond `to`', async () => {
    const lines = exportText(chain, 1, 35);
    expect((await verifyExport(feed([lines[0]!, ...lines.slice(2)]), {})).problem).toMatchObject({ kind: 'deleted', seq: 1 });
    const extended = exportText(chain, 1, 34);
    expect((await verifyExport(feed(extended), {})).problem).toMatchObject({ kind: 'inserted', seq: 35 });
  });

  it('detects an edited line and a checkpoint line that was removed', async () => {
    const lines = exportText(chain, 1, 35);
    const index = lines.findIndex((l) => l.includes('"seq":17,'));
    expect((await verifyExport(feed(lines.with(index, lines[index]!.replace('"i":16', '"i":99'))), {})).problem).toMatchObject({ kind: 'modified', seq: 17 });
    const checkpoint = lines.findIndex((l) => l.startsWith('{"at"') && l.includes('"seq":20,'));
    expect((await verifyExport(feed(lines.toSpliced(checkpoint, 1)), {})).problem).toMatchObject({ kind: 'checkpoint-mismatch', seq: 20 });
  });

  it('accepts lines with their newline and skips blank lines', async () => {
    const lines = exportText(chain, 1, 35).flatMap((l) => [l, '\n']);
    expect((await verifyExport(feed(lines), {})).ok).toBe(true);
  });

  it('throws a format error naming the line for something that is not an export', async () => {
    await expect(verifyExport(feed([]), {})).rejects.toThrow(AuditExportFormatError);
    await expect(verifyExport(feed(['{"kind":"event"}']), {})).rejects.toThrow('audit export line 1: the first line is not a portcullis-audit-export header');
    const lines = exportText(chain, 1, 35);
    await expect(verifyExport(feed([lines[0]!, 'not json']), {})).rejects.toThrow(/audit export line 2: not JSON/);
    await expect(verifyExport(feed([lines[0]!, '{"kind":"note"}']), {})).rejects.toThrow(/line 2: unknown kind "note"/);
    await expect(verifyExport(feed([lines[0]!.replace('"version":1', '"version":2')]), {})).rejects.toThrow(/version 2 is not supported/);
  });
});
