import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CHAIN_START,
  GENESIS_HASH,
  chainEvents,
  eventHash,
  generateSigningKey,
  publicKeyId,
  signCheckpoint,
  verifyCheckpoint,
} from '../../../../src/audit/chain/index.ts';
import type { AuditEventBody } from '../../../../src/audit/chain/index.ts';
import { newSigningKey } from './chain-fixtures.ts';

const push: AuditEventBody = { type: 'git.push', at: '2026-11-26T10:00:00.000Z', actor: 'agent-7', subject: 'acme/api', data: { refs: ['refs/heads/main'], outcome: 'held' } };

describe('eventHash and chainEvents', () => {
  it('hashes prevHash, a newline and the canonical JSON of seq, type, at, actor, subject and data', () => {
    const text = '{"actor":"agent-7","at":"2026-11-26T10:00:00.000Z","data":{"outcome":"held","refs":["refs/heads/main"]},"seq":1,"subject":"acme/api","type":"git.push"}';
    const expected = createHash('sha256').update(`${GENESIS_HASH}\n${text}`).digest('hex');
    expect(eventHash(GENESIS_HASH, { ...push, seq: 1 })).toBe(expected);
  });

  it('ignores fields outside the body, such as a stored hash', () => {
    const withExtras = { ...push, seq: 1, hash: 'x', prevHash: 'y', id: 9 };
    expect(eventHash(GENESIS_HASH, withExtras)).toBe(eventHash(GENESIS_HASH, { ...push, seq: 1 }));
  });

  it('numbers from prev.seq + 1 and links each event to the one before', () => {
    expect(GENESIS_HASH).toBe('0'.repeat(64));
    const [first, second] = chainEvents(CHAIN_START, [push, { ...push, type: 'approval.approved' }]);
    expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH, hash: eventHash(GENESIS_HASH, { ...push, seq: 1 }) });
    expect(second?.seq).toBe(2);
    expect(second?.prevHash).toBe(first?.hash);
    const [third] = chainEvents({ seq: 2, hash: second!.hash }, [push]);
    expect(third).toMatchObject({ seq: 3, prevHash: second!.hash });
    expect(chainEvents(CHAIN_START, [])).toEqual([]);
  });
});

describe('checkpoints', () => {
  const key = newSigningKey();

  it('generates an Ed25519 PKCS8 / SPKI PEM pair', () => {
    const { privateKeyPem, publicKeyPem } = generateSigningKey();
    expect(privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(createPrivateKey(privateKeyPem).asymmetricKeyType).toBe('ed25519');
  });

  it('names a key by the first 16 hex of sha256 over its raw 32 bytes, from the public or the private half', () => {
    const spki = key.publicKey.export({ format: 'der', type: 'spki' });
    const raw = spki.subarray(spki.length - 32);
    expect(publicKeyId(key.publicKey)).toBe(createHash('sha256').update(raw).digest('hex').slice(0, 16));
    expect(publicKeyId(key.privateKey)).toBe(publicKeyId(key.publicKey));
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(() => publicKeyId(rsa)).toThrow(/Ed25519/);
  });

  it('signs {seq, hash, at, keyId} and verifies with the matching public key only', () => {
    const checkpoint = signCheckpoint({ seq: 42, hash: 'a'.repeat(64) }, '2026-11-26T10:00:00.000Z', key.privateKey);
    expect(checkpoint).toMatchObject({ seq: 42, hash: 'a'.repeat(64), at: '2026-11-26T10:00:00.000Z', keyId: key.keyId });
    expect(Buffer.from(checkpoint.signature, 'base64')).toHaveLength(64);
    expect(verifyCheckpoint(checkpoint, key.publicKey)).toBe(true);
    expect(verifyCheckpoint(checkpoint, createPublicKey(generateSigningKey().publicKeyPem))).toBe(false);
  });

  it('rejects a checkpoint with any field changed', () => {
    const checkpoint = signCheckpoint({ seq: 42, hash: 'a'.repeat(64) }, '2026-11-26T10:00:00.000Z', key.privateKey);
    for (const change of [{ seq: 43 }, { hash: 'b'.repeat(64) }, { at: '2026-11-26T10:00:01.000Z' }, { keyId: '0'.repeat(16) }, { signature: 'AAAA' }, { seq: '42' }]) {
      expect(verifyCheckpoint({ ...checkpoint, ...change } as never, key.publicKey), JSON.stringify(change)).toBe(false);
    }
  });
});
