import { describe, expect, it } from 'vitest';
import { CHAIN_START, ChainVerifier, chainEvents, signCheckpoint } from '../../../../src/audit/chain/index.ts';
import type { AuditEventBody, ChainedEvent } from '../../../../src/audit/chain/index.ts';
import { buildChain, newSigningKey, verifyStored } from './chain-fixtures.ts';

const key = newSigningKey();
const body = (i: number): AuditEventBody => ({ type: 'pg.statement', at: `2026-11-26T10:00:${String(i % 60).padStart(2, '0')}.000Z`, actor: 'agent', subject: 'db', data: { i, sql: 'select 1' } });
const bodies = (n: number): AuditEventBody[] => Array.from({ length: n }, (_, i) => body(i + 1));

describe('ChainVerifier', () => {
  it('reports counts and seq range for an intact chain', () => {
    const chain = buildChain(bodies(25), 10, key);
    expect(verifyStored(chain, [key.publicKey])).toEqual({ ok: true, events: 25, checkpoints: 2, firstSeq: 1, lastSeq: 25, lastCheckpointSeq: 20, problem: null });
  });

  it('accepts an empty chain and one without checkpoints', () => {
    expect(new ChainVerifier({ publicKeys: [key.publicKey] }).finish()).toMatchObject({ ok: true, events: 0, firstSeq: null, lastSeq: null });
    const plain = chainEvents(CHAIN_START, bodies(5));
    const verifier = new ChainVerifier({ publicKeys: [] });
    for (const e of plain) verifier.addEvent(e);
    expect(verifier.finish()).toMatchObject({ ok: true, events: 5, checkpoints: 0, lastCheckpointSeq: null });
  });

  it('names the modified event in words', () => {
    const chain = buildChain(bodies(30), 10, key);
    chain.events[11] = { ...chain.events[11]!, data: { i: 12, sql: 'drop table users' } };
    expect(verifyStored(chain, [key.publicKey]).problem).toEqual({ kind: 'modified', seq: 12, message: 'event 12 was modified: its hash does not match its content' });
  });

  it('names a run of deleted events', () => {
    const chain = buildChain(bodies(30), 10, key);
    chain.events.splice(11, 3);
    expect(verifyStored(chain, [key.publicKey]).problem).toEqual({ kind: 'deleted', seq: 12, message: 'events 12–14 were deleted: event 15 follows event 11' });
  });

  it('verifies from a retained start anchored by the checkpoint before it (retention)', () => {
    const chain = buildChain(bodies(30), 10, key);
    const retained = { events: chain.events.slice(10), checkpoints: chain.checkpoints };
    expect(verifyStored(retained, [key.publicKey])).toMatchObject({ ok: true, firstSeq: 11, lastSeq: 30 });
  });

  it('refuses a start that no checkpoint anchors: events before it were deleted', () => {
    const chain = buildChain(bodies(30), 10, key);
    const cut = { events: chain.events.slice(12), checkpoints: chain.checkpoints.slice(1) };
    expect(verifyStored(cut, [key.publicKey]).problem).toMatchObject({ kind: 'deleted', seq: 12 });
  });

  it('verifies from a middle seq given the hash before it (--from), and notices a wrong start', () => {
    const chain = buildChain(bodies(30), 10, key);
    const from = (startPrevHash: string, startSeq: number, events: ChainedEvent[]) => {
      const verifier = new ChainVerifier({ publicKeys: [key.publicKey], startPrevHash, startSeq });
      for (const c of chain.checkpoints) verifier.addCheckpoint(c);
      for (const e of events) verifier.addEvent(e);
      return verifier.finish();
    };
    expect(from(chain.events[14]!.hash, 16, chain.events.slice(15))).toMatchObject({ ok: true, firstSeq: 16, lastSeq: 30 });
    expect(from(chain.events[14]!.hash, 16, chain.events.slice(16)).problem).toMatchObject({ kind: 'deleted', seq: 16 });
    expect(from(chain.events[13]!.hash, 16, chain.events.slice(15)).problem).toMatchObject({ kind: 'modified', seq: 16 });
  });

  it('cannot see a tail cut after the last checkpoint (documented), but a later checkpoint reveals it', () => {
    const chain = buildChain(bodies(25), 10, key);
    const cut = { events: chain.events.slice(0, 22), checkpoints: chain.checkpoints };
    expect(verifyStored(cut, [key.publicKey]).ok).toBe(true);
    const later = signCheckpoint(chain.events[24]!, '2026-11-26T11:00:00.000Z', key.privateKey);
    expect(verifyStored({ ...cut, checkpoints: [...chain.checkpoints, later] }, [key.publicKey]).problem).toEqual({
      kind: 'deleted', seq: 23, message: 'events 23–25 were deleted: the signed checkpoint for event 25 covers event 25, but the chain ends at event 22',
    });
  });

  it('treats a checkpoint by a key it was not given as untrusted', () => {
    const chain = buildChain(bodies(10), 5, key);
    expect(verifyStored(chain, []).problem).toMatchObject({ kind: 'unknown-key', seq: 5 });
  });

  it('reports a checkpoint given too late to match an ordinary event', () => {
    const events = chainEvents(CHAIN_START, bodies(5));
    const verifier = new ChainVerifier({ publicKeys: [key.publicKey] });
    for (const e of events) verifier.addEvent(e);
    verifier.addCheckpoint(signCheckpoint(events[2]!, events[2]!.at, key.privateKey));
    expect(verifier.finish().problem).toMatchObject({ kind: 'checkpoint-mismatch', seq: 3 });
  });

  it('keeps the first problem in seq order across events and checkpoints', () => {
    const chain = buildChain(bodies(30), 10, key);
    chain.events[24] = { ...chain.events[24]!, actor: 'someone else' };
    chain.checkpoints[0] = { ...chain.checkpoints[0]!, signature: chain.checkpoints[1]!.signature };
    expect(verifyStored(chain, [key.publicKey]).problem).toMatchObject({ kind: 'bad-checkpoint', seq: 10 });
  });
});
