import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './chain/index.ts';

/**
 * The audit event catalogue: every event type the gateway appends to the tamper-evident chain,
 * each with the schema of its `data`. Names are dotted `<area>.<what>` so an auditor filters by
 * prefix. Bulky records (a git request's details, a batch of SQL statements) stay in their own
 * tables and enter the chain by their sha256 over canonical JSON: changing the record breaks the
 * binding, and the chain stays small enough to append thousands of events a second.
 */

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const AUDIT_EVENTS = {
  'git.request': {
    summary: 'a git smart-HTTP request finished (its recorded details bound by sha256)',
    data: z.object({ sessionId: z.string(), requestId: z.string(), endpoint: z.string(), outcome: z.string(), httpStatus: z.number().int(), detailsSha256: sha256 }).strict(),
    example: { sessionId: 's1', requestId: 'r1', endpoint: 'git-receive-pack', outcome: 'ok', httpStatus: 200, detailsSha256: 'a'.repeat(64) },
  },
  'pg.session': {
    summary: 'a database connection opened, refused or closed',
    data: z.object({ sessionId: z.string(), database: z.string(), outcome: z.string(), error: z.string().nullable() }).strict(),
    example: { sessionId: 'db1', database: 'app', outcome: 'in_progress', error: null },
  },
  'pg.statements': {
    summary: "a batch of a database session's statements as stored, bound by sha256",
    data: z.object({ sessionId: z.string(), firstSeq: z.number().int(), lastSeq: z.number().int(), statementsSha256: sha256, blocked: z.number().int(), held: z.number().int() }).strict(),
    example: { sessionId: 'db1', firstSeq: 1, lastSeq: 500, statementsSha256: 'b'.repeat(64), blocked: 1, held: 0 },
  },
  'approval.event': {
    summary: 'a hold created, approved, denied, expired, applied or gone stale',
    data: z.object({ approvalId: z.string(), event: z.string(), details: z.record(z.string(), z.unknown()) }).strict(),
    example: { approvalId: 'k3m9x2pq7r', event: 'approve', details: { comment: 'reviewed' } },
  },
  'webhook.received': {
    summary: 'a delivery to the GitHub App webhook endpoint, signed or not, and what became of it',
    data: z
      .object({ deliveryId: z.string().nullable(), event: z.string().nullable(), action: z.string().nullable(), installationId: z.number().nullable(), outcome: z.string() })
      .strict(),
    example: { deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958', event: 'check_run', action: 'requested_action', installationId: 4242, outcome: 'processed' },
  },
  'token.issued': {
    summary: 'an agent or admin token issued (its sha256 only, never the token)',
    data: z.object({ kind: z.enum(['agent', 'admin']), tokenSha256: sha256, expiresAt: z.string().nullable(), scopes: z.record(z.string(), z.array(z.string())) }).strict(),
    example: { kind: 'agent', tokenSha256: 'c'.repeat(64), expiresAt: null, scopes: { read: ['github/acme/*'], write: [], db: ['app'], dbRead: [] } },
  },
  'token.revoked': {
    summary: "an agent's token revoked",
    data: z.object({ kind: z.enum(['agent', 'admin']) }).strict(),
    example: { kind: 'agent' },
  },
} as const;

export type AuditEventType = keyof typeof AUDIT_EVENTS;
export type AuditEventData<T extends AuditEventType> = z.infer<(typeof AUDIT_EVENTS)[T]['data']>;

/** What an event source needs of the chain (src/audit/chain-store's AuditLog fits). */
export interface AuditAppender {
  append(body: { type: string; actor?: string | null; subject?: string | null; data?: Record<string, unknown> }): Promise<number>;
}

/** Appends a catalogued event; its data is checked against the catalogue at compile time. */
export function appendAuditEvent<T extends AuditEventType>(audit: AuditAppender, type: T, event: { actor: string | null; subject: string | null; data: AuditEventData<T> }): Promise<number> {
  return audit.append({ type, actor: event.actor, subject: event.subject, data: event.data as Record<string, unknown> });
}

/** The sha256 that binds a record kept outside the chain to its event. */
export function recordSha256(record: unknown): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}
