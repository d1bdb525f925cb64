import { createHash, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical.ts';
import type { AuditEventBody } from './event.ts';

/** A signed statement "the chain's event `seq` has hash `hash`". */
export interface Checkpoint {
  /** Last event covered. */
  seq: number;
  /** That event's hash. */
  hash: string;
  at: string;
  /** publicKeyId of the signing key. */
  keyId: string;
  /** Base64 Ed25519 signature over canonicalJson({seq, hash, at, keyId}). */
  signature: string;
}

/**
 * The event type that records "a checkpoint was signed over this very event". The appender writes one
 * (checkpointEventBody) and then signs a checkpoint for its seq. Because the chain lists its own
 * checkpoints, the verifier can tell a deleted checkpoint from one that never existed.
 */
export const CHECKPOINT_EVENT_TYPE = 'audit.checkpoint';

export function checkpointEventBody(at: string, keyId: string): AuditEventBody {
  return { type: CHECKPOINT_EVENT_TYPE, at, actor: null, subject: null, data: { keyId } };
}

export function signCheckpoint(event: { seq: number; hash: string }, at: string, privateKey: KeyObject): Checkpoint {
  const keyId = publicKeyId(createPublicKey(privateKey));
  const payload = checkpointPayload({ seq: event.seq, hash: event.hash, at, keyId });
  const signature = sign(null, payload, privateKey).toString('base64');
  return { seq: event.seq, hash: event.hash, at, keyId, signature };
}

/** True when the checkpoint names this key and its signature over {seq, hash, at, keyId} holds. */
export function verifyCheckpoint(checkpoint: Checkpoint, publicKey: KeyObject): boolean {
  const { seq, hash, at, keyId, signature } = checkpoint;
  if (!Number.isSafeInteger(seq) || typeof hash !== 'string' || typeof at !== 'string') return false;
  if (typeof keyId !== 'string' || typeof signature !== 'string') return false;
  if (keyId !== publicKeyId(publicKey)) return false;
  try {
    return verify(null, checkpointPayload({ seq, hash, at, keyId }), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** A fresh Ed25519 key pair: PKCS8 private key and SPKI public key, both PEM. */
export function generateSigningKey(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/** First 16 hex digits of sha256 over the raw 32-byte Ed25519 public key. */
export function publicKeyId(publicKey: KeyObject): string {
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`publicKeyId: expected an Ed25519 key, got ${publicKey.asymmetricKeyType ?? publicKey.type}`);
  }
  const key = publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey;
  const jwk = key.export({ format: 'jwk' });
  const raw = Buffer.from(jwk.x ?? '', 'base64url');
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

function checkpointPayload(fields: { seq: number; hash: string; at: string; keyId: string }): Buffer {
  return Buffer.from(canonicalJson(fields), 'utf8');
}
