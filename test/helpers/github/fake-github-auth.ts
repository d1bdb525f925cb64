/**
 * Authentication as GitHub does it for Apps
 * (https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app):
 * `/app…` routes take an RS256 JWT signed with the app's private key (`iss` = app id, `exp` at most
 * 10 minutes ahead); repository routes take an installation token minted by
 * POST /app/installations/{id}/access_tokens, valid until its `expires_at` (1 h by default).
 */
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { jwtVerify } from 'jose';
import { GitHubHttpError } from './fake-github-state.ts';
import type { FakeInstallation, IssuedToken, PermissionLevel } from './fake-github-state.ts';

/** GitHub refuses JWTs whose `exp` is more than 10 minutes after now; allow a little clock skew. */
const MAX_JWT_LIFETIME_S = 600;
const CLOCK_SKEW_S = 60;
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export type Credentials = { kind: 'none' } | { kind: 'bearer' | 'token' | 'basic'; value: string };

/** Splits an Authorization header; Basic carries the token as its password (`x-access-token:<token>`). */
export function readCredentials(header: string | undefined): Credentials {
  if (header === undefined || header.trim() === '') return { kind: 'none' };
  const [scheme = '', ...rest] = header.trim().split(/\s+/);
  const value = rest.join(' ');
  switch (scheme.toLowerCase()) {
    case 'bearer':
      return { kind: 'bearer', value };
    case 'token':
      return { kind: 'token', value };
    case 'basic': {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      return { kind: 'basic', value: decoded.slice(decoded.indexOf(':') + 1) };
    }
    default:
      return { kind: 'none' };
  }
}

export function createAppJwtVerifier(appId: number, publicKeyPem: string, now: () => number) {
  // createPublicKey reads both SPKI ("PUBLIC KEY") and PKCS#1 ("RSA PUBLIC KEY") PEM.
  const key: KeyObject = createPublicKey(publicKeyPem);

  return async function verifyAppJwt(credentials: Credentials): Promise<void> {
    if (credentials.kind !== 'bearer') {
      throw new GitHubHttpError(401, 'A JSON web token could not be decoded');
    }
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(credentials.value, key, {
        algorithms: ['RS256'],
        currentDate: new Date(now()),
        clockTolerance: CLOCK_SKEW_S,
      }));
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED') throw new GitHubHttpError(401, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires");
      throw new GitHubHttpError(401, 'A JSON web token could not be decoded');
    }
    const nowS = Math.floor(now() / 1000);
    if (typeof payload.iat !== 'number') throw new GitHubHttpError(401, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued");
    if (payload.iat > nowS + CLOCK_SKEW_S) throw new GitHubHttpError(401, "'Issued at' claim ('iat') must be an Integer representing a time in the past");
    if (typeof payload.exp !== 'number') throw new GitHubHttpError(401, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires");
    if (payload.exp > nowS + MAX_JWT_LIFETIME_S + CLOCK_SKEW_S) throw new GitHubHttpError(401, "'Expiration time' claim ('exp') is too far in the future");
    if (String(payload.iss) !== String(appId)) throw new GitHubHttpError(401, 'Integration not found');
  };
}

/** `ghs_` + 36 base62 characters, the classic shape (GitHub warns not to rely on the length). */
export function newInstallationToken(): string {
  const bytes = randomBytes(36);
  return `ghs_${Array.from(bytes, (b) => BASE62[b % BASE62.length]).join('')}`;
}

/**
 * Finds the issued, unexpired token. Unknown and expired tokens both get GitHub's 401 "Bad credentials".
 */
export function findToken(tokens: IssuedToken[], credentials: Credentials, nowMs: number): IssuedToken {
  if (credentials.kind === 'none') throw new GitHubHttpError(401, 'Requires authentication');
  const issued = tokens.find((t) => t.token === credentials.value);
  if (issued === undefined || issued.revoked || issued.expiresAt.getTime() <= nowMs) throw new GitHubHttpError(401, 'Bad credentials');
  return issued;
}

const LEVELS: Record<PermissionLevel, number> = { read: 1, write: 2, admin: 3 };

export function permits(granted: PermissionLevel | undefined, needed: PermissionLevel): boolean {
  return granted !== undefined && LEVELS[granted] >= LEVELS[needed];
}

/**
 * The token may touch `owner/repo` only if its installation covers the repository and the token
 * was not narrowed to others. GitHub answers 404, not 403, so as not to reveal private repositories.
 */
export function requireRepoAccess(token: IssuedToken, installation: FakeInstallation | undefined, owner: string, repo: string): void {
  const covered = installation?.repositories.some((r) => sameRepo(r.owner, r.name, owner, repo)) ?? false;
  const narrowed = token.repositories !== 'all' && !token.repositories.some((name) => name.toLowerCase() === repo.toLowerCase());
  if (!covered || narrowed || installation?.account.toLowerCase() !== owner.toLowerCase()) throw new GitHubHttpError(404, 'Not Found');
}

export function requirePermission(token: IssuedToken, anyOf: Array<[string, PermissionLevel]>): void {
  if (!anyOf.some(([name, level]) => permits(token.permissions[name], level))) {
    throw new GitHubHttpError(403, 'Resource not accessible by integration');
  }
}

export function sameRepo(ownerA: string, repoA: string, ownerB: string, repoB: string): boolean {
  return ownerA.toLowerCase() === ownerB.toLowerCase() && repoA.toLowerCase() === repoB.toLowerCase();
}
