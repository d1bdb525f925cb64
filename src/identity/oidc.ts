/**
 * Agents may authenticate with a JWT from the organisation's identity provider instead of a
 * portcullis token: a GitHub Actions OIDC token, or a client-credentials access token from
 * Okta, Entra ID or Keycloak. Verification follows RFC 7519 §7.2 and RFC 9068 §4 (validate
 * signature, iss, aud, exp/nbf), with keys from the issuer's JWKS (OpenID Connect Discovery 1.0
 * §4 when no `jwksUrl` is configured).
 *
 * Specs: https://www.rfc-editor.org/rfc/rfc7519#section-7.2
 *        https://www.rfc-editor.org/rfc/rfc9068#section-4
 *        https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig
 */
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey, ProtectedHeaderParameters } from 'jose';
import { PortcullisError } from '../errors.ts';
import { MAX_CLAIM_VALUE_LENGTH, expandScopeTemplates, isSafeClaimValue } from './claims-template.ts';

export interface OidcProviderConfig {
  /** Must equal the token's `iss` exactly. */
  issuer: string;
  /** The token's `aud` must contain at least one of these. */
  audience: string | string[];
  /** Else discovered from `${issuer}/.well-known/openid-configuration` (`jwks_uri`), once. */
  jwksUrl?: string;
  /** Claim whose value becomes the agent name, e.g. 'sub', 'repository', 'azp', 'client_id'. */
  agentClaim: string;
  /** Repo patterns like 'github/acme/*' and database names; `{claim}` placeholders are filled from the token. */
  scopes: { read: string[]; write: string[]; db?: string[]; dbRead?: string[] };
}

export interface OidcIdentity {
  agent: string;
  issuer: string;
  subject: string;
  scopes: { read: string[]; write: string[] };
  databases: { readWrite: string[]; readOnly: string[] };
  expiresAt: Date;
}

export interface OidcVerifier {
  verify(token: string): Promise<OidcIdentity>;
}

/**
 * Asymmetric only. With a symmetric algorithm (HS*) a token could be "signed" with the issuer's
 * *public* key as the HMAC secret (algorithm confusion); `none` is not a signature at all.
 */
const ACCEPTED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'];
const ACCEPTED_ALGORITHMS_TEXT = 'RS256/384/512, PS256/384/512, ES256/384 or EdDSA';

/** Absorbs small clock differences between the issuer and us. */
const CLOCK_TOLERANCE_SECONDS = 30;
/** Bounds discovery and JWKS requests so a hung issuer refuses tokens instead of hanging pushes. */
const FETCH_TIMEOUT_MS = 5_000;
/** Real IdP tokens are a few KB; anything this large is refused before any parsing. */
const MAX_TOKEN_LENGTH = 16_384;

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * True when the token has the shape of a compact JWS with a JSON header naming an `alg`, so the
 * caller can route it here rather than to portcullis-token lookup. Says nothing about validity:
 * `alg: none` tokens look like JWTs too, and `verify` refuses them with a clear message.
 */
export function looksLikeJwt(token: string): boolean {
  if (!COMPACT_JWS.test(token)) return false;
  try {
    return typeof decodeProtectedHeader(token).alg === 'string';
  } catch {
    return false;
  }
}

export function createOidcVerifier(
  providers: OidcProviderConfig[],
  options: { now?: () => Date } = {},
): OidcVerifier {
  const now = options.now ?? (() => new Date());
  const byIssuer = new Map<string, OidcProviderConfig>();
  for (const provider of providers) {
    if (byIssuer.has(provider.issuer)) {
      throw new PortcullisError('CONFIG_INVALID', `identity.oidc lists issuer ${provider.issuer} more than once`, {
        hint: 'keep one entry per issuer; list several audiences in its `audience` instead',
      });
    }
    byIssuer.set(provider.issuer, provider);
  }

  // One remote key set per issuer, made on first use. jose caches its keys and refetches when a
  // token names an unknown `kid` (at most once per 30 s cooldown), so rotated keys are picked up.
  const keySets = new Map<string, Promise<JWTVerifyGetKey>>();

  function keySetFor(provider: OidcProviderConfig): Promise<JWTVerifyGetKey> {
    const cached = keySets.get(provider.issuer);
    if (cached) return cached;
    const created = locateJwks(provider).then((url) => guardKeyFetch(createRemoteJWKSet(url, { timeoutDuration: FETCH_TIMEOUT_MS }), provider, url));
    keySets.set(provider.issuer, created);
    // A failed discovery is not remembered: the next token tries again rather than staying refused.
    created.catch(() => {
      if (keySets.get(provider.issuer) === created) keySets.delete(provider.issuer);
    });
    return created;
  }

  return {
    async verify(token: string): Promise<OidcIdentity> {
      const { issuer, header } = readUnverified(token);
      const provider = byIssuer.get(issuer);
      if (!provider) {
        throw new PortcullisError('OIDC_INVALID', `token issuer ${quote(issuer)} is not configured in identity.oidc`, {
          hint: 'add the issuer to identity.oidc in the portcullis config, or use a portcullis token',
        });
      }
      const getKey = await keySetFor(provider);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          issuer: provider.issuer,
          audience: provider.audience,
          algorithms: ACCEPTED_ALGORITHMS,
          // RFC 9068 §2.2 makes `sub` required; `exp` bounds how long the identity is trusted.
          requiredClaims: ['exp', 'sub'],
          currentDate: now(),
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
        }));
      } catch (error) {
        throw describeVerificationFailure(error, provider, header);
      }
      return toIdentity(payload, provider);
    },
  };
}

/** The token's `iss` and header, read before verification only to choose the provider. */
function readUnverified(token: string): { issuer: string; header: ProtectedHeaderParameters } {
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new PortcullisError('OIDC_INVALID', `token is longer than ${MAX_TOKEN_LENGTH} characters; refusing it`);
  }
  let header: ProtectedHeaderParameters;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch (cause) {
    throw new PortcullisError('OIDC_INVALID', 'token is not a well-formed JWT', {
      hint: 'pass the raw token from the identity provider (three base64url parts separated by dots)',
      cause,
    });
  }
  if (typeof claims.iss !== 'string' || claims.iss === '') {
    throw new PortcullisError('OIDC_INVALID', 'token has no "iss" claim, so its issuer cannot be checked');
  }
  return { issuer: claims.iss, header };
}

async function locateJwks(provider: OidcProviderConfig): Promise<URL> {
  if (provider.jwksUrl !== undefined) return new URL(provider.jwksUrl);
  const discoveryUrl = `${provider.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let document: unknown;
  try {
    const response = await fetch(discoveryUrl, {
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      redirect: 'manual',
      headers: { accept: 'application/json' },
    });
    if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
    document = await response.json();
  } catch (cause) {
    throw new PortcullisError(
      'UPSTREAM_UNREACHABLE',
      `the OpenID configuration of issuer ${provider.issuer} could not be fetched from ${discoveryUrl}; the token was refused`,
      { hint: 'check that portcullis can reach the issuer, or set identity.oidc[].jwksUrl', cause },
    );
  }
  const fields = typeof document === 'object' && document !== null ? (document as Record<string, unknown>) : {};
  // Discovery §4.3: the document must name the issuer it was fetched for, else it is not its keys.
  if (fields.issuer !== provider.issuer) {
    throw new PortcullisError(
      'UPSTREAM_ERROR',
      `the OpenID configuration at ${discoveryUrl} names issuer ${quote(fields.issuer)}, not ${provider.issuer}; the token was refused`,
      { hint: 'set identity.oidc[].issuer to exactly the issuer the provider reports' },
    );
  }
  const jwksUri = parseUrl(fields.jwks_uri);
  // Discovery must not downgrade transport: an https issuer's keys come over https.
  if (!jwksUri || !(jwksUri.protocol === 'https:' || (jwksUri.protocol === 'http:' && new URL(discoveryUrl).protocol === 'http:'))) {
    throw new PortcullisError(
      'UPSTREAM_ERROR',
      `the OpenID configuration at ${discoveryUrl} has no usable jwks_uri; the token was refused`,
      { hint: 'set identity.oidc[].jwksUrl to the issuer\'s JWKS address' },
    );
  }
  return jwksUri;
}

/**
 * Tells a JWKS that could not be fetched (network, timeout, non-200, bad JSON) apart from one that
 * was fetched but holds no key for this token, so people get the right remedy.
 */
function guardKeyFetch(getKey: JWTVerifyGetKey, provider: OidcProviderConfig, url: URL): JWTVerifyGetKey {
  return async function resolveSigningKey(header, token) {
    try {
      return await getKey(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      throw new PortcullisError(
        'UPSTREAM_UNREACHABLE',
        `the signing keys (JWKS) of issuer ${provider.issuer} could not be fetched from ${url.href}; the token was refused`,
        { hint: 'check that portcullis can reach the issuer; tokens are refused until its keys can be fetched', cause: error },
      );
    }
  };
}

function describeVerificationFailure(
  error: unknown,
  provider: OidcProviderConfig,
  header: ProtectedHeaderParameters,
): PortcullisError {
  if (error instanceof PortcullisError) return error;
  const issuer = provider.issuer;
  if (error instanceof errors.JWTExpired) {
    return new PortcullisError('TOKEN_EXPIRED', `token from issuer ${issuer} expired at ${isoTime(error.payload.exp)}; request a new token`, {
      hint: 'identity-provider tokens are short-lived; fetch one just before running git',
      cause: error,
    });
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') {
      return new PortcullisError('OIDC_INVALID', `token from issuer ${issuer} has no "${error.claim}" claim`, { cause: error });
    }
    if (error.claim === 'nbf') {
      return new PortcullisError('OIDC_INVALID', `token from issuer ${issuer} is not valid before ${isoTime(error.payload.nbf)}`, {
        hint: 'check the clocks of the issuer and the portcullis host',
        cause: error,
      });
    }
    if (error.claim === 'aud') {
      const expected = [provider.audience].flat().join(', ');
      return new PortcullisError('OIDC_INVALID', `token audience ${quote(error.payload.aud)} is not accepted for issuer ${issuer}`, {
        hint: `request the token for audience ${expected} (identity.oidc[].audience)`,
        cause: error,
      });
    }
    return new PortcullisError('OIDC_INVALID', `token from issuer ${issuer} has an invalid "${error.claim}" claim`, { cause: error });
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new PortcullisError('OIDC_INVALID', `token is signed with alg ${quote(header.alg)}, which is not accepted`, {
      hint: `only asymmetric signatures are accepted: ${ACCEPTED_ALGORITHMS_TEXT}`,
      cause: error,
    });
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new PortcullisError('OIDC_INVALID', `token signature does not verify against the keys of issuer ${issuer}`, { cause: error });
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new PortcullisError('OIDC_INVALID', `no signing key of issuer ${issuer} matches the token (kid ${quote(header.kid)})`, {
      hint: 'if the issuer has just rotated its keys, retry in 30 seconds',
      cause: error,
    });
  }
  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return new PortcullisError('OIDC_INVALID', `several signing keys of issuer ${issuer} match the token and it names no kid; refusing to guess`, { cause: error });
  }
  return new PortcullisError('OIDC_INVALID', `token from issuer ${issuer} could not be verified: it is not a well-formed signed JWT`, { cause: error });
}

function toIdentity(payload: JWTPayload, provider: OidcProviderConfig): OidcIdentity {
  const agent = payload[provider.agentClaim];
  // The agent name ends up in audit records, paths and policy matches, so it gets the same charset
  // as placeholder values.
  if (!isSafeClaimValue(agent)) {
    throw new PortcullisError('OIDC_INVALID', `token claim "${provider.agentClaim}" cannot be used as the agent name (got ${quote(agent)})`, {
      hint: `it must be a string of letters, digits, ".", "_", "/" or "-" (no ".."), at most ${MAX_CLAIM_VALUE_LENGTH} characters; change identity.oidc[].agentClaim`,
    });
  }
  if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') {
    throw new PortcullisError('OIDC_INVALID', `token from issuer ${provider.issuer} has a non-string "sub" or non-numeric "exp" claim`);
  }
  return {
    agent,
    issuer: provider.issuer,
    subject: payload.sub,
    scopes: {
      read: expandScopeTemplates(provider.scopes.read, payload),
      write: expandScopeTemplates(provider.scopes.write, payload),
    },
    databases: {
      readWrite: expandScopeTemplates(provider.scopes.db ?? [], payload),
      readOnly: expandScopeTemplates(provider.scopes.dbRead ?? [], payload),
    },
    expiresAt: new Date(payload.exp * 1000),
  };
}

function parseUrl(value: unknown): URL | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function isoTime(seconds: unknown): string {
  return typeof seconds === 'number' && Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString() : 'an unreadable time';
}

/** Token-supplied values are quoted and shortened before they reach a message. */
function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
