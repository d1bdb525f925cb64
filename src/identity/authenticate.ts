import { desc, eq } from 'drizzle-orm';
import type { Clock } from '../clock.ts';
import { PortcullisError } from '../errors.ts';
import type { DatabaseScopes, RepoScopes } from '../policy/index.ts';
import { tables, type Database } from '../store/index.ts';
import { looksLikeJwt, type OidcVerifier } from './oidc.ts';
import { decodeScramVerifier, type ScramVerifier } from './scram.ts';
import { hashToken, tokenKindOf } from './token.ts';

export interface AgentPrincipal {
  agent: string;
  authMethod: 'token' | 'oidc';
  scopes: RepoScopes;
  databases: DatabaseScopes;
}

/** What the PostgreSQL proxy needs to run SCRAM for a user name before any token is seen. */
export interface ScramCandidate {
  verifier: ScramVerifier;
  /** Called once the client proved it holds the token: the same checks as a presented token. */
  principal(): AgentPrincipal;
}

export interface Authenticator {
  /** Resolves the credential to an agent or throws a PortcullisError saying why not. */
  authenticateAgent(credential: string | null): Promise<AgentPrincipal>;
  authenticateAdmin(credential: string | null): Promise<void>;
  /** The active agent of this name with a SCRAM verifier, or null (unknown, or a token issued before database access). */
  scramCandidate(agentName: string): Promise<ScramCandidate | null>;
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
        return { agent: identity.agent, authMethod: 'oidc', scopes: identity.scopes, databases: identity.databases };
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
      return principalOf(row, clock);
    },

    async scramCandidate(agentName) {
      // Revoked and expired rows are kept so that, after a correct proof, the agent hears why it is refused.
      const rows = await db.select().from(tables.agents).where(eq(tables.agents.name, agentName)).orderBy(desc(tables.agents.createdAt)).limit(1);
      const row = rows[0];
      const verifier = row?.scramVerifier ? decodeScramVerifier(row.scramVerifier) : null;
      if (!row || !verifier) return null;
      return { verifier, principal: () => principalOf(row, clock) };
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

function principalOf(row: typeof tables.agents.$inferSelect, clock: Clock): AgentPrincipal {
  if (row.revokedAt) {
    throw new PortcullisError('TOKEN_REVOKED', `the token of agent ${row.name} was revoked at ${row.revokedAt.toISOString()}`, {
      hint: 'ask a portcullis admin for a new agent token',
    });
  }
  checkExpiry(row.expiresAt, clock, `the token of agent ${row.name}`);
  return {
    agent: row.name,
    authMethod: 'token',
    scopes: { read: row.readScopes, write: row.writeScopes },
    databases: { readWrite: row.dbScopes, readOnly: row.dbReadScopes },
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
