/**
 * The audit chain in the store, on PGlite and on PostgreSQL: concurrent writers, two "processes"
 * (two audit logs on one PostgreSQL database), tampering through SQL, export and offline
 * verification, pruning.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog, loadOrCreateSigningKey, type AuditLog, type SigningKey } from '../../../src/audit/chain-store/index.ts';
import { generateSigningKey, verifyExport } from '../../../src/audit/chain/index.ts';
import type { Clock } from '../../../src/clock.ts';
import { openStore, type Store, type StoreTarget } from '../../../src/store/index.ts';
import { createTestDatabase, postgresAvailable } from '../../helpers/postgres.ts';

const pgUp = await postgresAvailable();
if (!pgUp && process.env.CI) throw new Error('CI must provide PostgreSQL at 127.0.0.1:5432');

function manualClock(start = '2026-01-01T00:00:00Z'): Clock & { advance(ms: number): void } {
  let now = new Date(start).getTime();
  return { now: () => new Date(now), advance: (ms) => (now += ms) };
}

interface Target {
  name: string;
  open(): Promise<{ target: StoreTarget; dir: string; cleanup(): Promise<void> }>;
}

const targets: Target[] = [
  {
    name: 'pglite',
    async open() {
      const dir = await mkdtemp(path.join(tmpdir(), 'portcullis-audit-'));
      return { target: { kind: 'pglite', dataDir: dir }, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  ...(pgUp
    ? [
        {
          name: 'postgresql',
          async open() {
            const dir = await mkdtemp(path.join(tmpdir(), 'portcullis-audit-'));
            const database = await createTestDatabase();
            return {
              target: { kind: 'postgres', url: database.url } as StoreTarget,
              dir,
              cleanup: async () => {
                await database.drop();
                await rm(dir, { recursive: true, force: true });
              },
            };
          },
        },
      ]
    : []),
];

const silent = pino({ level: 'silent' });

async function collect(log: AuditLog, options: Parameters<AuditLog['export']>[1] = {}): Promise<string[]> {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  await log.export(out, options);
  return Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean);
}

async function* linesOf(lines: string[]): AsyncGenerator<string> {
  for (const line of lines) yield line;
}

describe.each(targets)('audit chain on $name', (backend) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let target: StoreTarget;
  let key: SigningKey;
  const clock = manualClock();
  const logs: AuditLog[] = [];

  const newLog = (db = store.db, overrides: Partial<Parameters<typeof createAuditLog>[2]> = {}) => {
    const log = createAuditLog(db, clock, { signingKey: key.privateKey, publicKey: key.publicKey, checkpointEvery: 1000, checkpointIntervalMs: 60_000, log: silent, ...overrides });
    logs.push(log);
    return log;
  };

  async function allSeqs(): Promise<number[]> {
    const rows = (await store.db.execute(sql`select seq from audit_events order by seq`)) as unknown as Array<{ seq: number | string }>;
    return rows.map((r) => Number(r.seq));
  }
  const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

  /** A fresh chain: the audit tables emptied, the head back at genesis. */
  async function reset(): Promise<void> {
    await store.db.execute(sql`delete from audit_events`);
    await store.db.execute(sql`delete from audit_checkpoints`);
    await store.db.execute(sql`delete from audit_head`);
  }

  beforeAll(async () => {
    let dir: string;
    ({ target, cleanup, dir } = await backend.open());
    store = await openStore(target);
    key = await loadOrCreateSigningKey(path.join(dir, 'audit-signing-key.pem'));
  });
  // Each test's logs are closed after it, so no timer of theirs writes into the next test's chain.
  afterEach(async () => {
    for (const log of logs.splice(0)) await log.close().catch(() => undefined);
  });
  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });

  it('creates the signing key once, 0600, and reads the same key back', async () => {
    const file = path.join(tmpdir(), `portcullis-key-${process.pid}-${backend.name}.pem`);
    try {
      const [a, b] = await Promise.all([loadOrCreateSigningKey(file), loadOrCreateSigningKey(file)]);
      expect(a.publicKeyPem).toBe(b.publicKeyPem);
      const { statSync } = await import('node:fs');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect((await loadOrCreateSigningKey(file)).publicKeyPem).toBe(a.publicKeyPem);
    } finally {
      await rm(file, { force: true });
    }
  });

  it('appends 5,000 events from 8 concurrent writers: seqs 1..5000, no gaps, verifies', async () => {
    await reset();
    const log = newLog();
    const seqs = (
      await Promise.all(
        Array.from({ length: 8 }, async (_, writer) => {
          const mine: number[] = [];
          for (let i = 0; i < 625; i += 1) {
            // Each writer keeps a few appends in flight, as concurrent sessions do.
            const batch = await Promise.all(
              Array.from({ length: 5 }, (_, j) => log.append({ type: 'test.event', actor: `writer-${writer}`, subject: null, data: { i, j } })),
            );
            mine.push(...batch);
            i += 4;
          }
          return mine;
        }),
      )
    ).flat();
    expect(new Set(seqs).size).toBe(5000);
    await log.checkpointNow();
    // The 5,000 events and the `audit.checkpoint` events between them: 1..N, no gaps.
    const stored = await allSeqs();
    expect(stored).toEqual(oneTo(stored.length));
    expect(stored.length).toBeGreaterThanOrEqual(5005);
    const result = await log.verify();
    expect(result).toMatchObject({ ok: true, events: stored.length, firstSeq: 1, lastSeq: stored.length, lastCheckpointSeq: stored.length, problem: null });
    expect(result.checkpoints).toBeGreaterThanOrEqual(5);
    const rows = (await store.db.execute(sql`select count(*)::int as n from audit_events where type = 'test.event'`)) as unknown as Array<{ n: number }>;
    expect(Number(rows[0]!.n)).toBe(5000);
  });

  it('stores data exactly as hashed: big numbers, -0, NUL, lone surrogates, nested keys in any order', async () => {
    await reset();
    const log = newLog();
    await log.append({
      type: 'weird',
      actor: 'a\u0000b',
      subject: '\ud800',
      data: { z: 2 ** 60, a: -0, tiny: 5e-324, huge: 1.7976931348623157e308, exp: 1e21, frac: 0.1, big: 2n ** 70n, s: 'x\u0000y\udc00', nested: { b: [1, undefined, 'é'], a: null }, when: new Date(0), nan: Number.NaN },
    });
    expect(await log.verify()).toMatchObject({ ok: true, events: 1 });
  });

  it('fails closed: an append that cannot be recorded rejects', async () => {
    await reset();
    const log = newLog();
    await expect(log.append({ type: 'circular', data: { big: Symbol('x') as unknown as string } })).resolves.toBe(1);
    await store.db.execute(sql`alter table audit_events add constraint audit_test_no_bad check (type <> 'refused')`);
    try {
      await expect(log.append({ type: 'refused' })).rejects.toThrow(/could not be recorded/);
      // The chain did not move: the next event follows the last recorded one.
      await expect(log.append({ type: 'fine' })).resolves.toBe(2);
    } finally {
      await store.db.execute(sql`alter table audit_events drop constraint audit_test_no_bad`);
    }
    expect(await log.verify()).toMatchObject({ ok: true, events: 2 });
  });

  it('takes a checkpoint every checkpointEvery events and on close', async () => {
    await reset();
    const log = newLog(store.db, { checkpointEvery: 100 });
    for (let round = 0; round < 5; round += 1) await Promise.all(Array.from({ length: 50 }, (_, i) => log.append({ type: 'e', data: { round, i } })));
    await log.close();
    const result = await newLog().verify();
    const stored = await allSeqs();
    expect(result).toMatchObject({ ok: true, events: stored.length, lastCheckpointSeq: stored.length });
    expect(stored.length).toBeGreaterThanOrEqual(253);
    expect(result.checkpoints).toBeGreaterThanOrEqual(3);
  });

  describe('tampering through SQL is found and the seq named', () => {
    let log: AuditLog;
    /** 40 events with an `audit.checkpoint` event after every 10th: checkpoints at 11, 22, 33 and 44. */
    async function fresh(): Promise<void> {
      await reset();
      log = newLog(store.db, { checkpointEvery: 10 });
      for (let i = 0; i < 40; i += 1) await log.append({ type: 'e', actor: 'agent', subject: 'repo', data: { i, nested: { v: i * 2 } } });
      await log.checkpointNow();
      expect(await log.verify()).toMatchObject({ ok: true, events: 44, checkpoints: 4, lastCheckpointSeq: 44 });
    }

    it('a modified event', async () => {
      await fresh();
      await store.db.execute(sql`update audit_events set data = jsonb_set(data, '{i}', '999') where seq = 17`);
      const result = await log.verify();
      expect(result.ok).toBe(false);
      expect(result.problem!.seq).toBe(17);
      expect(result.problem!.message).toContain('17');
    });

    it('a modified event whose hash was recomputed by the attacker (caught by prevHash / checkpoint)', async () => {
      await fresh();
      await store.db.execute(sql`update audit_events set hash = repeat('0', 64) where seq = 23`);
      const result = await log.verify();
      expect(result.ok).toBe(false);
      expect(result.problem!.seq).toBe(23);
    });

    it('a deleted event', async () => {
      await fresh();
      await store.db.execute(sql`delete from audit_events where seq = 12`);
      const result = await log.verify();
      expect(result.ok).toBe(false);
      expect(result.problem!.seq).toBe(12);
    });

    it('the last events deleted (the head remembers)', async () => {
      await fresh();
      await log.append({ type: 'late' });
      await store.db.execute(sql`delete from audit_events where seq = 45`);
      const result = await log.verify();
      expect(result.ok).toBe(false);
      expect(result.problem!.seq).toBe(45);
    });

    it('the first events deleted without a prune', async () => {
      await fresh();
      await store.db.execute(sql`delete from audit_events where seq <= 10`);
      const result = await log.verify();
      expect(result.ok).toBe(false);
      expect(result.problem!.seq).toBe(10);
    });

    it('a checkpoint signature changed', async () => {
      await fresh();
      await store.db.execute(sql`update audit_checkpoints set signature = reverse(signature) where seq = 22`);
      const result = await log.verify();
      expect(result.ok).toBe(false);
      expect(result.problem!.seq).toBe(22);
    });

    it('a checkpoint deleted', async () => {
      await fresh();
      await store.db.execute(sql`delete from audit_checkpoints where seq = 33`);
      const result = await log.verify();
      expect(result.ok).toBe(false);
      expect(result.problem!.seq).toBe(33);
    });

    it('two events swapped', async () => {
      await fresh();
      await store.db.execute(sql`update audit_events set seq = -1 where seq = 5`);
      await store.db.execute(sql`update audit_events set seq = 5 where seq = 6`);
      await store.db.execute(sql`update audit_events set seq = 6 where seq = -1`);
      const result = await log.verify();
      expect(result.ok).toBe(false);
      expect(result.problem!.seq).toBe(5);
    });

    it('a checkpoint signed by another key', async () => {
      await fresh();
      const other = createAuditLog(store.db, clock, { signingKey: createPrivateKey(generateSigningKey().privateKeyPem), publicKey: key.publicKey, checkpointEvery: 1000, checkpointIntervalMs: 60_000, log: silent });
      logs.push(other);
      await log.append({ type: 'x' });
      await other.checkpointNow();
      const result = await log.verify();
      expect(result.ok).toBe(false);
      expect(result.problem!.seq).toBe(46);
    });
  });

  it('exports JSONL that verifies offline; a modified line does not', async () => {
    await reset();
    const log = newLog(store.db, { checkpointEvery: 50 });
    for (let i = 0; i < 120; i += 1) {
      clock.advance(1000);
      await log.append({ type: 'e', actor: 'a', subject: 's', data: { i } });
    }
    await log.checkpointNow();
    const lines = await collect(log);
    // 120 events, `audit.checkpoint` events at 51 and 102, and the one checkpointNow made at 123.
    expect(JSON.parse(lines[0]!)).toMatchObject({ kind: 'header', format: 'portcullis-audit-export', version: 1, from: null, to: 123 });
    expect(lines.filter((l) => l.includes('"kind":"event"'))).toHaveLength(123);
    expect(lines.filter((l) => l.includes('"kind":"checkpoint"'))).toHaveLength(3);
    const publicKeys = [createPublicKey(log.publicKeyPem)];
    expect(await verifyExport(linesOf(lines), { publicKeys })).toMatchObject({ ok: true, events: 123, lastSeq: 123, lastCheckpointSeq: 123 });

    const tampered = lines.map((line) => (line.includes('"seq":60,') && line.includes('"kind":"event"') ? line.replace(/"data":\{"i":\d+\}/, '"data":{"i":1000}') : line));
    expect(tampered).not.toEqual(lines);
    const bad = await verifyExport(linesOf(tampered), { publicKeys });
    expect(bad.ok).toBe(false);
    expect(bad.problem!.seq).toBe(60);

    const dropped = lines.filter((line) => !(line.includes('"seq":61,') && line.includes('"kind":"event"')));
    const gap = await verifyExport(linesOf(dropped), { publicKeys });
    expect(gap.ok).toBe(false);
    expect(gap.problem!.seq).toBe(61);

    // A time window: the events inside it, anchored on the checkpoint before it.
    const start = new Date(clock.now().getTime() - 60_000);
    const window = await collect(log, { since: start });
    const header = JSON.parse(window[0]!) as { from: number; to: number };
    expect(header.to).toBe(123);
    expect(header.from).toBeGreaterThan(1);
    expect(await verifyExport(linesOf(window), { publicKeys })).toMatchObject({ ok: true });
  });

  it('export respects backpressure on a slow stream', async () => {
    const log = newLog(store.db, { pageSize: 7 });
    const out = new PassThrough({ highWaterMark: 16 });
    const reading = (async () => {
      let text = '';
      for await (const chunk of out) text += String(chunk);
      return text;
    })();
    const summary = await log.export(out);
    out.end();
    expect((await reading).split('\n').filter(Boolean).length).toBe(1 + summary.events + summary.checkpoints);
  });

  it('prunes whole checkpointed segments only and stays verifiable from the retained start', async () => {
    await reset();
    const log = newLog(store.db, { checkpointEvery: 25 });
    for (let i = 0; i < 60; i += 1) await log.append({ type: 'old', data: { i } });
    await log.checkpointNow();
    clock.advance(40 * 86_400_000);
    for (let i = 0; i < 30; i += 1) await log.append({ type: 'new', data: { i } });
    await log.checkpointNow();
    // Old: 1..62 with checkpoints at 26, 52 and 63; new: 64..94 with checkpoints at 89 and 95.
    const pruned = await log.prune(30);
    expect(pruned).toEqual({ deleted: 63, throughSeq: 63 });
    const result = await log.verify();
    expect(result).toMatchObject({ ok: true, firstSeq: 64, lastSeq: 96 });
    // The prune itself is in the chain.
    const rows = (await store.db.execute(sql`select seq, data from audit_events where type = 'audit.prune'`)) as unknown as Array<{ seq: number; data: { throughSeq: number } }>;
    expect(rows.map((r) => [Number(r.seq), r.data.throughSeq])).toEqual([[96, 63]]);
    // Nothing more to prune: idempotent.
    expect(await log.prune(30)).toEqual({ deleted: 0, throughSeq: null });
    // The export of what is left verifies offline too.
    expect(await verifyExport(linesOf(await collect(log)), { publicKeys: [key.publicKey] })).toMatchObject({ ok: true, firstSeq: 64 });
    // Deleting the retained start behind the prune's back is still caught.
    await store.db.execute(sql`delete from audit_events where seq <= 75`);
    expect((await log.verify()).ok).toBe(false);
  });

  it('verify --from starts in the middle', async () => {
    await reset();
    const log = newLog(store.db, { checkpointEvery: 10 });
    for (let i = 0; i < 35; i += 1) await log.append({ type: 'e', data: { i } });
    // Checkpoints at 11, 22 and 33: --from 12 is anchored by the checkpoint at 11; --from 14 trusts event 14's prevHash.
    expect(await log.verify({ from: 12 })).toMatchObject({ ok: true, firstSeq: 12, lastSeq: 38 });
    expect(await log.verify({ from: 14 })).toMatchObject({ ok: true, firstSeq: 14, lastSeq: 38 });
    await store.db.execute(sql`update audit_events set prev_hash = repeat('1', 64) where seq = 12`);
    const broken = await log.verify({ from: 12 });
    expect(broken.ok).toBe(false);
    expect(broken.problem!.message).toMatch(/event 12 /);
  });

  it.runIf(backend.name === 'postgresql')('two audit logs on one PostgreSQL database (two gateway processes) make one chain', async () => {
    await reset();
    const second = await openStore(target);
    try {
      const a = newLog(store.db, { checkpointEvery: 200 });
      const b = newLog(second.db, { checkpointEvery: 300 });
      const seqs = (
        await Promise.all(
          Array.from({ length: 8 }, (_, writer) =>
            Promise.all(Array.from({ length: 250 }, (_, i) => (writer % 2 === 0 ? a : b).append({ type: 'e', actor: `w${writer}`, data: { i } }))),
          ),
        )
      ).flat();
      expect(new Set(seqs).size).toBe(2000);
      await a.close();
      await b.close();
      const stored = await allSeqs();
      expect(stored).toEqual(oneTo(stored.length));
      expect(await newLog().verify()).toMatchObject({ ok: true, events: stored.length, firstSeq: 1, lastSeq: stored.length, lastCheckpointSeq: stored.length });
    } finally {
      await second.close();
    }
  });
});
