import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PortcullisError } from '../../errors.ts';
import { generateSigningKey } from '../chain/index.ts';

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public key as SPKI PEM, what `portcullis audit pubkey` prints. */
  publicKeyPem: string;
}

/** The checkpoint signing key (Ed25519, PKCS#8 PEM, 0600): created on first use, never overwritten. */
export async function loadOrCreateSigningKey(file: string): Promise<SigningKey> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(path.dirname(file), { recursive: true });
    // 'wx': two gateways starting together must not overwrite each other's key; the loser reads the winner's.
    await writeFile(file, generateSigningKey().privateKeyPem, { mode: 0o600, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    pem = await readFile(file, 'utf8');
  }
  return signingKeyFromPem(pem, file);
}

export function signingKeyFromPem(pem: string, origin: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw new PortcullisError('CONFIG_INVALID', `${origin}: not a PEM private key (${(error as Error).message})`, { cause: error });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new PortcullisError('CONFIG_INVALID', `${origin}: the audit signing key must be Ed25519, not ${privateKey.asymmetricKeyType}`);
  }
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** A public key file given with --pubkey: SPKI PEM (a private key file is accepted too). */
export async function readPublicKeyFile(file: string): Promise<KeyObject> {
  const pem = await readFile(file, 'utf8');
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`an ${key.asymmetricKeyType} key, not Ed25519`);
    return key;
  } catch (error) {
    throw new PortcullisError('CONFIG_INVALID', `${file}: not an Ed25519 public key (${(error as Error).message})`, { cause: error });
  }
}
