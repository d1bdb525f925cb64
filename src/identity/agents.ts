import { and, asc, eq, isNull } from 'drizzle-orm';
import { newId, type Clock } from '../clock.ts';
import { PortcullisError } from '../errors.ts';
import { tables, type Database } from '../store/index.ts';
import { createScramVerifier, encodeScramVerifier } from './scram.ts';
import { generateToken, hashToken } from './token.ts';

export interface AgentSpec {
  name: string;
  read: string[];
  write: string[];
  /** Lifetime in ms; none means the token lives until revoked. */
  expiresInMs?: number;
  /** The GitHub login the agent commits as: it may never approve its own holds on GitHub. */
  githubLogin?: string;
  /** Database names (globs) it may read and change through the PostgreSQL proxy. */
  db?: string[];
  /** Database names (globs) it may only read. */
  dbRead?: string[];
}

export interface AgentSummary {
  name: string;
  read: string[];
  write: string[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  githubLogin: string | null;
  db: string[];
  dbRead: string[];
  status: 'active' | 'expired' | 'revoked';
}

const AGENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/;
const SCOPE_PATTERN = /^[^/\s]+\/[^/\s]+\/[^/\s]+$/;
/** GitHub logins: letters, digits, single hyphens, up to 39 characters; apps act as `<slug>[bot]`. */
const DATABASE_PATTERN = /^[A-Za-z0-9_.*?{},\[\]-]{1,100}$/;
const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/;

export async function addAgent(db: Database, clock: Clock, spec: AgentSpec): Promise<{ agent: AgentSummary; token: string }> {
  if (!AGENT_NAME.test(spec.name)) {
    throw new PortcullisError('CONFIG_INVALID', `"${spec.name}" is not a valid agent name`, {
      hint: 'use letters, digits, ".", "_", "@" or "-" (up to 100 characters)',
    });
  }
  for (const pattern of [...spec.read, ...spec.write]) {
    if (!SCOPE_PATTERN.test(pattern)) {
      throw new PortcullisError('CONFIG_INVALID', `scope "${pattern}" must look like remote/owner/repo`, {
        hint: 'globs are allowed in each part, e.g. local/acme/* or github/acme/app-*',
      });
    }
  }
  for (const pattern of [...(spec.db ?? []), ...(spec.dbRead ?? [])]) {
    if (!DATABASE_PATTERN.test(pattern)) {
      throw new PortcullisError('CONFIG_INVALID', `database scope "${pattern}" must be a database name from portcullis.yml (globs allowed)`, {
        hint: 'e.g. --db analytics or --db-read "prod-*"',
      });
    }
  }
  if (spec.githubLogin !== undefined && !GITHUB_LOGIN.test(spec.githubLogin)) {
    throw new PortcullisError('CONFIG_INVALID', `"${spec.githubLogin}" is not a GitHub login`, {
      hint: 'give the login the agent commits as on GitHub, e.g. acme-ci-bot (an app: its-slug[bot])',
    });
  }
  const existing = await db
    .select({ id: tables.agents.id })
    .from(tables.agents)
    .where(and(eq(tables.agents.name, spec.name), isNull(tables.agents.revokedAt)));
  if (existing.length > 0) {
    throw new PortcullisError('AGENT_EXISTS', `agent ${spec.name} already exists`, {
      hint: `revoke it first (portcullis agent revoke ${spec.name}) or pick another name`,
    });
  }
  const token = generateToken('agent');
  const now = clock.now();
  const row = {
    id: newId(clock),
    name: spec.name,
    tokenHash: hashToken(token),
    readScopes: spec.read,
    writeScopes: spec.write,
    createdAt: now,
    expiresAt: spec.expiresInMs ? new Date(now.getTime() + spec.expiresInMs) : null,
    revokedAt: null,
    githubLogin: spec.githubLogin ?? null,
    dbScopes: spec.db ?? [],
    dbReadScopes: spec.dbRead ?? [],
    scramVerifier: encodeScramVerifier(createScramVerifier(token)),
  };
  await db.insert(tables.agents).values(row);
  return { agent: summarize(row, now), token };
}

export async function listAgents(db: Database, clock: Clock): Promise<AgentSummary[]> {
  const rows = await db.select().from(tables.agents).orderBy(asc(tables.agents.name), asc(tables.agents.createdAt));
  const now = clock.now();
  return rows.map((row) => summarize(row, now));
}

export async function revokeAgent(db: Database, clock: Clock, name: string): Promise<AgentSummary> {
  const rows = await db
    .update(tables.agents)
    .set({ revokedAt: clock.now() })
    .where(and(eq(tables.agents.name, name), isNull(tables.agents.revokedAt)))
    .returning();
  const row = rows[0];
  if (!row) {
    throw new PortcullisError('AGENT_NOT_FOUND', `no active agent named ${name}`, {
      hint: 'portcullis agent list shows the agents',
    });
  }
  return summarize(row, clock.now());
}

/** The GitHub logins ever linked to agents of this name (revoked rows too: a name reissued keeps its past). */
export async function agentGitHubLogins(db: Database, name: string): Promise<string[]> {
  const rows = await db.select({ githubLogin: tables.agents.githubLogin }).from(tables.agents).where(eq(tables.agents.name, name));
  return rows.flatMap((row) => (row.githubLogin ? [row.githubLogin] : []));
}

type AgentRow = typeof tables.agents.$inferSelect;

function summarize(row: AgentRow, now: Date): AgentSummary {
  return {
    name: row.name,
    read: row.readScopes,
    write: row.writeScopes,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    githubLogin: row.githubLogin,
    db: row.dbScopes,
    dbRead: row.dbReadScopes,
    status: row.revokedAt ? 'revoked' : row.expiresAt && row.expiresAt <= now ? 'expired' : 'active',
  };
}
