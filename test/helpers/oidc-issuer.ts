/**
 * A local OpenID issuer for tests: serves `/.well-known/openid-configuration` and a JWKS on
 * 127.0.0.1, signs tokens with an RS256 key, rotates that key on demand and counts fetches.
 */
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, base64url, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import type { CryptoKey, JWK } from 'jose';

export interface SignOptions {
  /** jose duration, e.g. '5m' (the default); ignored when the claims carry `exp`. */
  expiresIn?: string;
  /** Overrides the `kid` header (default: the current key's kid). */
  kid?: string;
  /**
   * 'RS256' (default) signs properly. 'none' makes an unsecured token; 'HS256'/'HS384'/'HS512'
   * use the issuer's public key (SPKI PEM) as the HMAC secret: the algorithm-confusion attack.
   */
  alg?: string;
}

export interface OidcIssuer {
  /** http://127.0.0.1:PORT, also the default `iss` of signed tokens. */
  issuer: string;
  jwksUrl: string;
  sign(claims: Record<string, unknown>, options?: SignOptions): Promise<string>;
  /** Makes a new key with a new kid; the old key is removed from the JWKS. */
  rotateKey(): Promise<void>;
  /** While true, every request is answered 503 (an issuer having an outage, but reachable). */
  setUnavailable(unavailable: boolean): void;
  readonly jwksRequests: number;
  readonly discoveryRequests: number;
  close(): Promise<void>;
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

const DISCOVERY_PATH = '/.well-known/openid-configuration';
const JWKS_PATH = '/.well-known/jwks';

export async function startOidcIssuer(): Promise<OidcIssuer> {
  let generation = 0;
  let key = await makeSigningKey(`test-key-${++generation}`);
  let jwksRequests = 0;
  let discoveryRequests = 0;
  let issuer = '';
  let unavailable = false;

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path === DISCOVERY_PATH) discoveryRequests += 1;
    if (path === JWKS_PATH) jwksRequests += 1;
    if (unavailable) {
      response.writeHead(503).end();
    } else if (request.method === 'GET' && path === DISCOVERY_PATH) {
      sendJson(response, {
        issuer,
        jwks_uri: `${issuer}${JWKS_PATH}`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
    } else if (request.method === 'GET' && path === JWKS_PATH) {
      sendJson(response, { keys: [key.publicJwk] });
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function sign(claims: Record<string, unknown>, options: SignOptions = {}): Promise<string> {
    const alg = options.alg ?? 'RS256';
    const kid = options.kid ?? key.kid;
    const builder = new SignJWT({ iss: issuer, ...claims });
    if (claims.iat === undefined) builder.setIssuedAt();
    if (claims.exp === undefined) builder.setExpirationTime(options.expiresIn ?? '5m');
    if (alg === 'RS256') return builder.setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(key.privateKey);
    if (/^HS(256|384|512)$/.test(alg)) {
      const secret = new TextEncoder().encode(await exportSPKI(key.publicKey));
      return builder.setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(secret);
    }
    if (alg === 'none') {
      // Reuse the properly built payload, then strip the signature and claim no algorithm.
      const signed = await builder.setProtectedHeader({ alg: 'RS256', kid }).sign(key.privateKey);
      const payload = signed.split('.')[1];
      return `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${payload}.`;
    }
    throw new Error(`oidc-issuer test helper cannot sign with alg ${alg}`);
  }

  return {
    issuer,
    jwksUrl: `${issuer}${JWKS_PATH}`,
    sign,
    async rotateKey() {
      key = await makeSigningKey(`test-key-${++generation}`);
    },
    setUnavailable(value: boolean) {
      unavailable = value;
    },
    get jwksRequests() {
      return jwksRequests;
    },
    get discoveryRequests() {
      return discoveryRequests;
    },
    async close() {
      // Drop keep-alive sockets too, so clients see the issuer as down right away.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

async function makeSigningKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, publicKey, publicJwk };
}

function sendJson(response: ServerResponse, body: unknown): void {
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
