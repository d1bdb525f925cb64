import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { PortcullisError } from '../../../src/errors.ts';
import { expandScopeTemplate, expandScopeTemplates } from '../../../src/identity/claims-template.ts';
import { createOidcVerifier, looksLikeJwt } from '../../../src/identity/oidc.ts';
import type { OidcProviderConfig } from '../../../src/identity/oidc.ts';
import { startOidcIssuer } from '../../helpers/oidc-issuer.ts';
import type { OidcIssuer } from '../../helpers/oidc-issuer.ts';

const AUDIENCE = 'https://portcullis.example';

/** The claims GitHub Actions puts in a workflow's OIDC token (trimmed). */
const githubActionsClaims = {
  aud: AUDIENCE,
  sub: 'repo:acme/app:ref:refs/heads/main',
  repository: 'acme/app',
  repository_owner: 'acme',
  ref: 'refs/heads/main',
  workflow: 'ci',
};

let issuer: OidcIssuer;

function provider(overrides: Partial<OidcProviderConfig> = {}): OidcProviderConfig {
  return {
    issuer: issuer.issuer,
    audience: AUDIENCE,
    jwksUrl: issuer.jwksUrl,
    agentClaim: 'repository',
    scopes: { read: ['github/{repository_owner}/*'], write: ['github/{repository}'] },
    ...overrides,
  };
}

/** Verifies and returns the PortcullisError, checking it never echoes the token. */
async function refusal(verify: Promise<unknown>, token: string): Promise<PortcullisError> {
  const error = await verify.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(PortcullisError);
  const refused = error as PortcullisError;
  expect(refused.userMessage).not.toContain(token);
  expect(refused.hint ?? '').not.toContain(token);
  expect(JSON.stringify(refused)).not.toContain(token.split('.')[2] || token);
  return refused;
}

describe('looksLikeJwt', () => {
  beforeAll(async () => {
    issuer = await startOidcIssuer();
  });
  afterAll(() => issuer.close());

  it('recognises compact JWS tokens, including unsecured ones', async () => {
    expect(looksLikeJwt(await issuer.sign(githubActionsClaims))).toBe(true);
    expect(looksLikeJwt(await issuer.sign(githubActionsClaims, { alg: 'none' }))).toBe(true);
  });

  it.each(['pcl_0123456789abcdef', '', 'a.b', 'a.b.c.d', 'abc.def.ghi', 'eyJhbGciOiJSUzI1NiJ9.e30.sig nature'])(
    'rejects %j',
    (token) => {
      expect(looksLikeJwt(token)).toBe(false);
    },
  );
});

describe('createOidcVerifier', () => {
  // A fresh issuer per test: request counters, key rotation and outages must not leak between tests.
  beforeEach(async () => {
    issuer = await startOidcIssuer();
  });
  afterEach(async () => {
    vi.useRealTimers();
    await issuer.close().catch(() => undefined);
  });

  it('turns a GitHub Actions token into an identity with templated scopes', async () => {
    const token = await issuer.sign(githubActionsClaims);
    const identity = await createOidcVerifier([provider()]).verify(token);
    const exp = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp as number;
    expect(identity).toEqual({
      agent: 'acme/app',
      issuer: issuer.issuer,
      subject: 'repo:acme/app:ref:refs/heads/main',
      scopes: { read: ['github/acme/*'], write: ['github/acme/app'] },
      databases: { readWrite: [], readOnly: [] },
      expiresAt: new Date(exp * 1000),
    });
  });

  it('accepts a token whose aud is one of several configured audiences', async () => {
    const token = await issuer.sign({ ...githubActionsClaims, aud: ['other', 'api://portcullis'] });
    const verifier = createOidcVerifier([provider({ audience: ['api://portcullis', AUDIENCE] })]);
    await expect(verifier.verify(token)).resolves.toMatchObject({ agent: 'acme/app' });
  });

  it('picks the provider by issuer when several are configured', async () => {
    const other = await startOidcIssuer();
    try {
      const verifier = createOidcVerifier([
        { issuer: other.issuer, audience: 'x', jwksUrl: other.jwksUrl, agentClaim: 'azp', scopes: { read: [], write: [] } },
        provider({ agentClaim: 'client_id', scopes: { read: ['github/acme/*'], write: [] } }),
      ]);
      const identity = await verifier.verify(await issuer.sign({ aud: AUDIENCE, sub: 'svc-1', client_id: 'deploy-bot' }));
      expect(identity).toMatchObject({ agent: 'deploy-bot', subject: 'svc-1', scopes: { read: ['github/acme/*'], write: [] } });
      expect(other.jwksRequests).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('discovers the JWKS from the issuer when no jwksUrl is configured, once', async () => {
    const verifier = createOidcVerifier([provider({ jwksUrl: undefined })]);
    for (let i = 0; i < 3; i += 1) {
      await expect(verifier.verify(await issuer.sign(githubActionsClaims))).resolves.toMatchObject({ agent: 'acme/app' });
    }
    expect(issuer.discoveryRequests).toBe(1);
    expect(issuer.jwksRequests).toBe(1);
  });

  it('refuses when the discovered configuration names another issuer', async () => {
    const configured = `${issuer.issuer}/`;
    const token = await issuer.sign({ ...githubActionsClaims, iss: configured });
    const verifier = createOidcVerifier([provider({ issuer: configured, jwksUrl: undefined })]);
    const error = await refusal(verifier.verify(token), token);
    expect(error.userMessage).toContain(`names issuer "${issuer.issuer}"`);
    expect(issuer.jwksRequests).toBe(0);
  });

  it('caches the JWKS across many verifications', async () => {
    const verifier = createOidcVerifier([provider()]);
    const tokens = await Promise.all(Array.from({ length: 10 }, () => issuer.sign(githubActionsClaims)));
    await Promise.all(tokens.map((token) => verifier.verify(token)));
    for (const token of tokens) await verifier.verify(token);
    expect(issuer.jwksRequests).toBe(1);
  });

  it('refuses an expired token with TOKEN_EXPIRED and the expiry time', async () => {
    const exp = Math.floor(Date.now() / 1000) - 3600;
    const token = await issuer.sign({ ...githubActionsClaims, exp });
    const error = await refusal(createOidcVerifier([provider()]).verify(token), token);
    expect(error.code).toBe('TOKEN_EXPIRED');
    expect(error.userMessage).toBe(
      `token from issuer ${issuer.issuer} expired at ${new Date(exp * 1000).toISOString()}; request a new token`,
    );
  });

  it('judges expiry by the injected clock, with 30 s tolerance', async () => {
    const exp = Math.floor(Date.now() / 1000) + 300;
    const token = await issuer.sign({ ...githubActionsClaims, exp });
    const at = (seconds: number) => createOidcVerifier([provider()], { now: () => new Date(seconds * 1000) });
    await expect(at(exp + 20).verify(token)).resolves.toMatchObject({ agent: 'acme/app' });
    await expect(at(exp + 31).verify(token)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
  });

  it('refuses a token that is not valid yet', async () => {
    const nbf = Math.floor(Date.now() / 1000) + 600;
    const token = await issuer.sign({ ...githubActionsClaims, nbf, exp: nbf + 300 });
    const error = await refusal(createOidcVerifier([provider()]).verify(token), token);
    expect(error.code).toBe('OIDC_INVALID');
    expect(error.userMessage).toContain(`not valid before ${new Date(nbf * 1000).toISOString()}`);
    // The same token is fine once the (injected) clock reaches nbf.
    const later = createOidcVerifier([provider()], { now: () => new Date(nbf * 1000) });
    await expect(later.verify(token)).resolves.toMatchObject({ agent: 'acme/app' });
  });

  it('refuses a token for another audience', async () => {
    const token = await issuer.sign({ ...githubActionsClaims, aud: 'sts.amazonaws.com' });
    const error = await refusal(createOidcVerifier([provider()]).verify(token), token);
    expect(error.code).toBe('OIDC_INVALID');
    expect(error.userMessage).toBe(`token audience "sts.amazonaws.com" is not accepted for issuer ${issuer.issuer}`);
    expect(error.hint).toContain(AUDIENCE);
  });

  it('refuses a token without aud or sub', async () => {
    const verifier = createOidcVerifier([provider()]);
    const { aud: _aud, ...withoutAud } = githubActionsClaims;
    const { sub: _sub, ...withoutSub } = githubActionsClaims;
    const noAud = await issuer.sign(withoutAud);
    const noSub = await issuer.sign(withoutSub);
    expect((await refusal(verifier.verify(noAud), noAud)).userMessage).toContain('has no "aud" claim');
    expect((await refusal(verifier.verify(noSub), noSub)).userMessage).toContain('has no "sub" claim');
  });

  it('refuses an unknown issuer without fetching anything', async () => {
    const token = await issuer.sign({ ...githubActionsClaims, iss: 'https://token.evil.example' });
    const error = await refusal(createOidcVerifier([provider({ jwksUrl: undefined })]).verify(token), token);
    expect(error.code).toBe('OIDC_INVALID');
    expect(error.userMessage).toBe('token issuer "https://token.evil.example" is not configured in identity.oidc');
    expect(issuer.discoveryRequests + issuer.jwksRequests).toBe(0);
  });

  it('refuses tokens that are not JWTs or carry no issuer', async () => {
    const verifier = createOidcVerifier([provider()]);
    await expect(verifier.verify('pcl_not-a-jwt')).rejects.toMatchObject({ code: 'OIDC_INVALID', userMessage: 'token is not a well-formed JWT' });
    const noIss = await issuer.sign({ ...githubActionsClaims, iss: undefined });
    expect((await refusal(verifier.verify(noIss), noIss)).userMessage).toContain('no "iss" claim');
    await expect(verifier.verify(`${'a'.repeat(20_000)}.b.c`)).rejects.toMatchObject({ code: 'OIDC_INVALID' });
  });

  it('refuses a tampered payload and a tampered signature', async () => {
    const verifier = createOidcVerifier([provider()]);
    const [header, , signature] = (await issuer.sign(githubActionsClaims)).split('.');
    const [, otherPayload] = (await issuer.sign({ ...githubActionsClaims, repository: 'acme/secrets' })).split('.');
    const swapped = `${header}.${otherPayload}.${signature}`;
    const swappedError = await refusal(verifier.verify(swapped), swapped);
    expect(swappedError.userMessage).toBe(`token signature does not verify against the keys of issuer ${issuer.issuer}`);

    const good = await issuer.sign(githubActionsClaims);
    const bytes = Buffer.from(good.split('.')[2]!, 'base64url');
    bytes[0] = bytes[0]! ^ 0xff;
    const flipped = `${good.split('.').slice(0, 2).join('.')}.${bytes.toString('base64url')}`;
    expect((await refusal(verifier.verify(flipped), flipped)).code).toBe('OIDC_INVALID');
  });

  it.each(['none', 'HS256', 'HS512'])('refuses alg %s (no key is even looked up)', async (alg) => {
    const token = await issuer.sign(githubActionsClaims, { alg });
    const error = await refusal(createOidcVerifier([provider()]).verify(token), token);
    expect(error.code).toBe('OIDC_INVALID');
    expect(error.userMessage).toBe(`token is signed with alg "${alg}", which is not accepted`);
    expect(error.hint).toContain('asymmetric');
    expect(issuer.jwksRequests).toBe(0);
  });

  it('picks up a rotated key by refetching the JWKS for the unknown kid', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const verifier = createOidcVerifier([provider()]);
    const before = await issuer.sign(githubActionsClaims);
    await verifier.verify(before);
    expect(issuer.jwksRequests).toBe(1);

    await issuer.rotateKey();
    // jose refetches for an unknown kid at most once per 30 s cooldown (jose uses the wall clock).
    vi.setSystemTime(Date.now() + 31_000);
    const after = await issuer.sign(githubActionsClaims);
    await expect(verifier.verify(after)).resolves.toMatchObject({ agent: 'acme/app' });
    expect(issuer.jwksRequests).toBe(2);

    // The old key is gone from the JWKS, and the cooldown stops a refetch storm.
    const error = await refusal(verifier.verify(before), before);
    expect(error.userMessage).toContain('no signing key of issuer');
    expect(issuer.jwksRequests).toBe(2);
  });

  it('does not refetch the JWKS for unknown kids within the cooldown', async () => {
    const verifier = createOidcVerifier([provider()]);
    await verifier.verify(await issuer.sign(githubActionsClaims));
    const token = await issuer.sign(githubActionsClaims, { kid: 'made-up' });
    const error = await refusal(verifier.verify(token), token);
    expect(error.userMessage).toBe(`no signing key of issuer ${issuer.issuer} matches the token (kid "made-up")`);
    expect(issuer.jwksRequests).toBe(1);
  });

  it('fails closed when the JWKS cannot be fetched', async () => {
    const token = await issuer.sign(githubActionsClaims);
    await issuer.close();
    const error = await refusal(createOidcVerifier([provider()]).verify(token), token);
    expect(error.code).toBe('UPSTREAM_UNREACHABLE');
    expect(error.userMessage).toBe(
      `the signing keys (JWKS) of issuer ${issuer.issuer} could not be fetched from ${issuer.jwksUrl}; the token was refused`,
    );
  });

  it('fails closed when discovery cannot be fetched', async () => {
    const token = await issuer.sign(githubActionsClaims);
    await issuer.close();
    const error = await refusal(createOidcVerifier([provider({ jwksUrl: undefined })]).verify(token), token);
    expect(error.code).toBe('UPSTREAM_UNREACHABLE');
    expect(error.userMessage).toContain(`the OpenID configuration of issuer ${issuer.issuer} could not be fetched`);
  });

  it('fails closed while the issuer answers errors, and recovers without a restart', async () => {
    const verifier = createOidcVerifier([provider({ jwksUrl: undefined })]);
    const token = await issuer.sign(githubActionsClaims);
    issuer.setUnavailable(true);
    const discoveryError = await refusal(verifier.verify(token), token);
    expect(discoveryError.userMessage).toContain('OpenID configuration');
    issuer.setUnavailable(false);
    await expect(verifier.verify(token)).resolves.toMatchObject({ agent: 'acme/app' });
    expect(issuer.discoveryRequests).toBe(2);
  });

  it('fails closed when the JWKS answers an error, and recovers without a restart', async () => {
    const verifier = createOidcVerifier([provider()]);
    const token = await issuer.sign(githubActionsClaims);
    issuer.setUnavailable(true);
    const error = await refusal(verifier.verify(token), token);
    expect(error.code).toBe('UPSTREAM_UNREACHABLE');
    expect(error.userMessage).toContain('signing keys (JWKS)');
    issuer.setUnavailable(false);
    await expect(verifier.verify(token)).resolves.toMatchObject({ agent: 'acme/app' });
    expect(issuer.jwksRequests).toBe(2);
  });

  it('drops scope patterns whose placeholder claim is missing or unsafe, keeping the rest', async () => {
    const verifier = createOidcVerifier([
      provider({
        scopes: {
          read: ['github/acme/docs', 'github/{repository_owner}/*', 'github/{environment}/x', 'github/{run_number}'],
          write: ['github/{repository}', 'github/{ref}'],
        },
      }),
    ]);
    const token = await issuer.sign({ ...githubActionsClaims, repository_owner: '*', ref: '../../etc', run_number: 7 });
    const identity = await verifier.verify(token);
    expect(identity.scopes).toEqual({ read: ['github/acme/docs'], write: ['github/acme/app'] });
  });

  it.each([
    ['sub', 'repo:acme/app:ref:refs/heads/main'],
    ['workflow', ''],
    ['missing_claim', undefined],
    ['repository', 'a'.repeat(201)],
    ['repository', 'acme/../root'],
  ])('refuses agentClaim %s = %j as an agent name', async (agentClaim, value) => {
    const token = await issuer.sign({ ...githubActionsClaims, [agentClaim]: value });
    const error = await refusal(createOidcVerifier([provider({ agentClaim })]).verify(token), token);
    expect(error.code).toBe('OIDC_INVALID');
    expect(error.userMessage).toContain(`token claim "${agentClaim}" cannot be used as the agent name`);
  });

  it('refuses a config listing one issuer twice', () => {
    expect(() => createOidcVerifier([provider(), provider()])).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('expandScopeTemplate', () => {
  const claims = { repository: 'acme/app', owner: 'acme', bad: 'a*', dots: 'a..b', list: ['x'] };

  it.each([
    ['github/{repository}', 'github/acme/app'],
    ['github/{owner}/{owner}-*', 'github/acme/acme-*'],
    ['github/acme/{app,lib}', 'github/acme/{app,lib}'],
    ['github/acme/app', 'github/acme/app'],
    ['github/{bad}', undefined],
    ['github/{dots}', undefined],
    ['github/{list}', undefined],
    ['github/{owner}/{absent}', undefined],
    ['github/{toString}', undefined],
  ])('%s → %s', (pattern, expected) => {
    expect(expandScopeTemplate(pattern, claims)).toBe(expected);
  });

  it('keeps only the patterns that expand', () => {
    expect(expandScopeTemplates(['{owner}/*', '{bad}/*', 'fixed'], claims)).toEqual(['acme/*', 'fixed']);
  });
});
