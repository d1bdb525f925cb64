import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import fc from 'fast-check';
import {
  CHAIN_START,
  ChainVerifier,
  chainEvents,
  checkpointEventBody,
  generateSigningKey,
  publicKeyId,
  signCheckpoint,
} from '../../../../src/audit/chain/index.ts';
import type { AuditEventBody, ChainedEvent, Checkpoint, VerifyResult } from '../../../../src/audit/chain/index.ts';

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicKeyPem: string;
  keyId: string;
}

export function newSigningKey(): SigningKey {
  const { privateKeyPem, publicKeyPem } = generateSigningKey();
  const publicKey = createPublicKey(publicKeyPem);
  return { privateKey: createPrivateKey(privateKeyPem), publicKey, publicKeyPem, keyId: publicKeyId(publicKey) };
}

export interface StoredChain {
  events: ChainedEvent[];
  checkpoints: Checkpoint[];
}

/**
 * A chain as the appender writes it: every k-th event is an `audit.checkpoint` event, and a checkpoint
 * is signed over it.
 */
export function buildChain(bodies: AuditEventBody[], everyK: number, key: SigningKey): StoredChain {
  const events: ChainedEvent[] = [];
  const checkpoints: Checkpoint[] = [];
  let prev = CHAIN_START;
  for (const [i, body] of bodies.entries()) {
    const seq = i + 1;
    const isMarker = seq % everyK === 0;
    const [event] = chainEvents(prev, [isMarker ? checkpointEventBody(body.at, key.keyId) : body]);
    if (event === undefined) throw new Error('chainEvents returned nothing');
    events.push(event);
    if (isMarker) checkpoints.push(signCheckpoint(event, body.at, key.privateKey));
    prev = event;
  }
  return { events, checkpoints };
}

/** Feeds the checkpoints first (what the CLI does), or each right after its event (what an export does). */
export function verifyStored(chain: StoredChain, keys: KeyObject[], order: 'checkpoints-first' | 'interleaved' = 'checkpoints-first'): VerifyResult {
  const verifier = new ChainVerifier({ publicKeys: keys });
  if (order === 'checkpoints-first') {
    for (const c of chain.checkpoints) verifier.addCheckpoint(c);
    for (const e of chain.events) verifier.addEvent(e);
  } else {
    const bySeq = new Map<number, Checkpoint[]>();
    for (const c of chain.checkpoints) bySeq.set(c.seq, [...(bySeq.get(c.seq) ?? []), c]);
    for (const e of chain.events) {
      verifier.addEvent(e);
      for (const c of bySeq.get(e.seq) ?? []) verifier.addCheckpoint(c);
      bySeq.delete(e.seq);
    }
    for (const list of bySeq.values()) for (const c of list) verifier.addCheckpoint(c);
  }
  return verifier.finish();
}

const EVENT_TYPES = ['pg.statement', 'git.push', 'git.ref.decision', 'approval.approved', 'token.issued', 'webhook.received'];

export const eventBody: fc.Arbitrary<AuditEventBody> = fc.record({
  type: fc.constantFrom(...EVENT_TYPES),
  at: fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  actor: fc.option(fc.string({ maxLength: 12 }), { nil: null }),
  subject: fc.option(fc.string({ maxLength: 12 }), { nil: null }),
  data: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
});

/** 1–200 events with a checkpoint every 2–20 events. */
export const storedChainShape = fc.record({
  bodies: fc.array(eventBody, { minLength: 1, maxLength: 200 }),
  everyK: fc.integer({ min: 2, max: 20 }),
});

/** Replaces one nested value (or adds a key to an empty container), following `path` as child choices. */
export function replaceNested(value: unknown, path: number[], replacement: unknown): unknown {
  if (Array.isArray(value)) {
    if (value.length === 0 || path.length === 0) return path.length === 0 ? replacement : [replacement];
    const [choice = 0, ...rest] = path;
    const index = choice % value.length;
    return value.map((item, i) => (i === index ? replaceNested(item, rest, replacement) : item));
  }
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value);
    if (path.length === 0) return replacement;
    if (keys.length === 0) return { added: replacement };
    const [choice = 0, ...rest] = path;
    const key = keys[choice % keys.length] as string;
    return { ...value, [key]: replaceNested((value as Record<string, unknown>)[key], rest, replacement) };
  }
  return replacement;
}
