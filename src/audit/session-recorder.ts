import { and, desc, eq, inArray, lt } from 'drizzle-orm';
import { newId, type Clock } from '../clock.ts';
import { PortcullisError } from '../errors.ts';
import { tables, type Database, type RequestOutcome } from '../store/index.ts';
import { appendAuditEvent, recordSha256, type AuditAppender } from './events.ts';

export interface SessionStart {
  kind: 'git';
  agent: string;
  authMethod: 'token' | 'oidc';
  sourceAddress: string;
  userAgent: string | null;
  remote: string;
  owner: string;
  repo: string;
  service: string;
  protocolVersion: number;
}

export interface RequestStart {
  sessionId: string;
  method: string;
  endpoint: string;
}

export interface RequestEnd {
  httpStatus: number;
  durationMs: number;
  outcome: RequestOutcome;
  bytesIn: number;
  bytesOut: number;
  details: Record<string, unknown>;
}

export type RecordedRequest = Omit<typeof tables.sessionRequests.$inferSelect, 'sessionId'>;
export type RecordedSession = typeof tables.sessions.$inferSelect;

export interface SessionRecorder {
  startSession(start: SessionStart): Promise<string>;
  /** Written before the request is served, so even a request the gateway dies during is on the record. */
  startRequest(start: RequestStart): Promise<string>;
  finishRequest(requestId: string, end: RequestEnd): Promise<void>;
  listSessions(filter: SessionFilter): Promise<Array<{ session: RecordedSession; requests: RecordedRequest[] }>>;
  getSession(id: string): Promise<{ session: RecordedSession; requests: RecordedRequest[] }>;
  /** Secrets found in a push: where and what kind, a redacted preview and the sha256, never the secret. */
  recordFindings(sessionId: string, findings: RecordedFinding[]): Promise<void>;
}

export interface RecordedFinding {
  commit: string;
  path: string;
  line: number;
  ruleId: string;
  preview: string;
  fingerprint: string;
}

export interface SessionFilter {
  agent?: string;
  /** `owner/repo` or `remote/owner/repo`. */
  repo?: string;
  /** Sessions that started before this id (pagination, newest first). */
  before?: string;
  limit?: number;
}

/** Recording fails closed: callers refuse the operation when the store cannot take the record. */
export function createSessionRecorder(db: Database, clock: Clock, audit?: AuditAppender): SessionRecorder {
  return {
    async startSession(start) {
      const id = newId(clock);
      await guard(() => db.insert(tables.sessions).values({ id, ...start, startedAt: clock.now() }));
      return id;
    },

    async startRequest(start) {
      const id = newId(clock);
      await guard(() =>
        db.insert(tables.sessionRequests).values({
          id,
          ...start,
          startedAt: clock.now(),
          durationMs: 0,
          httpStatus: 0,
          outcome: 'in_progress',
          bytesIn: 0,
          bytesOut: 0,
          details: {},
        }),
      );
      return id;
    },

    async finishRequest(requestId, end) {
      const [finished] = await guard(() =>
        db
          .update(tables.sessionRequests)
          .set(end)
          .where(eq(tables.sessionRequests.id, requestId))
          .returning({ sessionId: tables.sessionRequests.sessionId, endpoint: tables.sessionRequests.endpoint }),
      );
      if (audit && finished) {
        await appendAuditEvent(audit, 'git.request', {
          actor: null,
          subject: finished.sessionId,
          data: { sessionId: finished.sessionId, requestId, endpoint: finished.endpoint, outcome: end.outcome, httpStatus: end.httpStatus, detailsSha256: recordSha256(end.details) },
        });
      }
    },

    async listSessions(filter) {
      const conditions = [];
      if (filter.agent) conditions.push(eq(tables.sessions.agent, filter.agent));
      if (filter.repo) conditions.push(repoCondition(filter.repo));
      if (filter.before) conditions.push(lt(tables.sessions.id, filter.before));
      const sessions = await db
        .select()
        .from(tables.sessions)
        .where(and(...conditions))
        .orderBy(desc(tables.sessions.id))
        .limit(Math.min(filter.limit ?? 50, 500));
      if (sessions.length === 0) return [];
      const requests = await db
        .select()
        .from(tables.sessionRequests)
        .where(inArray(tables.sessionRequests.sessionId, sessions.map((s) => s.id)))
        .orderBy(tables.sessionRequests.id);
      return sessions.map((session) => ({
        session,
        requests: requests.filter((r) => r.sessionId === session.id).map(withoutSessionId),
      }));
    },

    async recordFindings(sessionId, findings) {
      if (findings.length === 0) return;
      const createdAt = clock.now();
      await guard(() =>
        db.insert(tables.findings).values(
          findings.map(({ commit, path, line, ruleId, preview, fingerprint }) => ({ id: newId(clock), sessionId, commit, path, line, ruleId, preview, fingerprint, createdAt })),
        ),
      );
    },

    async getSession(id) {
      const [session] = await db.select().from(tables.sessions).where(eq(tables.sessions.id, id));
      if (!session) {
        throw new PortcullisError('SESSION_NOT_FOUND', `no session with id ${id}`, {
          hint: 'portcullis sessions list shows recent sessions',
        });
      }
      const requests = await db
        .select()
        .from(tables.sessionRequests)
        .where(eq(tables.sessionRequests.sessionId, id))
        .orderBy(tables.sessionRequests.id);
      return { session, requests: requests.map(withoutSessionId) };
    },
  };
}

function repoCondition(repo: string) {
  const parts = repo.replace(/\.git$/, '').split('/');
  if (parts.length === 3) {
    return and(eq(tables.sessions.remote, parts[0]!), eq(tables.sessions.owner, parts[1]!), eq(tables.sessions.repo, parts[2]!));
  }
  if (parts.length === 2) return and(eq(tables.sessions.owner, parts[0]!), eq(tables.sessions.repo, parts[1]!));
  return eq(tables.sessions.repo, repo);
}

function withoutSessionId({ sessionId: _sessionId, ...rest }: typeof tables.sessionRequests.$inferSelect): RecordedRequest {
  return rest;
}

async function guard<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw new PortcullisError('STORE_UNAVAILABLE', 'the gateway cannot record this operation, so it was refused', {
      hint: 'a portcullis admin should check the store (DATABASE_URL or the data directory); retry once it is back',
      cause: error,
    });
  }
}
