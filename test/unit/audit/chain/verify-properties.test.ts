import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, canonicalJson, eventHash, signCheckpoint } from '../../../../src/audit/chain/index.ts';
import type { ChainProblem, ChainedEvent, Checkpoint } from '../../../../src/audit/chain/index.ts';
import { buildChain, eventBody, newSigningKey, replaceNested, storedChainShape, verifyStored } from './chain-fixtures.ts';
import type { StoredChain } from './chain-fixtures.ts';

const trusted = newSigningKey();
const attacker = newSigningKey();
const KEYS = [trusted.publicKey];
const RUNS = { numRuns: Number(process.env.CHAIN_PROPERTY_RUNS ?? 150) };
const ORDERS = ['checkpoints-first', 'interleaved'] as const;

const chainArbitrary = storedChainShape.map(({ bodies, everyK }) => ({ everyK, chain: buildChain(bodies, everyK, trusted) }));

/** True when the last event is covered by a checkpoint, so the chain alone can notice it going missing. */
function lastEventCovered(chain: StoredChain): boolean {
  const last = chain.events.at(-1);
  return last !== undefined && chain.checkpoints.some((c) => c.seq === last.seq);
}

function expectProblemAt(chain: StoredChain, seqs: number[], kinds: ChainProblem['kind'][]): void {
  for (const order of ORDERS) {
    const result = verifyStored(chain, KEYS, order);
    expect(result.ok, `${order}: expected a problem at ${seqs.join(' or ')}`).toBe(false);
    expect(seqs, `${order}: ${result.problem?.message}`).toContain(result.problem?.seq);
    expect(kinds, `${order}: ${result.problem?.message}`).toContain(result.problem?.kind);
    expect(result.problem?.message).toMatch(/\d/);
  }
}

function rehash(event: Omit<ChainedEvent, 'hash'>): ChainedEvent {
  return { ...event, hash: eventHash(event.prevHash, event) };
}

describe('ChainVerifier on random chains (fast-check)', () => {
  it('accepts every valid chain, with checkpoints first or interleaved', () => {
    fc.assert(
      fc.property(chainArbitrary, ({ chain, everyK }) => {
        for (const order of ORDERS) {
          const result = verifyStored(chain, KEYS, order);
          expect(result.problem).toBeNull();
          expect(result).toMatchObject({ ok: true, events: chain.events.length, checkpoints: chain.checkpoints.length, firstSeq: 1, lastSeq: chain.events.length });
          const n = chain.events.length;
          expect(result.lastCheckpointSeq).toBe(n >= everyK ? n - (n % everyK) : null);
        }
      }),
      RUNS,
    );
  });

  it('detects a modification of any field of any event, naming that event', () => {
    const field = fc.constantFrom('seq', 'prevHash', 'hash', 'type', 'at', 'actor', 'subject', 'data', 'data-nested');
    fc.assert(
      fc.property(chainArbitrary, fc.nat(), field, fc.jsonValue({ maxDepth: 2 }), fc.array(fc.nat(), { maxLength: 4 }), ({ chain }, pick, name, replacement, path) => {
        const index = pick % chain.events.length;
        const original = chain.events[index] as ChainedEvent;
        const tampered: Record<string, unknown> = { ...original };
        if (name === 'data-nested') tampered.data = replaceNested(original.data, [...path, 0], replacement);
        else tampered[name] = replacement;
        fc.pre(canonicalJson(tampered) !== canonicalJson(original));
        const events = chain.events.with(index, tampered as unknown as ChainedEvent);
        expectProblemAt({ ...chain, events }, [index + 1], ['modified']);
      }),
      RUNS,
    );
  });

  it('detects a modified event whose hash was recomputed, at it or at the next link', () => {
    fc.assert(
      fc.property(chainArbitrary, fc.nat(), eventBody, ({ chain }, pick, body) => {
        const index = pick % chain.events.length;
        const original = chain.events[index] as ChainedEvent;
        const forged = rehash({ ...original, data: { ...body.data, forged: true } });
        const events = chain.events.with(index, forged);
        const isLast = index === chain.events.length - 1;
        fc.pre(!isLast || lastEventCovered(chain));
        expectProblemAt({ ...chain, events }, [index + 1, index + 2], ['modified', 'checkpoint-mismatch']);
      }),
      RUNS,
    );
  });

  it('detects a deleted event, naming the seq where the gap is (unless it is an uncovered last event)', () => {
    fc.assert(
      fc.property(chainArbitrary, fc.nat(), ({ chain }, pick) => {
        const index = pick % chain.events.length;
        fc.pre(index < chain.events.length - 1 || lastEventCovered(chain));
        const events = chain.events.toSpliced(index, 1);
        expectProblemAt({ ...chain, events }, [index + 1], ['deleted']);
      }),
      RUNS,
    );
  });

  it('detects an inserted event, forged or copied, with or without a recomputed hash', () => {
    const variant = fc.constantFrom('garbage', 'next-seq-linked', 'any-seq-rehashed', 'copy');
    fc.assert(
      fc.property(chainArbitrary, fc.nat(), variant, eventBody, fc.integer({ min: -2, max: 220 }), fc.boolean(), fc.nat(), ({ chain }, pick, kind, body, anySeq, linked, copyPick) => {
        const n = chain.events.length;
        const position = pick % n; // inserted before chain.events[position]
        const prevHash = position === 0 ? GENESIS_HASH : (chain.events[position - 1] as ChainedEvent).hash;
        let intruder: ChainedEvent;
        if (kind === 'garbage') intruder = { ...body, seq: anySeq, prevHash: 'f'.repeat(64), hash: 'e'.repeat(64) };
        else if (kind === 'next-seq-linked') intruder = rehash({ ...body, seq: position + 1, prevHash });
        else if (kind === 'any-seq-rehashed') intruder = rehash({ ...body, seq: anySeq, prevHash: linked ? prevHash : 'a'.repeat(64) });
        else intruder = chain.events[copyPick % n] as ChainedEvent;
        const events = chain.events.toSpliced(position, 0, intruder);
        // An exact stand-in for the event before it (same seq, same link) makes "which copy is fake" undecidable,
        // and a copy of the event after next looks like a swap with the next one.
        const duplicatesPrevious = intruder.seq === position && intruder.prevHash === (position <= 1 ? GENESIS_HASH : (chain.events[position - 2] as ChainedEvent).hash);
        expectProblemAt({ ...chain, events }, duplicatesPrevious ? [position, position + 1] : [position + 1], kind === 'copy' ? ['inserted', 'reordered'] : ['inserted']);
      }),
      RUNS,
    );
  });

  it('detects two swapped events, naming the earlier position', () => {
    fc.assert(
      fc.property(chainArbitrary, fc.nat(), fc.nat(), ({ chain }, a, b) => {
        const n = chain.events.length;
        fc.pre(n >= 2);
        const i = a % n;
        const j = b % n;
        fc.pre(i !== j);
        const [first, second] = i < j ? [i, j] : [j, i];
        const events = [...chain.events];
        [events[first], events[second]] = [events[second] as ChainedEvent, events[first] as ChainedEvent];
        expectProblemAt({ ...chain, events }, [first + 1], ['reordered']);
      }),
      RUNS,
    );
  });

  it('detects a modified, deleted or forged checkpoint', () => {
    const action = fc.constantFrom('modify-seq', 'modify-hash', 'modify-at', 'modify-keyId', 'modify-signature', 'delete', 'resign-by-other-key', 'other-key-under-trusted-id', 'extra-by-other-key');
    fc.assert(
      fc.property(chainArbitrary, fc.nat(), action, fc.jsonValue({ maxDepth: 1 }), ({ chain }, pick, act, replacement) => {
        fc.pre(chain.checkpoints.length > 0);
        const index = pick % chain.checkpoints.length;
        const original = chain.checkpoints[index] as Checkpoint;
        let checkpoints: Checkpoint[];
        let expected = [original.seq];
        if (act.startsWith('modify-')) {
          const field = act.slice('modify-'.length);
          const tampered = { ...original, [field]: replacement } as unknown as Checkpoint;
          fc.pre(canonicalJson(tampered) !== canonicalJson(original));
          checkpoints = chain.checkpoints.with(index, tampered);
          if (field === 'seq') expected = [original.seq, Number.isSafeInteger(replacement) ? (replacement as number) : 0];
        } else if (act === 'delete') {
          checkpoints = chain.checkpoints.toSpliced(index, 1);
        } else if (act === 'resign-by-other-key') {
          checkpoints = chain.checkpoints.with(index, signCheckpoint(original, original.at, attacker.privateKey));
        } else if (act === 'other-key-under-trusted-id') {
          const forged = signCheckpoint({ seq: original.seq, hash: 'b'.repeat(64) }, original.at, attacker.privateKey);
          checkpoints = chain.checkpoints.with(index, { ...forged, keyId: trusted.keyId });
        } else {
          const event = chain.events[pick % chain.events.length] as ChainedEvent;
          checkpoints = [...chain.checkpoints, signCheckpoint(event, event.at, attacker.privateKey)];
          expected = [event.seq];
        }
        expectProblemAt({ ...chain, checkpoints }, expected, ['bad-checkpoint', 'unknown-key', 'checkpoint-mismatch']);
      }),
      RUNS,
    );
  });
});
