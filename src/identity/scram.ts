/**
 * SCRAM-SHA-256 (RFC 5802 with RFC 7677's hash) as PostgreSQL speaks it:
 * https://www.postgresql.org/docs/current/sasl-authentication.html#SASL-SCRAM-SHA-256
 *
 * Both ends, pure: the server side authenticates clients of the gateway against a stored verifier,
 * the client side authenticates the gateway to the real upstream. Randomness (nonces, salts) can be
 * injected so tests replay fixed transcripts. No channel binding (SCRAM-SHA-256-PLUS is not offered).
 *
 * Messages are handled as bytes read through a latin1 view, so the AuthMessage is built from exactly
 * the bytes the peer sent, whatever their encoding.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { saslprep } from './saslprep.ts';

export const SCRAM_SHA_256 = 'SCRAM-SHA-256';
/** PostgreSQL's defaults (scram_iterations and SCRAM_DEFAULT_SALT_LEN / SCRAM_RAW_NONCE_LEN). */
export const SCRAM_DEFAULT_ITERATIONS = 4096;
const SALT_BYTES = 16;
const NONCE_BYTES = 18;
const KEY_BYTES = 32;

export class ScramError extends Error {
  static readonly code = 'SCRAM_FAILED';
  override readonly name = 'ScramError';
}

export interface ScramVerifier {
  iterations: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

export function createScramVerifier(password: string, options: { iterations?: number; salt?: Buffer } = {}): ScramVerifier {
  const iterations = options.iterations ?? SCRAM_DEFAULT_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError(`SCRAM iterations must be a positive integer, got ${iterations}`);
  const salt = options.salt ?? randomBytes(SALT_BYTES);
  const salted = saltedPassword(password, salt, iterations);
  return { iterations, salt, storedKey: sha256(hmac(salted, 'Client Key')), serverKey: hmac(salted, 'Server Key') };
}

/** PostgreSQL's rolpassword format: SCRAM-SHA-256$<iter>:<salt b64>$<StoredKey b64>:<ServerKey b64>. */
export function encodeScramVerifier(verifier: ScramVerifier): string {
  const b64 = (bytes: Buffer): string => bytes.toString('base64');
  return `${SCRAM_SHA_256}$${verifier.iterations}:${b64(verifier.salt)}$${b64(verifier.storedKey)}:${b64(verifier.serverKey)}`;
}

const VERIFIER_PATTERN = /^SCRAM-SHA-256\$([1-9][0-9]{0,9}):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/;

/** null when `text` is not a well-formed SCRAM-SHA-256 verifier. */
export function decodeScramVerifier(text: string): ScramVerifier | null {
  const match = VERIFIER_PATTERN.exec(text);
  if (!match) return null;
  const iterations = Number(match[1]);
  const salt = strictBase64(match[2] as string);
  const storedKey = strictBase64(match[3] as string);
  const serverKey = strictBase64(match[4] as string);
  if (iterations > 0x7fffffff || !salt || salt.length === 0 || storedKey?.length !== KEY_BYTES || serverKey?.length !== KEY_BYTES) return null;
  return { iterations, salt, storedKey, serverKey };
}

/** Server side: the gateway authenticating a client (psql etc.) against a verifier. */
export class ScramServerSession {
  private readonly serverNonce: string;
  private state: { step: 'initial' } | { step: 'started'; gs2Header: string; clientFirstBare: Buffer; serverFirst: Buffer; nonce: string } | { step: 'done' } = {
    step: 'initial',
  };

  /** `nonce`: raw random bytes, sent base64 as PostgreSQL does; a string is used verbatim (test vectors). */
  constructor(
    private readonly verifier: ScramVerifier,
    nonce: Buffer | string = randomBytes(NONCE_BYTES),
  ) {
    this.serverNonce = nonceText(nonce);
  }

  /**
   * client-first-message (SASLInitialResponse data) → server-first-message. Accepts the gs2 flags
   * 'n' (client does not support channel binding) and 'y' (client supports it but thinks the server
   * does not; true here, since -PLUS is never offered, so it is no downgrade). Refuses 'p=' channel
   * binding, an authzid and mandatory extensions, as PostgreSQL does. The user name inside the
   * message is ignored: the startup packet's user is the one authenticated (libpq sends 'n=').
   */
  start(clientFirst: Buffer): Buffer {
    if (this.state.step !== 'initial') throw new ScramError('SCRAM exchange already started');
    const text = clientFirst.toString('latin1');
    const flag = text[0];
    if (flag === 'p') throw new ScramError('SCRAM channel binding (SCRAM-SHA-256-PLUS) is not supported by this gateway; connect with channel_binding=disable or prefer');
    if ((flag !== 'n' && flag !== 'y') || text[1] !== ',') throw new ScramError('malformed SCRAM client-first-message: expected gs2 flag "n," or "y,"');
    if (text[2] !== ',') {
      throw new ScramError(text.startsWith('a=', 2) ? 'SCRAM authorization identity (a=) is not supported' : 'malformed SCRAM client-first-message: bad gs2 header');
    }
    const clientFirstBare = clientFirst.subarray(3);
    const attributes = parseAttributes(text.slice(3), 'client-first-message');
    if (attributes[0]?.[0] === 'm') throw new ScramError('the client requires an unsupported SCRAM extension (m=)');
    if (attributes[0]?.[0] !== 'n' || attributes[1]?.[0] !== 'r') throw new ScramError('malformed SCRAM client-first-message: expected n= then r=');
    const clientNonce = attributes[1][1];
    if (!isPrintableNonce(clientNonce)) throw new ScramError('malformed SCRAM client-first-message: invalid client nonce');
    const nonce = clientNonce + this.serverNonce;
    const serverFirst = Buffer.from(`r=${nonce},s=${this.verifier.salt.toString('base64')},i=${this.verifier.iterations}`, 'latin1');
    this.state = { step: 'started', gs2Header: text.slice(0, 3), clientFirstBare, serverFirst, nonce };
    return serverFirst;
  }

  /** client-final-message → the server-final-message when the proof is right, else { ok: false }. */
  finish(clientFinal: Buffer): { ok: true; serverFinal: Buffer } | { ok: false } {
    const state = this.state;
    if (state.step !== 'started') throw new ScramError(state.step === 'initial' ? 'SCRAM client-final-message before client-first-message' : 'SCRAM exchange already finished');
    this.state = { step: 'done' };
    const text = clientFinal.toString('latin1');
    const proofAt = text.lastIndexOf(',p=');
    if (proofAt < 0) throw new ScramError('malformed SCRAM client-final-message: no proof (p=)');
    const attributes = parseAttributes(text.slice(0, proofAt), 'client-final-message');
    if (attributes[0]?.[0] !== 'c' || attributes[1]?.[0] !== 'r') throw new ScramError('malformed SCRAM client-final-message: expected c= then r=');
    if (attributes[0][1] !== Buffer.from(state.gs2Header, 'latin1').toString('base64')) {
      throw new ScramError('unexpected SCRAM channel-binding attribute in client-final-message');
    }
    if (attributes[1][1] !== state.nonce) throw new ScramError('SCRAM nonce mismatch in client-final-message');
    const proof = strictBase64(text.slice(proofAt + 3));
    if (!proof || proof.length !== KEY_BYTES) throw new ScramError('malformed SCRAM client-final-message: invalid proof');

    const authMessage = Buffer.concat([state.clientFirstBare, COMMA, state.serverFirst, COMMA, clientFinal.subarray(0, proofAt)]);
    const clientSignature = hmac(this.verifier.storedKey, authMessage);
    const clientKey = xor(proof, clientSignature);
    const serverSignature = hmac(this.verifier.serverKey, authMessage);
    if (!timingSafeEqual(sha256(clientKey), this.verifier.storedKey) || !this.acceptsProofs()) return { ok: false };
    return { ok: true, serverFinal: Buffer.from(`v=${serverSignature.toString('base64')}`, 'latin1') };
  }

  /** Overridden by the decoy, which runs the same computation and then refuses. */
  protected acceptsProofs(): boolean {
    return true;
  }
}

class DecoyScramServerSession extends ScramServerSession {
  protected override acceptsProofs(): boolean {
    return false;
  }
}

/**
 * For unknown users: a session that answers like a real one, with a salt that is the same on every
 * attempt for the same user (HMAC(secret, user), as PostgreSQL's mock authentication does), and always
 * fails, so neither the salt nor the timing tells whether the user exists.
 */
export function createDecoyScramSession(secret: Buffer, user: string): ScramServerSession {
  const derived = createHmac('sha256', secret).update(`scram-decoy:${user}`).digest();
  const verifier: ScramVerifier = {
    iterations: SCRAM_DEFAULT_ITERATIONS,
    salt: derived.subarray(0, SALT_BYTES),
    storedKey: hmac(derived, 'decoy stored key'),
    serverKey: hmac(derived, 'decoy server key'),
  };
  return new DecoyScramServerSession(verifier);
}

/** Client side: the gateway authenticating to the real upstream PostgreSQL. */
export class ScramClientSession {
  private readonly clientNonce: string;
  private readonly clientFirstBare: string;
  private expectedServerSignature: Buffer | null = null;

  /**
   * `nonce` as for ScramServerSession. `user` is left empty by default, as libpq does: PostgreSQL
   * ignores it and authenticates the startup packet's user.
   */
  constructor(
    private readonly password: string,
    nonce: Buffer | string = randomBytes(NONCE_BYTES),
    user = '',
  ) {
    this.clientNonce = nonceText(nonce);
    this.clientFirstBare = `n=${saslname(user)},r=${this.clientNonce}`;
  }

  /** client-first-message for SASLInitialResponse: 'n,,n=,r=<nonce>'. */
  first(): Buffer {
    return Buffer.from(`n,,${this.clientFirstBare}`, 'utf8');
  }

  /** server-first-message (AuthenticationSASLContinue data) → client-final-message (SASLResponse data). */
  respond(serverFirst: Buffer): Buffer {
    if (this.expectedServerSignature) throw new ScramError('SCRAM server-first-message received twice');
    const text = serverFirst.toString('latin1');
    const attributes = parseAttributes(text, 'server-first-message');
    if (attributes[0]?.[0] === 'm') throw new ScramError('the server requires an unsupported SCRAM extension (m=)');
    if (attributes[0]?.[0] !== 'r' || attributes[1]?.[0] !== 's' || attributes[2]?.[0] !== 'i') {
      throw new ScramError('malformed SCRAM server-first-message: expected r=, s=, i=');
    }
    const nonce = attributes[0][1];
    if (!nonce.startsWith(this.clientNonce) || nonce.length === this.clientNonce.length || !isPrintableNonce(nonce)) {
      throw new ScramError('invalid SCRAM server-first-message: the server nonce does not extend ours');
    }
    const salt = strictBase64(attributes[1][1]);
    if (!salt || salt.length === 0) throw new ScramError('malformed SCRAM server-first-message: invalid salt');
    const iterationText = attributes[2][1];
    const iterations = /^[1-9][0-9]{0,9}$/.test(iterationText) ? Number(iterationText) : NaN;
    if (!(iterations <= 0x7fffffff)) throw new ScramError(`malformed SCRAM server-first-message: invalid iteration count ${JSON.stringify(iterationText)}`);

    const salted = saltedPassword(this.password, salt, iterations);
    const clientKey = hmac(salted, 'Client Key');
    const clientFinalWithoutProof = `c=biws,r=${nonce}`; // biws = base64('n,,')
    const authMessage = Buffer.concat([Buffer.from(this.clientFirstBare, 'utf8'), COMMA, serverFirst, COMMA, Buffer.from(clientFinalWithoutProof, 'latin1')]);
    const proof = xor(clientKey, hmac(sha256(clientKey), authMessage));
    this.expectedServerSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    return Buffer.from(`${clientFinalWithoutProof},p=${proof.toString('base64')}`, 'latin1');
  }

  /** server-final-message (AuthenticationSASLFinal data); throws unless the server proved it knows the verifier. */
  verify(serverFinal: Buffer): void {
    if (!this.expectedServerSignature) throw new ScramError('SCRAM server-final-message before server-first-message');
    const attributes = parseAttributes(serverFinal.toString('latin1'), 'server-final-message');
    const [name, value] = attributes[0] ?? [];
    if (name === 'e') throw new ScramError(`the server refused SCRAM authentication: ${value}`);
    const signature = name === 'v' ? strictBase64(value ?? '') : null;
    if (!signature) throw new ScramError('malformed SCRAM server-final-message: expected v=');
    if (signature.length !== KEY_BYTES || !timingSafeEqual(signature, this.expectedServerSignature)) {
      throw new ScramError('the server sent a wrong SCRAM signature: it does not know this password (wrong upstream, or a man in the middle)');
    }
  }
}

const COMMA = Buffer.from(',');

function nonceText(nonce: Buffer | string): string {
  const text = typeof nonce === 'string' ? nonce : nonce.toString('base64');
  if (!isPrintableNonce(text)) throw new RangeError('a SCRAM nonce is printable ASCII without commas');
  return text;
}

/** RFC 5802 saslname: ',' and '=' escaped as =2C and =3D. */
function saslname(user: string): string {
  return user.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** RFC 5802 attribute list: comma-separated `x=value`, one ASCII letter names each. */
function parseAttributes(text: string, message: string): [string, string][] {
  return text.split(',').map((part) => {
    if (part.length < 2 || part[1] !== '=' || !/^[A-Za-z]$/.test(part[0] as string)) throw new ScramError(`malformed SCRAM ${message}: bad attribute ${JSON.stringify(part.slice(0, 20))}`);
    return [part[0] as string, part.slice(2)];
  });
}

/** printable = %x21-2B / %x2D-7E: ASCII visible characters except ','. */
function isPrintableNonce(nonce: string): boolean {
  return /^[\x21-\x2B\x2D-\x7E]+$/.test(nonce);
}

function strictBase64(text: string): Buffer | null {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  return Buffer.from(text, 'base64');
}

function saltedPassword(password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(Buffer.from(saslprep(password), 'utf8'), salt, iterations, KEY_BYTES, 'sha256');
}

function hmac(key: Buffer, data: string | Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) ^ (b[i] as number);
  return out;
}
