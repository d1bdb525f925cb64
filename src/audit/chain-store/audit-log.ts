import type { KeyObject } from 'node:crypto';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { and, asc, desc, eq, gte, lte, max, min, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.ts';
import { PortcullisError } from '../../errors.ts';
import type { Database } from '../../store/index.ts';
import { auditCheckpoints, auditEvents, auditHead } from '../../store/schema.ts';
import {
  ChainVerifier,
  GENESIS_HASH,
  chainEvents,
  checkpointEventBody,
  exportLine,
  publicKeyId,
  signCheckpoint,
  type AuditEventBody,
  type ChainedEvent,
  type Checkpoint,
  type VerifyResult,
} from '../chain/index.ts';
import { normaliseBody } from './normalise.ts';
import { verifyBindings } from '../bindings.ts';

export type AppendInput = Omit<AuditEventBody, 'at' | 'actor' | 'subject' | 'data'> & {
  at?: Date;
  actor?: string | null;
  subject?: string | null;
  data?: Record<string, unknown>;
};

export interface AuditLogOptions {
  signingKey: KeyObject;
  publicKey: KeyObject;
  /** A signed checkpoint after this many events appended by this process... */
  checkpointEvery: number;
  /** ...or this often when events were appended since the last one. */
  checkpointIntervalMs: number;
  /** When set, whole checkpointed segments older than this are pruned (hourly, and by prune()). */
  retainDays?: number;
  log: Logger;
  /** Events per transaction at most (default 1000). */
  maxBatch?: number;
  /** Events read per page by verify and export (default 10,000). */
  pageSize?: number;
}

export interface ExportOptions {
  since?: Date;
  until?: Date;
  /** Called after each page with the number of events written so far. */
  onProgress?(events: number): void;
}

export interface PruneResult {
  /** Events deleted (0 when nothing was old enough or no checkpoint covers the old events). */
  deleted: number;
  /** The checkpoint the retained chain now starts after, when something was pruned. */
  throughSeq: number | null;
}

export interface AuditLog {
  /** The checkpoint key's public half, SPKI PEM. */
  readonly publicKeyPem: string;
  /** Appends one event; resolves with its seq once committed, rejects when it could not be (fail closed). */
  append(body: AppendInput): Promise<number>;
  /** Signs a checkpoint at the current head; null when the head is already checkpointed (or empty). */
  checkpointNow(): Promise<Checkpoint | null>;
  verify(options?: { from?: number; publicKeys?: KeyObject[] }): Promise<VerifyResult>;
  /** JSONL: a header, then the events in seq order with the checkpoints covering them. */
  export(out: Writable, options?: ExportOptions): Promise<{ events: number; checkpoints: number; from: number | null; to: number | null }>;
  prune(retainDays: number): Promise<PruneResult>;
  head(): Promise<{ seq: number; hash: string }>;
  lastCheckpoint(): Promise<Checkpoint | null>;
  /** Writes what is queued, takes a last checkpoint, stops the timers. */
  close(): Promise<void>;
}

export const PRUNE_EVENT = 'audit.prune';

interface Pending {
  body: AuditEventBody;
  /** An `audit.checkpoint` event: its signed checkpoint is written in the same statement. */
  checkpoint: boolean;
  resolve(event: ChainedEvent, checkpoint: Checkpoint | null): void;
  reject(error: Error): void;
}

/**
 * The chain in the store. Appends are group-committed: callers queue, one transaction per batch
 * chains the batch after the head row, inserts the events and moves the head. On PostgreSQL the
 * head row is locked (`for update`) for the transaction, so appenders in several gateway processes
 * queue behind each other; PGlite admits one process and its driver has no transactions, so there
 * the batch is one statement that moves the head only if it is still where it was read (and is
 * retried otherwise): either way no fork and no gap.
 */
export function createAuditLog(db: Database, clock: Clock, options: AuditLogOptions): AuditLog {
  const maxBatch = options.maxBatch ?? 1000;
  const pageSize = options.pageSize ?? 10_000;
  const log = options.log;
  const queue: Pending[] = [];
  let flushing: Promise<void> | null = null;
  let closed = false;
  let sinceCheckpoint = 0;
  let transactions: boolean | null = null;
  const keyId = publicKeyId(options.publicKey);

  const ready = db
    .insert(auditHead)
    .values({ id: 1, seq: 0, hash: GENESIS_HASH })
    .onConflictDoNothing()
    .then(() => undefined);
  ready.catch(() => undefined);

  const checkpointTimer = setInterval(() => {
    if (sinceCheckpoint > 0) void checkpointNow().catch((error: unknown) => log.error({ err: error }, 'audit checkpoint failed'));
  }, options.checkpointIntervalMs);
  checkpointTimer.unref();
  const pruneTimer =
    options.retainDays === undefined
      ? null
      : setInterval(() => void prune(options.retainDays!).catch((error: unknown) => log.error({ err: error }, 'audit prune failed')), 3_600_000);
  pruneTimer?.unref();

  function append(input: AppendInput): Promise<number> {
    if (closed) return Promise.reject(new PortcullisError('STORE_UNAVAILABLE', 'the audit log is closed'));
    let body: AuditEventBody;
    try {
      body = normaliseBody({
        type: input.type,
        at: (input.at ?? clock.now()).toISOString(),
        actor: input.actor ?? null,
        subject: input.subject ?? null,
        data: input.data ?? {},
      });
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return new Promise<number>((resolve, reject) => enqueue({ body, checkpoint: false, resolve: (event) => resolve(event.seq), reject }));
  }

  function enqueue(pending: Pending): void {
    queue.push(pending);
    kick();
  }

  function kick(): void {
    flushing ??= flush().finally(() => {
      flushing = null;
      // Appended between the loop's last look at the queue and here.
      if (queue.length > 0) kick();
    });
  }

  function checkpointPending(resolve: (c: Checkpoint | null) => void, reject: (error: Error) => void): Pending {
    return { body: checkpointEventBody(clock.now().toISOString(), keyId), checkpoint: true, resolve: (_event, c) => resolve(c), reject };
  }

  async function flush(): Promise<void> {
    await ready.catch(() => undefined);
    // Let the callers of this tick join the first batch.
    await new Promise((resolve) => setImmediate(resolve));
    while (queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      const ordinary = batch.filter((p) => !p.checkpoint).length;
      // Every checkpointEvery events, the batch ends with an `audit.checkpoint` event and its signed checkpoint.
      if (sinceCheckpoint + ordinary >= options.checkpointEvery && !batch.some((p) => p.checkpoint)) {
        batch.push(checkpointPending(() => undefined, () => undefined));
      }
      try {
        const { events, checkpoints } = await writeBatch(batch);
        batch.forEach((p, i) => p.resolve(events[i]!, checkpoints.get(events[i]!.seq) ?? null));
        const lastMarker = batch.findLastIndex((p) => p.checkpoint);
        sinceCheckpoint = lastMarker === -1 ? sinceCheckpoint + ordinary : batch.length - 1 - lastMarker;
      } catch (error) {
        log.error({ err: error, events: batch.length }, 'audit events could not be recorded');
        const failure = new PortcullisError('STORE_UNAVAILABLE', `the audit event could not be recorded: ${(error as Error).message}`, { cause: error });
        for (const p of batch) p.reject(failure);
      }
    }
  }

  async function writeBatch(batch: Pending[]): Promise<{ events: ChainedEvent[]; checkpoints: Map<number, Checkpoint> }> {
    await ready;
    const bodies = batch.map((p) => p.body);
    const chain = (head: { seq: number; hash: string }) => {
      const events = chainEvents(head, bodies);
      const checkpoints = new Map<number, Checkpoint>();
      batch.forEach((p, i) => {
        if (p.checkpoint) checkpoints.set(events[i]!.seq, signCheckpoint(events[i]!, events[i]!.at, options.signingKey));
      });
      return { events, checkpoints };
    };
    if (transactions !== false) {
      try {
        return await db.transaction(async (tx) => {
          const [head] = await tx.select({ seq: auditHead.seq, hash: auditHead.hash }).from(auditHead).where(eq(auditHead.id, 1)).for('update');
          if (!head) throw new Error('the audit head row is missing');
          const chained = chain({ seq: Number(head.seq), hash: head.hash });
          if ((await insertChained(tx as unknown as Database, head, chained.events, chained.checkpoints)) !== chained.events.length) {
            throw new Error('the audit head moved while locked');
          }
          transactions = true;
          return chained;
        });
      } catch (error) {
        if (transactions !== null || !/not supported/i.test((error as Error).message)) throw error;
        transactions = false;
      }
    }
    // PGlite: one process, and this log's batches run one at a time; the guarded statement covers the rest.
    for (let attempt = 0; ; attempt += 1) {
      const head = await readHead();
      const chained = chain(head);
      if ((await insertChained(db, head, chained.events, chained.checkpoints)) === chained.events.length) return chained;
      if (attempt >= 50) throw new Error('the audit head kept moving: too many concurrent appenders');
    }
  }

  /**
   * One statement, so it is atomic on either driver: move the head from where it was read to the
   * batch's last event, and only if it moved, insert the batch and its checkpoints.
   */
  async function insertChained(target: Database, head: { seq: number; hash: string }, events: ChainedEvent[], checkpoints: Map<number, Checkpoint>): Promise<number> {
    const last = events[events.length - 1]!;
    const rows = JSON.stringify(
      events.map((e) => ({ seq: e.seq, type: e.type, at: e.at, actor: e.actor, subject: e.subject, data: e.data, prev_hash: e.prevHash, hash: e.hash })),
    );
    const signed = JSON.stringify([...checkpoints.values()].map((c) => ({ seq: c.seq, hash: c.hash, at: c.at, key_id: c.keyId, signature: c.signature })));
    const result = await target.execute(sql`
      with moved as (
        update audit_head set seq = ${last.seq}, hash = ${last.hash}
        where id = 1 and seq = ${head.seq} and hash = ${head.hash}
        returning 1
      ), inserted as (
        insert into audit_events (seq, type, at, actor, subject, data, prev_hash, hash)
        select x.seq, x.type, x.at, x.actor, x.subject, x.data, x.prev_hash, x.hash
        from jsonb_to_recordset(${rows}::jsonb)
          as x(seq bigint, type text, at timestamptz, actor text, subject text, data jsonb, prev_hash text, hash text)
        where exists (select 1 from moved)
        returning 1
      ), signed as (
        insert into audit_checkpoints (seq, hash, at, key_id, signature)
        select x.seq, x.hash, x.at, x.key_id, x.signature
        from jsonb_to_recordset(${signed}::jsonb) as x(seq bigint, hash text, at timestamptz, key_id text, signature text)
        where exists (select 1 from moved)
        returning 1
      )
      select (select count(*) from inserted)::int as n, (select count(*) from signed)::int as c`);
    return Number(rowsOf<{ n: number }>(result)[0]?.n ?? 0);
  }

  async function readHead(): Promise<{ seq: number; hash: string }> {
    await ready;
    const [head] = await db.select({ seq: auditHead.seq, hash: auditHead.hash }).from(auditHead).where(eq(auditHead.id, 1));
    if (!head) throw new Error('the audit head row is missing');
    return { seq: Number(head.seq), hash: head.hash };
  }

  async function lastCheckpoint(): Promise<Checkpoint | null> {
    const [row] = await db.select().from(auditCheckpoints).orderBy(desc(auditCheckpoints.seq)).limit(1);
    return row ? checkpointFromRow(row) : null;
  }

  /** Appends an `audit.checkpoint` event and signs it (one statement); null when the head is one already. */
  async function checkpointNow(): Promise<Checkpoint | null> {
    await flushing;
    const head = await readHead();
    if (head.seq === 0) return null;
    const last = await lastCheckpoint();
    if (last && last.seq >= head.seq) return null;
    return new Promise<Checkpoint | null>((resolve, reject) => enqueue(checkpointPending(resolve, reject)));
  }

  /** Events in seq order, a page at a time; the next page is read while the caller works on this one. */
  async function* eventPages(from: number, to: number): AsyncGenerator<ChainedEvent[]> {
    const read = (start: number) =>
      db
        .select()
        .from(auditEvents)
        .where(and(gte(auditEvents.seq, start), lte(auditEvents.seq, to)))
        .orderBy(asc(auditEvents.seq))
        .limit(pageSize)
        .then((rows) => rows.map(eventFromRow));
    let next: Promise<ChainedEvent[]> | null = from <= to ? read(from) : null;
    while (next) {
      const page = await next;
      if (page.length === 0) return;
      const last = page[page.length - 1]!.seq;
      next = page.length === pageSize && last < to ? read(last + 1) : null;
      next?.catch(() => undefined);
      yield page;
    }
  }

  async function checkpointsBetween(from: number, to: number): Promise<Checkpoint[]> {
    const rows = await db
      .select()
      .from(auditCheckpoints)
      .where(and(gte(auditCheckpoints.seq, from), lte(auditCheckpoints.seq, to)))
      .orderBy(asc(auditCheckpoints.seq));
    return rows.map(checkpointFromRow);
  }

  async function bounds(): Promise<{ first: number | null; last: number | null }> {
    const [row] = await db.select({ first: min(auditEvents.seq), last: max(auditEvents.seq) }).from(auditEvents);
    return { first: row?.first == null ? null : Number(row.first), last: row?.last == null ? null : Number(row.last) };
  }

  async function verify(verifyOptions: { from?: number; publicKeys?: KeyObject[] } = {}): Promise<VerifyResult> {
    await flushing;
    const publicKeys = verifyOptions.publicKeys ?? [options.publicKey];
    const head = await readHead();
    const { first, last } = await bounds();
    const empty: VerifyResult = { ok: true, events: 0, checkpoints: 0, firstSeq: null, lastSeq: null, lastCheckpointSeq: null, problem: null };
    const broken = (seq: number, message: string, at: Partial<VerifyResult> = {}): VerifyResult => ({ ...empty, ...at, ok: false, problem: { kind: 'deleted', seq, message } });
    if (first === null || last === null) {
      return head.seq === 0 ? empty : broken(head.seq, `event ${head.seq} was deleted: the audit head is at event ${head.seq} but no events are stored`);
    }
    const from = verifyOptions.from === undefined ? first : Math.max(verifyOptions.from, first);
    if (from > last) return empty;
    // A retained start after a prune: the checkpoint for the event before it anchors it (the verifier
    // checks that), and the prune itself must be in the chain: deleting a head segment that happens
    // to end at a checkpoint would otherwise look exactly like retention.
    if (verifyOptions.from === undefined && first > 1 && !(await prunedThrough(first - 1))) {
      const [anchor] = await checkpointsBetween(first - 1, first - 1);
      if (anchor) return broken(first - 1, `events before ${first} are missing: the chain starts at event ${first} but no ${PRUNE_EVENT} event records a prune through event ${first - 1}`, { firstSeq: first });
    }
    const verifier = new ChainVerifier({ publicKeys, ...(verifyOptions.from !== undefined ? { startSeq: from } : {}) });
    for (const anchor of await checkpointsBetween(from - 1, from - 1)) verifier.addCheckpoint(anchor);
    for await (const page of eventPages(from, Number.MAX_SAFE_INTEGER)) {
      // Checkpoints page by page, so memory stays bounded however long the chain.
      for (const checkpoint of await checkpointsBetween(page[0]!.seq, page[page.length - 1]!.seq)) verifier.addCheckpoint(checkpoint);
      for (const event of page) verifier.addEvent(event);
    }
    for (const checkpoint of await checkpointsBetween(last + 1, Number.MAX_SAFE_INTEGER)) verifier.addCheckpoint(checkpoint);
    const result = verifier.finish();
    // The tail after the last checkpoint: the head row remembers how far the chain went.
    if (result.ok && result.lastSeq !== null && result.lastSeq < head.seq) {
      return {
        ...result,
        ok: false,
        problem: { kind: 'deleted', seq: result.lastSeq + 1, message: `event ${result.lastSeq + 1} was deleted: the chain ends at event ${result.lastSeq} but the audit head is at event ${head.seq}` },
      };
    }
    if (!result.ok) return result;
    // An intact chain vouches for the bindings; the records they bind must still match them.
    const bindings = await verifyBindings(db, from);
    return bindings.problem ? { ...result, ok: false, problem: bindings.problem } : result;
  }

  async function prunedThrough(seq: number): Promise<boolean> {
    const rows = await db
      .select({ seq: auditEvents.seq })
      .from(auditEvents)
      .where(and(eq(auditEvents.type, PRUNE_EVENT), sql`(${auditEvents.data}->>'throughSeq')::bigint = ${seq}`))
      .limit(1);
    return rows.length > 0;
  }

  async function exportTo(out: Writable, exportOptions: ExportOptions = {}) {
    await flushing;
    const { first, last } = await bounds();
    let from = first;
    let to = last;
    if (from !== null && exportOptions.since) {
      const [row] = await db.select({ seq: min(auditEvents.seq) }).from(auditEvents).where(gte(auditEvents.at, exportOptions.since));
      from = row?.seq == null ? null : Number(row.seq);
    }
    if (to !== null && exportOptions.until) {
      const [row] = await db.select({ seq: max(auditEvents.seq) }).from(auditEvents).where(lte(auditEvents.at, exportOptions.until));
      to = row?.seq == null ? null : Number(row.seq);
    }
    if (from === null || to === null || from > to) from = to = null;
    const write = async (line: string) => {
      if (!out.write(line)) await once(out, 'drain');
    };
    await write(
      exportLine({
        kind: 'header',
        format: 'portcullis-audit-export',
        version: 1,
        exportedAt: clock.now().toISOString(),
        publicKeys: [options.publicKey.export({ type: 'spki', format: 'pem' }).toString()],
        // null: the export starts at the chain's (retained) start, which the verifier checks as such.
        from: from === first ? null : from,
        to,
      }),
    );
    let events = 0;
    let written = 0;
    if (from !== null && to !== null) {
      // The checkpoint just before the range anchors its first event's prevHash.
      const checkpoints = await checkpointsBetween(from - 1, to);
      let c = 0;
      while (c < checkpoints.length && checkpoints[c]!.seq < from) await write(exportLine({ kind: 'checkpoint', ...checkpoints[c++]! }));
      for await (const page of eventPages(from, to)) {
        for (const event of page) {
          await write(exportLine({ kind: 'event', ...event }));
          while (c < checkpoints.length && checkpoints[c]!.seq <= event.seq) await write(exportLine({ kind: 'checkpoint', ...checkpoints[c++]! }));
        }
        events += page.length;
        exportOptions.onProgress?.(events);
      }
      written = c;
    }
    return { events, checkpoints: written, from, to };
  }

  async function prune(retainDays: number): Promise<PruneResult> {
    const cutoff = new Date(clock.now().getTime() - retainDays * 86_400_000);
    const { first } = await bounds();
    if (first === null) return { deleted: 0, throughSeq: null };
    // The newest checkpoint whose event (and the checkpoint itself) is older than the cutoff.
    const [anchor] = await db
      .select({ seq: auditCheckpoints.seq, hash: auditCheckpoints.hash })
      .from(auditCheckpoints)
      .innerJoin(auditEvents, eq(auditEvents.seq, auditCheckpoints.seq))
      .where(and(sql`${auditCheckpoints.at} < ${cutoff.toISOString()}`, sql`${auditEvents.at} < ${cutoff.toISOString()}`))
      .orderBy(desc(auditCheckpoints.seq))
      .limit(1);
    if (!anchor || Number(anchor.seq) < first) return { deleted: 0, throughSeq: null };
    const throughSeq = Number(anchor.seq);
    const deleted = throughSeq - first + 1;
    // Recorded first: the retained chain carries the prune, and a verifier accepts the new start only with it.
    await append({ type: PRUNE_EVENT, actor: 'portcullis', subject: null, data: { throughSeq, checkpointHash: anchor.hash, cutoff: cutoff.toISOString(), retainDays, firstPrunedSeq: first } });
    await db.delete(auditEvents).where(lte(auditEvents.seq, throughSeq));
    // The anchor checkpoint stays: it vouches for the first retained event's prevHash.
    await db.delete(auditCheckpoints).where(sql`${auditCheckpoints.seq} < ${throughSeq}`);
    log.info({ throughSeq, deleted }, 'audit events pruned');
    return { deleted, throughSeq };
  }

  return {
    publicKeyPem: options.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    append,
    checkpointNow,
    verify,
    export: exportTo,
    prune,
    head: readHead,
    lastCheckpoint,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(checkpointTimer);
      if (pruneTimer) clearInterval(pruneTimer);
      await flushing;
      if (sinceCheckpoint > 0) await checkpointNow().catch((error: unknown) => log.error({ err: error }, 'audit checkpoint failed'));
      await flushing;
    },
  };
}

function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

function eventFromRow(row: typeof auditEvents.$inferSelect): ChainedEvent {
  return {
    seq: Number(row.seq),
    type: row.type,
    at: toDate(row.at).toISOString(),
    actor: row.actor,
    subject: row.subject,
    data: row.data,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

function checkpointFromRow(row: typeof auditCheckpoints.$inferSelect): Checkpoint {
  return { seq: Number(row.seq), hash: row.hash, at: toDate(row.at).toISOString(), keyId: row.keyId, signature: row.signature };
}

function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}
