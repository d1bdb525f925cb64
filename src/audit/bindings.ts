import { and, asc, eq, gt, inArray } from 'drizzle-orm';
import { tables, type Database } from '../store/index.ts';
import type { ChainProblem } from './chain/index.ts';
import { recordSha256 } from './events.ts';

/**
 * Records kept outside the chain (a git request's details, a batch of SQL statements) are bound
 * into it by their sha256 (src/audit/events.ts). The chain proves the bindings were not altered;
 * this proves the records still match them. Returns the first record that does not, by the seq of
 * its binding event, or null. Pages through the binding events, so memory stays bounded.
 */
export async function verifyBindings(db: Database, from = 1, pageSize = 2_000): Promise<{ checked: number; problem: ChainProblem | null }> {
  let after = from - 1;
  let checked = 0;
  for (;;) {
    const events = await db
      .select({ seq: tables.auditEvents.seq, type: tables.auditEvents.type, data: tables.auditEvents.data })
      .from(tables.auditEvents)
      .where(and(gt(tables.auditEvents.seq, after), inArray(tables.auditEvents.type, ['pg.statements', 'git.request'])))
      .orderBy(asc(tables.auditEvents.seq))
      .limit(pageSize);
    if (events.length === 0) return { checked, problem: null };
    for (const event of events) {
      const problem = event.type === 'pg.statements' ? await checkStatements(db, event.seq, event.data) : await checkGitRequest(db, event.seq, event.data);
      if (problem) return { checked, problem };
      checked++;
    }
    after = events[events.length - 1]!.seq;
  }
}

async function checkStatements(db: Database, seq: number, data: Record<string, unknown>): Promise<ChainProblem | null> {
  const sessionId = String(data.sessionId);
  const firstSeq = Number(data.firstSeq);
  const [batch] = await db
    .select({ statements: tables.dbStatementBatches.statements })
    .from(tables.dbStatementBatches)
    .where(and(eq(tables.dbStatementBatches.sessionId, sessionId), eq(tables.dbStatementBatches.firstSeq, firstSeq)));
  const where = `statements ${firstSeq}..${String(data.lastSeq)} of database session ${sessionId}`;
  if (!batch) return { kind: 'deleted', seq, message: `${where} were deleted after they were recorded (bound by audit event ${seq})` };
  if (recordSha256(batch.statements) !== data.statementsSha256) {
    return { kind: 'modified', seq, message: `${where} were changed after they were recorded (bound by audit event ${seq})` };
  }
  return null;
}

async function checkGitRequest(db: Database, seq: number, data: Record<string, unknown>): Promise<ChainProblem | null> {
  const requestId = String(data.requestId);
  const [request] = await db.select({ details: tables.sessionRequests.details }).from(tables.sessionRequests).where(eq(tables.sessionRequests.id, requestId));
  const where = `git request ${requestId} of session ${String(data.sessionId)}`;
  if (!request) return { kind: 'deleted', seq, message: `${where} was deleted after it was recorded (bound by audit event ${seq})` };
  if (recordSha256(request.details) !== data.detailsSha256) {
    return { kind: 'modified', seq, message: `${where} was changed after it was recorded (bound by audit event ${seq})` };
  }
  return null;
}
