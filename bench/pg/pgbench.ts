/**
 * Runs `pgbench` against one target and reads back what it measured: TPS from its summary, and
 * p50/p99 latency computed here from its per-transaction log (`--log`), so every column's
 * percentiles come from the same arithmetic.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { OutputTail } from './proc.ts';

export type Workload = 'select-only' | 'tpcb';
export type Protocol = 'simple' | 'extended';

export interface Target {
  host: string;
  port: number;
  user: string;
  dbname: string;
  password?: string;
}

export interface PgbenchOptions {
  pgbench: string;
  target: Target;
  workload: Workload;
  protocol: Protocol;
  clients: number;
  threads: number;
  seconds: number;
  /** Directory for the per-transaction logs; emptied of this run's files afterwards. */
  logDir: string;
  /** Shown in front of pgbench's progress lines. */
  label: string;
  onProgress?: (line: string) => void;
}

export interface PgbenchResult {
  tps: number;
  transactions: number;
  failed: number;
  p50Ms: number;
  p99Ms: number;
  /** Transactions in the log (should match `transactions`). */
  logged: number;
}

export class PgbenchError extends Error {}

let runCounter = 0;

export async function runPgbench(options: PgbenchOptions): Promise<PgbenchResult> {
  const { target } = options;
  const prefix = path.join(options.logDir, `run${++runCounter}`);
  const args = [
    '-n', // no vacuum: the proxies refuse or hold it, so the bench does it directly before each run
    '-c', String(options.clients),
    '-j', String(options.threads),
    '-T', String(options.seconds),
    '-P', String(Math.max(1, Math.min(5, Math.floor(options.seconds / 2)))),
    '-M', options.protocol,
    '--log', `--log-prefix=${prefix}`,
    ...(options.workload === 'select-only' ? ['-S'] : []),
    '-h', target.host,
    '-p', String(target.port),
    '-U', target.user,
    target.dbname,
  ];
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (target.password === undefined) delete env.PGPASSWORD;
  else env.PGPASSWORD = target.password;

  const stdout = new OutputTail();
  const stderr = new OutputTail();
  const child = spawn(options.pgbench, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk.toString()));
  let partial = '';
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    stderr.push(text);
    partial += text;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (line.startsWith('progress:')) options.onProgress?.(`${options.label} ${line}`);
  });
  // A proxy that stops answering would keep pgbench waiting forever: give up well after -T.
  let timedOut = false;
  const watchdog = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, (options.seconds + 60) * 1000);
  const code = await new Promise<number>((resolve) => {
    child.once('error', (error) => {
      stderr.push(String(error));
      resolve(-1);
    });
    child.once('close', (exitCode) => resolve(exitCode ?? -1));
  });
  clearTimeout(watchdog);

  try {
    const summary = stdout.toString();
    // Everything pgbench said on stderr except its progress lines: connection errors, aborted clients.
    const complaints = stderr
      .toString()
      .split('\n')
      .filter((line) => line.trim() && !line.startsWith('progress:'))
      .slice(-15)
      .join('\n');
    if (timedOut) throw new PgbenchError(`pgbench did not finish within ${options.seconds + 60} s (killed)\n${complaints}`);
    if (code !== 0) throw new PgbenchError(`pgbench exited with code ${code}\n${complaints || summary.trim().split('\n').slice(-8).join('\n')}`);
    const tps = Number(/^tps = ([\d.]+)/m.exec(summary)?.[1] ?? NaN);
    const transactions = Number(/number of transactions actually processed: (\d+)/.exec(summary)?.[1] ?? NaN);
    const failed = Number(/number of failed transactions: (\d+)/.exec(summary)?.[1] ?? 0);
    if (!Number.isFinite(tps)) throw new PgbenchError(`no "tps =" line in pgbench's output:\n${summary}\n${complaints}`);
    const latencies = await readLatencies(prefix);
    return { tps, transactions, failed, p50Ms: percentile(latencies, 0.5) / 1000, p99Ms: percentile(latencies, 0.99) / 1000, logged: latencies.length };
  } finally {
    await removeLogs(prefix);
  }
}

/** Per-transaction latencies in µs from `<prefix>.<pid>` and `<prefix>.<pid>.<thread>`, sorted. */
async function readLatencies(prefix: string): Promise<Float64Array> {
  const dir = path.dirname(prefix);
  const base = path.basename(prefix) + '.';
  const files = (await readdir(dir)).filter((name) => name.startsWith(base));
  const values: number[] = [];
  for (const file of files) {
    const text = await readFile(path.join(dir, file), 'utf8');
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      // client_id transaction_no time script_no time_epoch time_us [schedule_lag]; time is µs,
      // or "failed"/"skipped" for transactions that did not complete (not counted here).
      const line = text.slice(start, end);
      const first = line.indexOf(' ');
      const second = line.indexOf(' ', first + 1);
      const third = line.indexOf(' ', second + 1);
      const latency = Number(line.slice(second + 1, third));
      if (first > 0 && Number.isFinite(latency)) values.push(latency);
      start = end + 1;
    }
  }
  return Float64Array.from(values).sort();
}

async function removeLogs(prefix: string): Promise<void> {
  const dir = path.dirname(prefix);
  const base = path.basename(prefix) + '.';
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (name.startsWith(base)) await rm(path.join(dir, name), { force: true });
  }
}

/** Nearest-rank percentile of sorted values (NaN when there are none). */
export function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil(fraction * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}
