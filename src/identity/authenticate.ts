import { eq } from 'drizzle-orm';
import type { Clock } from '../clock.ts';
import { PortcullisError } from '../errors.ts';
import type { RepoScopes } from '../policy/index.ts';
import { tables, type Database } from '../store/index.ts';
import { looksLikeJwt, type OidcVerifier } from './oidc.ts';
import { hashToken, tokenKindOf } from './token.ts';

export interface AgentPrincipal {
  agent: string;
  authMethod: 'token' | 'oidc';
  scopes: RepoScopes;
}

export interface Authenticator {
  /** Resolves the credential to an agent or throws a PortcullisError saying why not. */
  authenticateAgent(credential: string | null): Promise<AgentPrincipal>;
  authenticateAdmin(credential: string | null): Promise<void>;
}

export interface AuthenticatorDeps {
  db: Database;
  clock: Clock;
  oidc: OidcVerifier | null;
}

/** The one token check used by every protocol. Nothing is cached, so a revocation applies to the next request. */
export function createAuthenticator({ db, clock, oidc }: AuthenticatorDeps): Authenticator {
  return {
    async authenticateAgent(credential) {
      if (!credential) throw authRequired('an agent token');
      if (looksLikeJwt(credential)) {
        if (!oidc) {
          throw new PortcullisError('OIDC_INVALID', 'a JWT was presented but no OIDC issuer is configured', {
            hint: 'configure identity.oidc in portcullis.yml, or use a portcullis agent token',
          });
        }
        const identity = await oidc.verify(credential);
        return { agent: identity.agent, authMethod: 'oidc', scopes: identity.scopes };
      }
      const kind = tokenKindOf(credential);
      if (kind === 'admin') {
        throw new PortcullisError('TOKEN_INVALID', 'an admin token cannot be used for git or database access', {
          hint: 'issue an agent token: portcullis agent add NAME --read PATTERN',
        });
      }
      if (kind !== 'agent') throw tokenInvalid();
      const [row] = await db.select().from(tables.agents).where(eq(tables.agents.tokenHash, hashToken(credential)));
      if (!row) throw tokenInvalid();
      if (row.revokedAt) {
        throw new PortcullisError('TOKEN_REVOKED', `the token of agent ${row.name} was revoked at ${row.revokedAt.toISOString()}`, {
          hint: 'ask a portcullis admin for a new agent token',
        });
      }
      checkExpiry(row.expiresAt, clock, `the token of agent ${row.name}`);
      return { agent: row.name, authMethod: 'token', scopes: { read: row.readScopes, write: row.writeScopes } };
    },

    async authenticateAdmin(credential) {
      if (!credential) throw authRequired('an admin token');
      if (tokenKindOf(credential) !== 'admin') throw tokenInvalid();
      const [row] = await db
        .select()
        .from(tables.adminTokens)
        .where(eq(tables.adminTokens.tokenHash, hashToken(credential)));
      if (!row || row.revokedAt) throw tokenInvalid();
      checkExpiry(row.expiresAt, clock, 'the admin token');
    },
  };
}

function checkExpiry(expiresAt: Date | null, clock: Clock, what: string): void {
  if (expiresAt && expiresAt <= clock.now()) {
    throw new PortcullisError('TOKEN_EXPIRED', `${what} expired at ${expiresAt.toISOString()}`, {
      hint: 'ask a portcullis admin for a new token',
    });
  }
}

function authRequired(what: string): PortcullisError {
  return new PortcullisError('AUTH_REQUIRED', `authentication required: send ${what} as the password (HTTP Basic) or as a Bearer token`, {
    hint: 'for git: git config credential.helper store, then enter any username and the token as password',
  });
}

function tokenInvalid(): PortcullisError {
  return new PortcullisError('TOKEN_INVALID', 'the token presented is not a valid portcullis token', {
    hint: 'check for a typo or an old token; an admin can issue a new one with portcullis agent add',
  });
}
