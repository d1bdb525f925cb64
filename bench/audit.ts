/**
 * `npm run bench:audit`: audit events appended per second (1 writer, 8 concurrent writers) on PGlite
 * and on PostgreSQL (a fresh database), and `audit verify` speed (events/s) over a larger chain.
 * Each writer awaits its append before the next, as a session recording its events does; group
 * commit puts concurrent writers' events in one transaction. Goals: >= 5,000 events/s appended on
 * PostgreSQL with 8 writers; verify >= 100,000 events/s.
 * Options: --events N (per run, default 20,000), --verify-events N (chain verified, default 200,000).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createAuditLog, loadOrCreateSigningKey, type AuditLog, type SigningKey } from '../src/audit/chain-store/index.ts';
import { openStore, type Store, type StoreTarget } from '../src/store/index.ts';
import { createTestDatabase, postgresAvailable, TEST_PG_ADMIN_URL } from '../test/helpers/postgres.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const eventsPerRun = Number(args.get('events') ?? 20_000);
const verifyEvents = Number(args.get('verify-events') ?? 200_000);

const clock = { now: () => new Date() };

function sampleData(i: number): Record<string, unknown> {
  // About the size of a recorded git ref decision or SQL statement verdict.
  return { sessionId: `0190a1b2c3d4${i.toString(16).padStart(8, '0')}`, repo: 'github/acme/app', ref: 'refs/heads/main', verdict: 'allow', rule: null, durationMs: i % 97, statement: 'select id, email from users where id = $1' };
}

async function appendRate(log: AuditLog, writers: number, total: number): Promise<number> {
  const each = Math.ceil(total / writers);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < each; i += 1) await log.append({ type: 'bench.event', actor: `agent-${w}`, subject: 'github/acme/app', data: sampleData(i) });
    }),
  );
  return (writers * each) / ((performance.now() - started) / 1000);
}

async function fill(log: AuditLog, total: number): Promise<void> {
  const inFlight = 2000;
  for (let done = 0; done < total; done += inFlight) {
    await Promise.all(Array.from({ length: Math.min(inFlight, total - done) }, (_, i) => log.append({ type: 'bench.fill', actor: 'agent', subject: null, data: sampleData(done + i) })));
  }
}

async function run(name: string, target: StoreTarget, key: SigningKey): Promise<{ one: number; eight: number; verify: number; verified: number }> {
  const store: Store = await openStore(target);
  const log = createAuditLog(store.db, clock, { signingKey: key.privateKey, publicKey: key.publicKey, checkpointEvery: 1000, checkpointIntervalMs: 60_000, log: pino({ level: 'silent' }) });
  try {
    await appendRate(log, 1, 500); // warm-up
    const one = await appendRate(log, 1, Math.min(eventsPerRun, 10_000));
    const eight = await appendRate(log, 8, eventsPerRun);
    const head = await log.head();
    if (head.seq < verifyEvents) await fill(log, verifyEvents - head.seq);
    await log.checkpointNow();
    const started = performance.now();
    const result = await log.verify();
    const seconds = (performance.now() - started) / 1000;
    if (!result.ok) throw new Error(`${name}: the chain does not verify: ${result.problem?.message}`);
    return { one, eight, verify: result.events / seconds, verified: result.events };
  } finally {
    await log.close();
    await store.close();
  }
}

const dir = await mkdtemp(path.join(tmpdir(), 'portcullis-bench-audit-'));
const key = await loadOrCreateSigningKey(path.join(dir, 'audit-signing-key.pem'));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const results: Array<{ name: string; one: number; eight: number; verify: number; verified: number }> = [];
try {
  process.stderr.write('PGlite...\n');
  results.push({ name: 'PGlite', ...(await run('PGlite', { kind: 'pglite', dataDir: path.join(dir, 'pglite') }, key)) });
  if (await postgresAvailable()) {
    process.stderr.write('PostgreSQL...\n');
    const database = await createTestDatabase();
    try {
      results.push({ name: 'PostgreSQL', ...(await run('PostgreSQL', { kind: 'postgres', url: database.url }, key)) });
    } finally {
      await database.drop();
    }
  } else {
    process.stderr.write(`PostgreSQL not reachable at ${TEST_PG_ADMIN_URL}: skipped\n`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

process.stdout.write('\naudit chain benchmark\n');
process.stdout.write('store        1 writer (ev/s)   8 writers (ev/s)   verify (ev/s)   chain verified\n');
for (const r of results) {
  process.stdout.write(`${r.name.padEnd(12)} ${fmt(r.one).padStart(16)}   ${fmt(r.eight).padStart(16)}   ${fmt(r.verify).padStart(13)}   ${fmt(r.verified).padStart(14)} events\n`);
}
const pg = results.find((r) => r.name === 'PostgreSQL');
const appendGoal = pg ? (pg.eight >= 5000 ? 'met' : 'NOT met') : 'not measured (no PostgreSQL)';
const verifyGoal = results.every((r) => r.verify >= 100_000) ? 'met' : 'NOT met';
process.stdout.write(`\ngoal >= 5,000 events/s appended on PostgreSQL with 8 writers: ${appendGoal}${pg ? ` (${fmt(pg.eight)})` : ''}\n`);
process.stdout.write(`goal verify >= 100,000 events/s: ${verifyGoal} (${results.map((r) => `${r.name} ${fmt(r.verify)}`).join(', ')})\n`);
