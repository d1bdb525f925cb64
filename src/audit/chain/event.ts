import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical.ts';

/** What a caller records; the chain adds seq, prevHash and hash. */
export interface AuditEventBody {
  /** Dotted, e.g. 'pg.statement', 'git.push', 'approval.approved', 'token.issued', 'webhook.received'. */
  type: string;
  /** ISO 8601 time. */
  at: string;
  actor: string | null;
  subject: string | null;
  data: Record<string, unknown>;
}

export interface ChainedEvent extends AuditEventBody {
  /** 1-based, no gaps. */
  seq: number;
  /**
   * Hex hash of the previous event: GENESIS_HASH for seq 1. After retention pruned the head, the first
   * retained event keeps the hash of the pruned event before it (a checkpoint for that seq anchors it).
   */
  prevHash: string;
  /** eventHash(prevHash, this). */
  hash: string;
}

/** The prevHash of event 1. */
export const GENESIS_HASH = '0'.repeat(64);

/** Where a new chain starts: chainEvents(CHAIN_START, bodies) numbers from 1. */
export const CHAIN_START: { seq: number; hash: string } = Object.freeze({ seq: 0, hash: GENESIS_HASH });

/** sha256 hex of prevHash + '\n' + canonicalJson({seq, type, at, actor, subject, data}). */
export function eventHash(prevHash: string, body: AuditEventBody & { seq: number }): string {
  const { seq, type, at, actor, subject, data } = body;
  return createHash('sha256')
    .update(prevHash + '\n' + canonicalJson({ seq, type, at, actor, subject, data }))
    .digest('hex');
}

/** Numbers bodies prev.seq+1, prev.seq+2, … and links each to the one before. */
export function chainEvents(prev: { seq: number; hash: string }, bodies: AuditEventBody[]): ChainedEvent[] {
  const events: ChainedEvent[] = [];
  let seq = prev.seq;
  let prevHash = prev.hash;
  for (const body of bodies) {
    seq += 1;
    const event = { seq, type: body.type, at: body.at, actor: body.actor, subject: body.subject, data: body.data };
    const hash = eventHash(prevHash, event);
    events.push({ ...event, prevHash, hash });
    prevHash = hash;
  }
  return events;
}
