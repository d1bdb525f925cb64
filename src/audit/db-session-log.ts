import { and, asc, desc, eq, lt, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { newId, type Clock } from '../clock.ts';
import { PortcullisError } from '../errors.ts';
import { tables, type Database } from '../store/index.ts';

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

export type DbStatementRow = Omit<typeof tables.dbStatements.$inferInsert, 'id' | 'sessionId' | 'seq'>;
export type RecordedDbSession = typeof tables.dbSessions.$inferSelect;
export type RecordedDbStatement = typeof tables.dbStatements.$inferSelect;

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

/** Statements are written in batches: one INSERT per statement would cap the proxy at the store's write rate. */
const BATCH_ROWS = 500;
const BATCH_DELAY_MS = 100;

export function createDbSessionLog(db: Database, clock: Clock, log: Logger): DbSessionLog {
  let buffer: Array<typeof tables.dbStatements.$inferInsert> = [];
  let timer: NodeJS.Timeout | null = null;
  let flushing: Promise<void> = Promise.resolve();
  let failure: Error | null = null;
  const sequences = new Map<string, number>();

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (buffer.length === 0) return flushing;
    const batch = buffer;
    buffer = [];
    flushing = flushing
      .then(() => insertStatements(db, batch))
      .then(
        () => {
          failure = null;
        },
        (error: unknown) => {
          failure = new PortcullisError('STORE_UNAVAILABLE', 'the gateway cannot record statements right now, so it runs none', {
            hint: 'retry in a moment; an administrator can check the store',
            cause: error,
          });
          log.error({ err: error, lost: batch.length }, 'recording database statements failed');
          // Kept for the next attempt: the trail must not lose what already ran.
          buffer = batch.concat(buffer);
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
      return id;
    },

    statements(sessionId) {
      return {
        record(statement) {
          const seq = (sequences.get(sessionId) ?? 0) + 1;
          sequences.set(sessionId, seq);
          buffer.push({ id: newId(clock), sessionId, seq, ...statement });
          if (buffer.length >= BATCH_ROWS) void flush();
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
      const statements = await db.select().from(tables.dbStatements).where(eq(tables.dbStatements.sessionId, id)).orderBy(asc(tables.dbStatements.seq));
      return { session, statements };
    },
  };
}

/**
 * One statement for the whole batch, its rows as one JSON parameter: building a multi-row INSERT
 * through the query builder cost more CPU than the proxy itself under pgbench (measured).
 */
async function insertStatements(db: Database, batch: Array<typeof tables.dbStatements.$inferInsert>): Promise<void> {
  const rows = batch.map((row) => ({
    id: row.id,
    session_id: row.sessionId,
    seq: row.seq,
    started_at: row.startedAt.toISOString(),
    duration_ms: row.durationMs,
    protocol: row.protocol,
    text: row.text,
    verdict: row.verdict,
    rule: row.rule ?? null,
    reason: row.reason ?? null,
    approval_id: row.approvalId ?? null,
    command_tag: row.commandTag ?? null,
    rows_returned: row.rowsReturned,
    rows_affected: row.rowsAffected ?? null,
    masked_columns: row.maskedColumns,
    masked_values: row.maskedValues,
    parameters: row.parameters ?? null,
    error_code: row.errorCode ?? null,
    error_message: row.errorMessage ?? null,
    rows: row.rows ?? null,
  }));
  await db.execute(sql`insert into db_statements select * from json_populate_recordset(null::db_statements, ${JSON.stringify(rows)}::json)`);
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
