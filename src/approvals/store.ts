import { randomBytes } from 'node:crypto';
import { and, asc, desc, eq, gt, isNull, lte } from 'drizzle-orm';
import picomatch from 'picomatch';
import { newId, type Clock } from '../clock.ts';
import { PortcullisError } from '../errors.ts';
import { tables, type ApprovalKind, type Database } from '../store/index.ts';
import { transition, type Approval, type ApprovalEvent } from './state.ts';
import { appendAuditEvent, type AuditAppender } from '../audit/events.ts';

export interface HoldRequest {
  /** Default `git`; a `sql` hold names the database as `owner` and the statement's sha256 as `newOid`. */
  kind?: ApprovalKind;
  sessionId: string | null;
  agent: string;
  remote: string;
  owner: string;
  repo: string;
  ref: string;
  oldOid: string;
  newOid: string;
  reasons: string[];
  summary: Record<string, unknown>;
  ttlMs: number;
}

export type StoredApproval = Approval & { kind: ApprovalKind; sessionId: string | null; summary: Record<string, unknown> };

/** Held refs live upstream under this prefix; the id is what `git push` prints and reviewers type. */
export const HELD_REF_PREFIX = 'refs/heads/portcullis/held/';

/** Short, unambiguous ids (no 0/o/1/l): they are read off a terminal and typed back. */
function holdId(): string {
  const alphabet = '23456789abcdefghijkmnpqrstuvwxyz';
  return [...randomBytes(10)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** The one approval store: git, the CLI, the REST API (and later GitHub and the console) all go through it. */
export interface ApprovalStore {
  createHold(request: HoldRequest): Promise<StoredApproval>;
  get(id: string): Promise<StoredApproval>;
  list(filter: { status?: string; limit?: number }): Promise<StoredApproval[]>;
  /** Applies one state-machine event and records it; refuses with the machine's own words. */
  apply(id: string, event: ApprovalEvent): Promise<StoredApproval>;
  events(id: string): Promise<Array<typeof tables.approvalEvents.$inferSelect>>;
  /** Moves every pending hold past its expiry to `expired`; returns them. */
  expireDue(): Promise<StoredApproval[]>;
  grant(input: { agent: string; refPattern: string; repoPattern: string; grantedBy: string; durationMs: number }): Promise<typeof tables.grants.$inferSelect>;
  activeGrants(agent: string, repoPath: string): Promise<Array<typeof tables.grants.$inferSelect>>;
  /** The pending hold of this exact statement by this agent on this database, so a retry does not open another. */
  pendingSqlHold(agent: string, database: string, statementSha256: string): Promise<StoredApproval | null>;
  /**
   * Uses up one approval of this exact statement decided within `windowMs` (it becomes `applied`),
   * or returns null. The status lock in `apply` makes two sessions racing for it get one each at most.
   */
  consumeSqlApproval(agent: string, database: string, statementSha256: string, windowMs: number): Promise<StoredApproval | null>;
  /** The same approval without using it up: a held statement may be prepared, each Bind then consumes one. */
  unusedSqlApproval(agent: string, database: string, statementSha256: string, windowMs: number): Promise<StoredApproval | null>;
}

export function createApprovalStore(db: Database, clock: Clock, audit?: AuditAppender): ApprovalStore {
  const load = async (id: string): Promise<StoredApproval> => {
    const [row] = await db.select().from(tables.approvals).where(eq(tables.approvals.id, id));
    if (!row) {
      throw new PortcullisError('APPROVAL_NOT_FOUND', `no approval with id ${id}`, { hint: 'portcullis approvals list shows them' });
    }
    return fromRow(row);
  };

  const record = async (approvalId: string, type: string, actor: string | null, details: Record<string, unknown>) => {
    await db.insert(tables.approvalEvents).values({ id: newId(clock), approvalId, type, actor, at: clock.now(), details });
    if (audit) await appendAuditEvent(audit, 'approval.event', { actor, subject: approvalId, data: { approvalId, event: type, details } });
  };

  const store: ApprovalStore = {
    async createHold(request) {
      const id = holdId();
      const now = clock.now();
      const kind = request.kind ?? 'git';
      const row = {
        id,
        kind,
        sessionId: request.sessionId,
        agent: request.agent,
        remote: request.remote,
        owner: request.owner,
        repo: request.repo,
        ref: request.ref,
        heldRef: kind === 'git' ? `${HELD_REF_PREFIX}${id}` : '',
        oldOid: request.oldOid,
        newOid: request.newOid,
        status: 'pending' as const,
        reasons: request.reasons,
        summary: request.summary,
        createdAt: now,
        expiresAt: new Date(now.getTime() + request.ttlMs),
      };
      await db.insert(tables.approvals).values(row);
      await record(id, 'created', request.agent, { reasons: request.reasons, ref: request.ref, newOid: request.newOid });
      return load(id);
    },

    get: load,

    async list(filter) {
      const rows = await db
        .select()
        .from(tables.approvals)
        .where(filter.status ? eq(tables.approvals.status, filter.status as StoredApproval['status']) : undefined)
        .orderBy(desc(tables.approvals.createdAt))
        .limit(Math.min(filter.limit ?? 100, 1000));
      return rows.map(fromRow);
    },

    async apply(id, event) {
      const current = await load(id);
      const result = transition(current, event);
      if (!result.ok) throw new PortcullisError(result.code, result.message);
      const next = result.approval;
      // Optimistic lock on the previous status: two reviewers clicking at once cannot both win.
      const updated = await db
        .update(tables.approvals)
        .set({
          status: next.status,
          decidedBy: next.decidedBy ?? null,
          decidedAt: next.decidedAt ?? null,
          comment: next.comment ?? null,
          appliedAt: next.appliedAt ?? null,
          staleReason: next.staleReason ?? null,
        })
        .where(and(eq(tables.approvals.id, id), eq(tables.approvals.status, current.status)))
        .returning({ id: tables.approvals.id });
      if (updated.length === 0) {
        throw new PortcullisError('APPROVAL_REFUSED', `approval ${id} changed while this ${event.type} was being recorded; look at it again`);
      }
      const actor = 'reviewer' in event ? event.reviewer : null;
      const { type: _type, at: _at, ...details } = event as ApprovalEvent & Record<string, unknown>;
      await record(id, event.type, actor, details);
      return load(id);
    },

    events: (id) => db.select().from(tables.approvalEvents).where(eq(tables.approvalEvents.approvalId, id)).orderBy(asc(tables.approvalEvents.id)),

    async expireDue() {
      const due = await db
        .select()
        .from(tables.approvals)
        .where(and(eq(tables.approvals.status, 'pending'), lte(tables.approvals.expiresAt, clock.now())));
      const expired: StoredApproval[] = [];
      for (const row of due) {
        expired.push(await store.apply(row.id, { type: 'expire', at: clock.now() }).catch(() => fromRow(row)));
      }
      return expired;
    },

    async grant(input) {
      for (const pattern of [input.refPattern, input.repoPattern]) picomatch(pattern);
      const now = clock.now();
      const row = {
        id: newId(clock),
        agent: input.agent,
        refPattern: input.refPattern,
        repoPattern: input.repoPattern,
        grantedBy: input.grantedBy,
        createdAt: now,
        expiresAt: new Date(now.getTime() + input.durationMs),
        revokedAt: null,
      };
      await db.insert(tables.grants).values(row);
      return row;
    },

    async activeGrants(agent, repoPath) {
      const rows = await db
        .select()
        .from(tables.grants)
        .where(and(eq(tables.grants.agent, agent), gt(tables.grants.expiresAt, clock.now()), isNull(tables.grants.revokedAt)));
      return rows.filter((row) => picomatch(row.repoPattern, { nocase: true })(repoPath));
    },

    async pendingSqlHold(agent, database, statementSha256) {
      const [row] = await sqlHolds(agent, database, statementSha256, 'pending').limit(1);
      return row ? fromRow(row) : null;
    },

    async unusedSqlApproval(agent, database, statementSha256, windowMs) {
      const [row] = await recentSqlApprovals(agent, database, statementSha256, windowMs);
      return row ? fromRow(row) : null;
    },

    async consumeSqlApproval(agent, database, statementSha256, windowMs) {
      for (const row of await recentSqlApprovals(agent, database, statementSha256, windowMs)) {
        const applied = await store.apply(row.id, { type: 'applied', at: clock.now() }).catch(() => null);
        if (applied) return applied;
      }
      return null;
    },
  };

  /** Approved and not yet used, decided within the window: oldest first. */
  const recentSqlApprovals = async (agent: string, database: string, statementSha256: string, windowMs: number) => {
    const since = clock.now().getTime() - windowMs;
    const rows = await sqlHolds(agent, database, statementSha256, 'approved');
    return rows.filter((row) => row.decidedAt !== null && row.decidedAt.getTime() >= since);
  };

  const sqlHolds = (agent: string, database: string, statementSha256: string, status: StoredApproval['status']) =>
    db
      .select()
      .from(tables.approvals)
      .where(
        and(
          eq(tables.approvals.kind, 'sql'),
          eq(tables.approvals.agent, agent),
          eq(tables.approvals.owner, database),
          eq(tables.approvals.newOid, statementSha256),
          eq(tables.approvals.status, status),
        ),
      )
      .orderBy(asc(tables.approvals.createdAt));
  return store;
}

function fromRow(row: typeof tables.approvals.$inferSelect): StoredApproval {
  return {
    id: row.id,
    kind: row.kind,
    sessionId: row.sessionId,
    agent: row.agent,
    remote: row.remote,
    owner: row.owner,
    repo: row.repo,
    ref: row.ref,
    heldRef: row.heldRef,
    oldOid: row.oldOid,
    newOid: row.newOid,
    status: row.status,
    reasons: row.reasons,
    summary: row.summary,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    decidedBy: row.decidedBy ?? undefined,
    decidedAt: row.decidedAt ?? undefined,
    comment: row.comment ?? undefined,
    appliedAt: row.appliedAt ?? undefined,
    staleReason: row.staleReason ?? undefined,
  };
}
