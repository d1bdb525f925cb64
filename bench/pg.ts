/**
 * `npm run bench:pg`: pgbench's select-only (`-S`) and default TPC-B-like scripts, each over the
 * simple and the extended query protocol, straight to PostgreSQL, through pgbouncer (transaction
 * pooling) and through `portcullis serve` (classification and masking on: the default policy),
 * with the same clients in the same run, alternating. Prints median TPS, p50/p99 latency, the
 * ratios against direct and portcullis/pgbouncer against the goal (≥ 0.9× pgbouncer), and the
 * gateway's RSS. Not a test: nothing here asserts a timing.
 *
 *   npm run bench:pg -- [--seconds 15] [--clients 8] [--threads 2] [--scale 10] [--rounds 2]
 *                       [--warmup 3] [--store pglite|postgres] [--upstream postgres://postgres@127.0.0.1:5432]
 *                       [--via direct,pgbouncer,portcullis] [--workloads select-only,tpcb] [--protocols simple,extended]
 *
 * The pgbench tables are initialised DIRECTLY in a dedicated database (portcullis_bench, kept for
 * later runs; .bench/pg-portcullis_bench.json records its scale): `pgbench -i` drops and creates
 * tables, which the gateway blocks or holds by design. Every measured run uses `-n`, and the bench
 * does pgbench's usual pre-run housekeeping (VACUUM of branches and tellers, TRUNCATE of history)
 * itself, directly, so all three columns start from the same state. pgbouncer is started on a free
 * loopback port (skipped, with the install command, when it is not installed); so is portcullis,
 * with its store in embedded PGlite (`--store postgres`: a fresh PostgreSQL database instead).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { runPgbench, type PgbenchResult, type Protocol, type Target, type Workload } from './pg/pgbench.ts';
import { findPgbouncer, PGBOUNCER_INSTALL_HINT, startPgbouncer, type Pgbouncer } from './pg/pgbouncer.ts';
import { startPortcullis, type Portcullis } from './pg/portcullis.ts';
import { cpuSecondsOf, findExecutable, median, memoryOf, type Memory } from './pg/proc.ts';

// ---------------------------------------------------------------------------------------------
// Options

const { values: argv } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    clients: { type: 'string', default: '8' },
    threads: { type: 'string', default: '2' },
    scale: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '3' },
    store: { type: 'string', default: 'pglite' },
    upstream: { type: 'string', default: process.env.BENCH_PG_UPSTREAM ?? 'postgres://postgres@127.0.0.1:5432' },
    via: { type: 'string', default: 'direct,pgbouncer,portcullis' },
    workloads: { type: 'string', default: 'select-only,tpcb' },
    protocols: { type: 'string', default: 'simple,extended' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (argv.help) {
  const doc = (await readFile(new URL(import.meta.url), 'utf8')).split('*/')[0]!;
  process.stdout.write(doc.replace(/^\/\*\*\n?/, '').replace(/^ \* ?/gm, '') + '\n');
  process.exit(0);
}

function positiveInt(name: string, value: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    console.error(`bench:pg: --${name} must be an integer ≥ ${min} (got ${JSON.stringify(value)})`);
    process.exit(2);
  }
  return n;
}

function listOf<T extends string>(name: string, value: string, allowed: readonly T[]): T[] {
  const items = value.split(',').map((item) => item.trim()).filter(Boolean);
  const wrong = items.filter((item) => !(allowed as readonly string[]).includes(item));
  if (wrong.length > 0 || items.length === 0) {
    console.error(`bench:pg: --${name} takes a comma-separated list of ${allowed.join(', ')} (got ${JSON.stringify(value)})`);
    process.exit(2);
  }
  return allowed.filter((item) => items.includes(item));
}

const SECONDS = positiveInt('seconds', argv.seconds);
const CLIENTS = positiveInt('clients', argv.clients);
const THREADS = Math.min(positiveInt('threads', argv.threads), CLIENTS);
const SCALE = positiveInt('scale', argv.scale);
const ROUNDS = positiveInt('rounds', argv.rounds);
const WARMUP = positiveInt('warmup', argv.warmup, 0);
const STORE = argv.store;
if (STORE !== 'pglite' && STORE !== 'postgres') {
  console.error(`bench:pg: --store is pglite or postgres (got ${JSON.stringify(STORE)})`);
  process.exit(2);
}
const COLUMNS = listOf('via', argv.via, ['direct', 'pgbouncer', 'portcullis'] as const);
const WORKLOADS = listOf('workloads', argv.workloads, ['select-only', 'tpcb'] as const satisfies readonly Workload[]);
const PROTOCOLS = listOf('protocols', argv.protocols, ['simple', 'extended'] as const satisfies readonly Protocol[]);
type Column = (typeof COLUMNS)[number];

const UPSTREAM = new URL(argv.upstream);
const UP = {
  host: UPSTREAM.hostname || '127.0.0.1',
  port: Number(UPSTREAM.port || 5432),
  user: decodeURIComponent(UPSTREAM.username || 'postgres'),
  password: UPSTREAM.password ? decodeURIComponent(UPSTREAM.password) : undefined,
};
const BENCH_DB = 'portcullis_bench';
const STORE_DB = 'portcullis_bench_store';
const GATEWAY_DB = 'bench'; // the name agents give as dbname
const MARKER = path.resolve('.bench', `pg-${BENCH_DB}.json`);

function upstreamUrl(database: string): string {
  const url = new URL(UPSTREAM.href);
  url.pathname = `/${database}`;
  return url.href;
}

// ---------------------------------------------------------------------------------------------
// Cleanup on Ctrl-C as well as on the way out

const cleanups: Array<() => Promise<void>> = [];
async function cleanUp(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()!().catch((error: unknown) => console.error(`cleanup failed: ${String(error)}`));
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\nbench:pg: ${signal}, stopping pgbouncer and portcullis…`);
    void cleanUp().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// The pgbench database, initialised directly (cached between runs)

const PGBENCH = await findExecutable('pgbench', ['/usr/bin/pgbench', '/usr/lib/postgresql/15/bin/pgbench']);
if (!PGBENCH) {
  console.error('bench:pg: pgbench not found; install it (Debian: apt-get install -y postgresql-client or postgresql-contrib)');
  process.exit(1);
}

const admin = postgres(upstreamUrl('postgres'), { max: 1, onnotice: () => {} });

async function ensureBenchDatabase(): Promise<void> {
  const exists = await admin`select 1 from pg_database where datname = ${BENCH_DB}`;
  if (exists.length === 0) await admin.unsafe(`create database ${BENCH_DB}`);
  const bench = postgres(upstreamUrl(BENCH_DB), { max: 1, onnotice: () => {} });
  try {
    const marker = existsSync(MARKER) ? (JSON.parse(await readFile(MARKER, 'utf8')) as { scale?: number; upstream?: string }) : null;
    const [tables] = await bench`select to_regclass('pgbench_accounts') is not null and to_regclass('pgbench_tellers') is not null
                                      and to_regclass('pgbench_history') is not null and to_regclass('pgbench_branches') is not null as ok`;
    const branches = tables?.ok ? Number((await bench`select count(*)::int as n from pgbench_branches`)[0]?.n) : -1;
    if (marker?.scale === SCALE && marker.upstream === `${UP.host}:${UP.port}` && branches === SCALE) {
      console.error(`pgbench tables: ${BENCH_DB} at scale ${SCALE} (cached, ${MARKER})`);
      return;
    }
  } finally {
    await bench.end();
  }
  console.error(`initialising ${BENCH_DB} with pgbench -i -s ${SCALE} directly against ${UP.host}:${UP.port} (cached for later runs)…`);
  const started = performance.now();
  const code = await new Promise<number>((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (UP.password) env.PGPASSWORD = UP.password;
    const child = spawn(PGBENCH!, ['-i', '-q', '-s', String(SCALE), '-h', UP.host, '-p', String(UP.port), '-U', UP.user, BENCH_DB], {
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('close', (exit) => resolve(exit ?? -1));
  });
  if (code !== 0) throw new Error(`pgbench -i failed with code ${code}`);
  await mkdir(path.dirname(MARKER), { recursive: true });
  await writeFile(MARKER, JSON.stringify({ database: BENCH_DB, scale: SCALE, upstream: `${UP.host}:${UP.port}`, initialisedAt: new Date().toISOString() }, null, 2) + '\n');
  console.error(`  initialised in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** What pgbench does before a run unless -n: the same starting state for every column. */
async function housekeeping(bench: postgres.Sql): Promise<void> {
  await bench.unsafe('vacuum pgbench_branches');
  await bench.unsafe('vacuum pgbench_tellers');
  await bench.unsafe('truncate pgbench_history');
}

// ---------------------------------------------------------------------------------------------
// The three columns

interface ColumnState {
  name: Column;
  target?: Target;
  /** The proxy's process, for CPU and memory. */
  pid?: number;
  /** Why the column has no figures at all (not installed, failed to start, died), in a few words. */
  skipped?: string;
  /** The whole story behind `skipped` (the proxy's output), printed after the table. */
  detail?: string;
  /** Set when the column failed, as opposed to being skipped on purpose. */
  failed?: boolean;
}

interface Cell {
  workload: Workload;
  protocol: Protocol;
}

interface Measured {
  results: Run[];
  errors: string[];
}

const cellKey = (cell: Cell, column: Column) => `${cell.workload}/${cell.protocol}/${column}`;
const measured = new Map<string, Measured>();
const measuredFor = (cell: Cell, column: Column): Measured => {
  const key = cellKey(cell, column);
  if (!measured.has(key)) measured.set(key, { results: [], errors: [] });
  return measured.get(key)!;
};

await ensureBenchDatabase();
const benchDb = postgres(upstreamUrl(BENCH_DB), { max: 1, onnotice: () => {} });
cleanups.push(() => benchDb.end());
cleanups.push(() => admin.end());
const logDir = await mkdtemp(path.join(tmpdir(), 'portcullis-bench-pgbench-'));
cleanups.push(() => rm(logDir, { recursive: true, force: true }));

const columns: ColumnState[] = [];
let bouncer: Pgbouncer | undefined;
let gateway: Portcullis | undefined;
let storeDescription = 'pglite (embedded)';
let gatewayIdle: Memory | undefined;

for (const name of COLUMNS) {
  if (name === 'direct') {
    columns.push({ name, target: { host: UP.host, port: UP.port, user: UP.user, dbname: BENCH_DB, password: UP.password } });
  } else if (name === 'pgbouncer') {
    const binary = await findPgbouncer();
    if (!binary) {
      console.error(`pgbouncer is not installed: skipping its column. Install it with:\n  ${PGBOUNCER_INSTALL_HINT}    (Debian/Ubuntu; macOS: brew install pgbouncer)`);
      columns.push({ name, skipped: `not installed: ${PGBOUNCER_INSTALL_HINT}` });
      continue;
    }
    try {
      bouncer = await startPgbouncer({
        binary,
        upstream: { ...UP, database: BENCH_DB },
        alias: BENCH_DB,
        poolSize: CLIENTS,
        maxClients: CLIENTS + 50,
      });
      cleanups.push(() => bouncer!.stop());
      console.error(`${bouncer.version} on 127.0.0.1:${bouncer.port} (transaction pooling, pool ${CLIENTS}, runs as ${bouncer.runsAs})`);
      columns.push({ name, pid: bouncer.pid, target: { host: '127.0.0.1', port: bouncer.port, user: UP.user, dbname: BENCH_DB, password: UP.password } });
    } catch (error) {
      console.error(`pgbouncer failed to start: ${errorText(error)}`);
      columns.push({ name, skipped: `failed to start: ${gist(errorText(error))}`, detail: errorText(error), failed: true });
    }
  } else {
    try {
      let storeUrl: string | undefined;
      if (STORE === 'postgres') {
        await admin.unsafe(`drop database if exists ${STORE_DB} with (force)`);
        await admin.unsafe(`create database ${STORE_DB}`);
        storeUrl = upstreamUrl(STORE_DB);
        storeDescription = `postgresql (fresh database ${STORE_DB})`;
        cleanups.push(async () => void (await admin.unsafe(`drop database if exists ${STORE_DB} with (force)`)));
      }
      console.error('starting portcullis serve…');
      gateway = await startPortcullis({ database: GATEWAY_DB, upstreamUrl: upstreamUrl(BENCH_DB), storeUrl });
      cleanups.push(() => gateway!.stop());
      const token = await gateway.addAgent('benchbot', GATEWAY_DB);
      console.error(gateway.banner.replace(/^/gm, '  | '));
      gatewayIdle = await memoryOf(gateway.pid);
      columns.push({ name, pid: gateway.pid, target: { host: '127.0.0.1', port: gateway.pgPort, user: 'benchbot', dbname: GATEWAY_DB, password: token } });
    } catch (error) {
      console.error(`portcullis failed to start: ${errorText(error)}`);
      columns.push({ name, skipped: `failed to start: ${gist(errorText(error))}`, detail: errorText(error), failed: true });
    }
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The telling line of an error report: the first one naming an error, else the first. */
function gist(text: string): string {
  const lines = text.split('\n').map((line) => line.trim()).filter(Boolean);
  const telling = lines.find((line) => /\b(error|fatal|refused|denied|failed|cannot|exited|killed)\b/i.test(line) && !/:$/.test(line)) ?? lines[0] ?? '';
  return telling.length > 110 ? `${telling.slice(0, 107)}…` : telling;
}

// ---------------------------------------------------------------------------------------------
// Measuring

type Run = PgbenchResult & { proxyCpu: number; historyRows?: number };

async function measure(cell: Cell, column: ColumnState, seconds: number, label: string): Promise<Run> {
  await housekeeping(benchDb);
  const cpuBefore = column.pid ? await cpuSecondsOf(column.pid) : NaN;
  const started = performance.now();
  const result = await runPgbench({
    pgbench: PGBENCH!,
    target: column.target!,
    workload: cell.workload,
    protocol: cell.protocol,
    clients: CLIENTS,
    threads: THREADS,
    seconds,
    logDir,
    label: `  [${label}]`,
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  const wall = (performance.now() - started) / 1000;
  const cpuAfter = column.pid ? await cpuSecondsOf(column.pid) : NaN;
  // Every TPC-B-like transaction inserts one history row: counted directly, this shows the writes
  // really reached PostgreSQL (the history table was emptied just before the run).
  const historyRows = cell.workload === 'tpcb' ? Number((await benchDb`select count(*)::int as n from pgbench_history`)[0]?.n) : undefined;
  return { ...result, proxyCpu: (cpuAfter - cpuBefore) / wall, historyRows };
}

/** After a failure: is the proxy process still there? If not, the column is over. */
function checkAlive(column: ColumnState): void {
  if (column.name === 'portcullis' && gateway && !gateway.alive()) {
    column.skipped = 'portcullis exited during the run';
    column.detail = `portcullis exited during the run; its last output:\n${gateway.output().trimEnd().split('\n').slice(-20).join('\n')}`;
    column.failed = true;
  }
}

const cells: Cell[] = WORKLOADS.flatMap((workload) => PROTOCOLS.map((protocol) => ({ workload, protocol })));
if (gateway) await writeFile(`/proc/${gateway.pid}/clear_refs`, '5').catch(() => {}); // peak RSS from here on
const benchStarted = performance.now();
const loadAtStart = loadavg()[0]!;

for (const cell of cells) {
  const cellName = `${cell.workload}/${cell.protocol}`;
  // Columns that failed in this cell sit out its remaining rounds (the error is kept).
  const out = new Set<Column>();
  if (WARMUP > 0) {
    for (const column of columns) {
      if (column.skipped) continue;
      try {
        await measure(cell, column, WARMUP, `${cellName} ${column.name} warm-up`);
      } catch (error) {
        measuredFor(cell, column.name).errors.push(`warm-up: ${errorText(error)}`);
        console.error(`${cellName} ${column.name} warm-up FAILED: ${errorText(error)}`);
        out.add(column.name);
        checkAlive(column);
      }
    }
  }
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round so no column always runs first (or right after another).
    const order = columns.map((_, i) => columns[(i + round) % columns.length]!);
    const line: string[] = [];
    for (const column of order) {
      if (column.skipped || out.has(column.name)) continue;
      const label = `${cellName} round ${round + 1}/${ROUNDS} ${column.name}`;
      try {
        const result = await measure(cell, column, SECONDS, label);
        measuredFor(cell, column.name).results.push(result);
        const history = result.historyRows === undefined ? '' : `, ${result.historyRows} history rows for ${result.transactions} transactions`;
        line.push(`${column.name} ${result.tps.toFixed(0)} tps, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms${history}`);
      } catch (error) {
        measuredFor(cell, column.name).errors.push(`round ${round + 1}: ${errorText(error)}`);
        console.error(`${label} FAILED: ${errorText(error)}`);
        line.push(`${column.name} FAILED`);
        out.add(column.name);
        checkAlive(column);
      }
    }
    console.error(`${cellName} round ${round + 1}/${ROUNDS}: ${line.join('; ')}`);
  }
}

const benchSeconds = (performance.now() - benchStarted) / 1000;
const gatewayAfter = gateway?.alive() ? await memoryOf(gateway.pid) : undefined;
const gatewayOutput = gateway?.output() ?? '';
await cleanUp();

// ---------------------------------------------------------------------------------------------
// Report

interface Row {
  tps: number;
  p50: number;
  p99: number;
  cpu: number;
  failed: number;
  runs: number;
  /** Runs whose history row count did not match pgbench's transaction count. */
  historyMismatches: number;
}

function summarise(cell: Cell, column: ColumnState): Row | undefined {
  const m = measured.get(cellKey(cell, column.name));
  if (!m || m.results.length === 0) return undefined;
  return {
    tps: median(m.results.map((r) => r.tps)),
    p50: median(m.results.map((r) => r.p50Ms)),
    p99: median(m.results.map((r) => r.p99Ms)),
    cpu: median(m.results.map((r) => r.proxyCpu)),
    failed: m.results.reduce((sum, r) => sum + r.failed, 0),
    runs: m.results.length,
    historyMismatches: m.results.filter((r) => r.historyRows !== undefined && Math.abs(r.historyRows - r.transactions) > CLIENTS).length,
  };
}

const goal = (met: boolean, text: string) => `(goal ${text}: ${met ? 'met' : 'NOT met'})`;
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;
const header = ['workload', 'protocol', 'via', 'TPS', 'p50 ms', 'p99 ms', '×direct', 'proxy CPU', 'portcullis/pgbouncer, notes'];
const rows: string[][] = [];
const goalLines: string[] = [];
for (const cell of cells) {
  const direct = columns.find((c) => c.name === 'direct');
  const directRow = direct ? summarise(cell, direct) : undefined;
  const bouncerColumn = columns.find((c) => c.name === 'pgbouncer');
  const bouncerRow = bouncerColumn ? summarise(cell, bouncerColumn) : undefined;
  columns.forEach((column, i) => {
    const row = summarise(cell, column);
    const first = i === 0;
    const lead = [first ? cell.workload : '', first ? cell.protocol : '', column.name];
    if (!row) {
      const m = measured.get(cellKey(cell, column.name));
      const why = column.skipped && !m?.errors.length ? (column.failed ? 'FAILED' : 'skipped') : 'FAILED';
      rows.push([...lead, why, '', '', '', '', column.skipped && !m?.errors.length ? column.skipped : gist(m?.errors[0] ?? '')]);
      return;
    }
    const partial = row.runs < ROUNDS ? ` (${row.runs}/${ROUNDS} rounds)` : '';
    const failedTx =
      (row.failed > 0 ? ` ${row.failed} failed tx` : '') +
      (row.historyMismatches > 0 ? ` history rows ≠ transactions in ${row.historyMismatches} run(s)!` : '');
    let versus = '';
    if (column.name === 'portcullis' && bouncerRow) {
      const ratio = row.tps / bouncerRow.tps;
      versus = `${ratio.toFixed(2)}× ${goal(ratio >= 0.9, '≥ 0.9×')}`;
      goalLines.push(`${`${cell.workload} ${cell.protocol}`.padEnd(22)} portcullis ${ratio.toFixed(2)}× pgbouncer's TPS ${goal(ratio >= 0.9, '≥ 0.9×')}`);
    }
    rows.push([
      ...lead,
      row.tps.toFixed(0),
      row.p50.toFixed(2),
      row.p99.toFixed(2),
      directRow ? `${(row.tps / directRow.tps).toFixed(2)}×` : '',
      Number.isFinite(row.cpu) ? `${(row.cpu * 100).toFixed(0)}%` : '',
      versus + partial + failedTx,
    ]);
  });
}

const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const format = (cells: string[]) =>
  cells
    .map((text, i) => (i >= 3 && i <= 7 ? text.padStart(widths[i]!) : text.padEnd(widths[i]!)))
    .join('  ')
    .trimEnd();

console.log('');
console.log(`pgbench                ${path.basename(PGBENCH)} -c ${CLIENTS} -j ${THREADS} -T ${SECONDS} -n, scale ${SCALE}; ${ROUNDS} round${ROUNDS > 1 ? 's' : ''} per column, alternating (medians shown), ${WARMUP} s warm-up each; ${(benchSeconds / 60).toFixed(1)} min`);
console.log(`machine                ${availableParallelism()} CPUs shared by pgbench, PostgreSQL and the proxy; load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end (anything else running skews the figures)`);
console.log(`upstream               PostgreSQL at ${UP.host}:${UP.port}, database ${BENCH_DB}`);
for (const column of columns) {
  if (column.name === 'pgbouncer') console.log(`pgbouncer              ${bouncer ? `${bouncer.version}, pool_mode transaction, default_pool_size ${CLIENTS}` : column.skipped}`);
  if (column.name === 'portcullis') {
    console.log(`portcullis store       ${storeDescription}`);
    const policy = /^ {2}policy +(.*)$/m.exec(gateway?.banner ?? '')?.[1];
    console.log(`portcullis policy      ${policy ?? (column.skipped ? '—' : 'unknown')} (classification and masking on)`);
  }
}
console.log('');
console.log(format(header));
console.log(format(widths.map((w) => '-'.repeat(w))));
let previousWorkload = '';
for (const row of rows) {
  if (row[0] && previousWorkload && row[0] !== previousWorkload) console.log('');
  if (row[0]) previousWorkload = row[0];
  console.log(format(row));
}
console.log('');
console.log('proxy CPU: user+system CPU time of the proxy process over the run, as a share of one core (pgbouncer and node are single-threaded at heart).');
console.log(`reference (measured earlier on this machine): pgbouncer 0.69× direct on -S -c 8 -j 2 simple, 0.84× extended`);
if (goalLines.length > 0) {
  console.log('');
  for (const line of goalLines) console.log(line);
} else if (COLUMNS.includes('portcullis')) {
  console.log('');
  console.log('goal (portcullis ≥ 0.9× pgbouncer\'s TPS) not judged: no portcullis and pgbouncer figures for the same workload');
}
if (gateway) {
  console.log('');
  const after = gatewayAfter ? `${mb(gatewayAfter.rssKb)} after the runs, peak ${mb(gatewayAfter.peakKb)} during them` : 'gone before the end (exited)';
  console.log(`portcullis RSS         ${gatewayIdle ? mb(gatewayIdle.rssKb) : '?'} before (started, agent added), ${after}`);
}

// Every error in full, after the table.
const failures: string[] = [];
for (const column of columns) {
  if (column.skipped && column.failed) failures.push(`${column.name}: ${column.detail ?? column.skipped}`);
  for (const cell of cells) {
    for (const error of measured.get(cellKey(cell, column.name))?.errors ?? []) failures.push(`${column.name} ${cell.workload}/${cell.protocol} ${error}`);
  }
}
if (failures.length > 0) {
  console.log('');
  console.log('errors:');
  for (const failure of failures) console.log(failure.replace(/^/gm, '  ').replace(/^ {2}/, '- '));
  if (columns.some((c) => c.name === 'portcullis' && (c.failed || failures.some((f) => f.startsWith('portcullis'))))) {
    const tail = gatewayOutput.trimEnd().split('\n').slice(-15).join('\n');
    if (tail) console.log(`\nportcullis output (last lines):\n${tail.replace(/^/gm, '  ')}`);
  }
  process.exitCode = 1;
}
