import { and, asc, desc, eq, lt } from 'drizzle-orm';
import type { Logger } from 'pino';
import { newId, type Clock } from '../clock.ts';
import { PortcullisError } from '../errors.ts';
import { tables, type Database, type RecordedDbStatement } from '../store/index.ts';
import { appendAuditEvent, recordSha256, type AuditAppender } from './events.ts';

/** Mirrors src/pg's seams structurally: the audit layer does not import protocol code. */
export interface DbSessionOpening {
  agent: string | null;
  authMethod: 'scram' | 'password' | 'oidc' | null;
  sourceAddress: string;
  database: string;
  applicationName: string | null;
  readOnly: boolean;
  tls: boolean;
}

export type DbStatementRow = Omit<RecordedDbStatement, 'seq' | 'startedAt'> & { startedAt: Date };
export type RecordedDbSession = typeof tables.dbSessions.$inferSelect;
export type { RecordedDbStatement };

export interface DbSessionLog {
  /** Written before the first statement runs; with a refusal the session is recorded as denied. */
  open(session: DbSessionOpening, refusal?: { sqlstate: string; message: string }): Promise<string>;
  statements(sessionId: string): { record(statement: DbStatementRow): void };
  close(sessionId: string, end: { outcome: 'ok' | 'client_error' | 'upstream_error' | 'aborted'; error: string | null; bytesIn: number; bytesOut: number }): Promise<void>;
  /** Set while statements cannot be written: the proxy refuses statements until the store is back. */
  failure(): Error | null;
  flush(): Promise<void>;
  list(filter: { agent?: string; database?: string; limit?: number; before?: Date }): Promise<RecordedDbSession[]>;
  get(id: string): Promise<{ session: RecordedDbSession; statements: RecordedDbStatement[] } | null>;
}

/** A session's statements leave in batches of this many, or after this delay, whichever comes first. */
const BATCH_STATEMENTS = 500;
const BATCH_DELAY_MS = 200;
const RETRY_DELAY_MS = 1_000;

export function createDbSessionLog(db: Database, clock: Clock, log: Logger, audit?: AuditAppender): DbSessionLog {
  /** Statements not yet written, per session, in order. */
  const pending = new Map<string, StoredDbStatement[]>();
  const sequences = new Map<string, number>();
  let timer: NodeJS.Timeout | null = null;
  let flushing: Promise<void> = Promise.resolve();
  let failure: Error | null = null;
  /** Batches stored but not yet bound into the audit chain. */
  const unbound: Array<{ sessionId: string; firstSeq: number; lastSeq: number; statements: StoredDbStatement[] }> = [];

  const bindPending = async (): Promise<void> => {
    while (audit && unbound.length > 0) {
      const batch = unbound[0]!;
      await appendAuditEvent(audit, 'pg.statements', {
        actor: null,
        subject: batch.sessionId,
        data: {
          sessionId: batch.sessionId,
          firstSeq: batch.firstSeq,
          lastSeq: batch.lastSeq,
          statementsSha256: recordSha256(batch.statements),
          blocked: batch.statements.filter((statement) => statement.verdict === 'block').length,
          held: batch.statements.filter((statement) => statement.verdict === 'hold').length,
        },
      });
      unbound.shift();
    }
    if (!audit) unbound.length = 0;
  };

  const sessionEvent = (sessionId: string, agent: string | null, database: string, outcome: string, error: string | null) =>
    audit ? appendAuditEvent(audit, 'pg.session', { actor: agent, subject: sessionId, data: { sessionId, database, outcome, error } }) : Promise.resolve(0);
  const agents = new Map<string, { agent: string | null; database: string }>();

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = null;
    const batches = [...pending].filter(([, statements]) => statements.length > 0);
    pending.clear();
    if (batches.length === 0) {
      if (unbound.length === 0) return flushing;
      flushing = flushing.then(bindPending).then(
        () => {
          failure = null;
        },
        (error: unknown) => {
          failure = storeFailure(error);
          timer ??= setTimeout(() => void flush(), RETRY_DELAY_MS);
        },
      );
      return flushing;
    }
    const rows = batches.map(([sessionId, statements]) => ({
      sessionId,
      firstSeq: statements[0]!.seq,
      lastSeq: statements[statements.length - 1]!.seq,
      writtenAt: clock.now(),
      statements,
    }));
    flushing = flushing
      .then(() => db.insert(tables.dbStatementBatches).values(rows))
      .then(() => {
        // Stored, so from here a failure must not store them twice: the chain binding is retried alone.
        unbound.push(...rows);
        return bindPending();
      })
      .then(
        () => {
          failure = null;
        },
        (error: unknown) => {
          failure = storeFailure(error);
          log.error({ err: error, batches: rows.length }, 'recording database statements failed');
          // Kept for the next attempt: the trail must not lose what already ran.
          for (const row of rows) {
            if (!unbound.includes(row)) pending.set(row.sessionId, [...row.statements, ...(pending.get(row.sessionId) ?? [])]);
          }
          // No statement runs while this fails, so nothing else would trigger the next attempt.
          timer ??= setTimeout(() => void flush(), RETRY_DELAY_MS);
        },
      );
    return flushing;
  };

  return {
    async open(session, refusal) {
      const id = newId(clock);
      const now = clock.now();
      await db.insert(tables.dbSessions).values({
        id,
        ...session,
        startedAt: now,
        endedAt: refusal ? now : null,
        outcome: refusal ? 'denied' : 'in_progress',
        error: refusal ? `${refusal.sqlstate} ${refusal.message}` : null,
      });
      await sessionEvent(id, session.agent, session.database, refusal ? 'denied' : 'in_progress', refusal ? `${refusal.sqlstate} ${refusal.message}` : null);
      if (!refusal) agents.set(id, { agent: session.agent, database: session.database });
      return id;
    },

    statements(sessionId) {
      return {
        record(statement) {
          const seq = (sequences.get(sessionId) ?? 0) + 1;
          sequences.set(sessionId, seq);
          const list = pending.get(sessionId) ?? [];
          list.push(compact(statement, seq));
          pending.set(sessionId, list);
          if (list.length >= BATCH_STATEMENTS) void flush();
          else timer ??= setTimeout(() => void flush(), BATCH_DELAY_MS);
        },
      };
    },

    async close(sessionId, end) {
      sequences.delete(sessionId);
      await flush();
      await db
        .update(tables.dbSessions)
        .set({ endedAt: clock.now(), outcome: end.outcome, error: end.error, bytesIn: end.bytesIn, bytesOut: end.bytesOut })
        .where(eq(tables.dbSessions.id, sessionId));
      const opened = agents.get(sessionId);
      agents.delete(sessionId);
      if (opened) await sessionEvent(sessionId, opened.agent, opened.database, end.outcome, end.error);
    },

    failure: () => failure,
    flush,

    async list(filter) {
      const conditions = [
        filter.agent ? eq(tables.dbSessions.agent, filter.agent) : undefined,
        filter.database ? eq(tables.dbSessions.database, filter.database) : undefined,
        filter.before ? lt(tables.dbSessions.startedAt, filter.before) : undefined,
      ].filter((condition) => condition !== undefined);
      return db
        .select()
        .from(tables.dbSessions)
        .where(conditions.length > 0 ? and(...conditions) : undefined)
        .orderBy(desc(tables.dbSessions.startedAt))
        .limit(filter.limit ?? 50);
    },

    async get(id) {
      await flush();
      const [session] = await db.select().from(tables.dbSessions).where(eq(tables.dbSessions.id, id));
      if (!session) return null;
      const batches = await db.select().from(tables.dbStatementBatches).where(eq(tables.dbStatementBatches.sessionId, id)).orderBy(asc(tables.dbStatementBatches.firstSeq));
      return { session, statements: batches.flatMap((batch) => batch.statements.map(expand)) };
    },
  };
}

function storeFailure(cause: unknown): PortcullisError {
  return new PortcullisError('STORE_UNAVAILABLE', 'the gateway cannot record statements right now, so it runs none', {
    hint: 'retry in a moment; an administrator can check the store',
    cause,
  });
}

/**
 * A statement as stored: empty and default fields left out, which halves what the store parses
 * and keeps under load (most statements are allowed, unmasked, without error or parameters).
 */
type StoredDbStatement = Partial<RecordedDbStatement> & Pick<RecordedDbStatement, 'seq' | 'startedAt' | 'durationMs' | 'text'>;

function compact(statement: DbStatementRow, seq: number): StoredDbStatement {
  const stored: StoredDbStatement = { seq, startedAt: statement.startedAt.toISOString(), durationMs: statement.durationMs, text: statement.text };
  if (statement.protocol !== 'simple') stored.protocol = statement.protocol;
  if (statement.verdict !== 'allow') stored.verdict = statement.verdict;
  if (statement.rule !== null) stored.rule = statement.rule;
  if (statement.reason !== null) stored.reason = statement.reason;
  if (statement.approvalId !== null) stored.approvalId = statement.approvalId;
  if (statement.commandTag !== null) stored.commandTag = statement.commandTag;
  if (statement.rowsReturned !== 0) stored.rowsReturned = statement.rowsReturned;
  if (statement.rowsAffected !== null) stored.rowsAffected = statement.rowsAffected;
  if (statement.maskedColumns.length > 0) stored.maskedColumns = statement.maskedColumns;
  if (statement.maskedValues !== 0) stored.maskedValues = statement.maskedValues;
  if (statement.parameters !== null && statement.parameters.length > 0) stored.parameters = statement.parameters;
  if (statement.errorCode !== null) stored.errorCode = statement.errorCode;
  if (statement.errorMessage !== null) stored.errorMessage = statement.errorMessage;
  if (statement.rows !== null) stored.rows = statement.rows;
  return stored;
}

function expand(stored: StoredDbStatement): RecordedDbStatement {
  return {
    protocol: 'simple',
    verdict: 'allow',
    rule: null,
    reason: null,
    approvalId: null,
    commandTag: null,
    rowsReturned: 0,
    rowsAffected: null,
    maskedColumns: [],
    maskedValues: 0,
    parameters: null,
    errorCode: null,
    errorMessage: null,
    rows: null,
    ...stored,
  };
}

export interface DbSessionSummary {
  kind: 'database';
  id: string;
  agent: string | null;
  authMethod: string | null;
  sourceAddress: string;
  database: string;
  applicationName: string | null;
  readOnly: boolean;
  tls: boolean;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  outcome: string;
  error: string | null;
  bytesIn: number;
  bytesOut: number;
}

export function summarizeDbSession(session: RecordedDbSession): DbSessionSummary {
  return {
    kind: 'database',
    id: session.id,
    agent: session.agent,
    authMethod: session.authMethod,
    sourceAddress: session.sourceAddress,
    database: session.database,
    applicationName: session.applicationName,
    readOnly: session.readOnly,
    tls: session.tls,
    startedAt: session.startedAt.toISOString(),
    endedAt: session.endedAt?.toISOString() ?? null,
    durationMs: session.endedAt ? session.endedAt.getTime() - session.startedAt.getTime() : null,
    outcome: session.outcome,
    error: session.error,
    bytesIn: session.bytesIn,
    bytesOut: session.bytesOut,
  };
}
