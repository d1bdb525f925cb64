/**
 * `npm run bench:pg-rows`: one large result streamed to psql, straight from PostgreSQL and through
 * portcullis, alternating; prints the time ratio and the gateway's memory while the rows flow.
 * Three queries, one per path a row can take: `untouched` (numbers and times only: DataRows leave
 * as they came, no per-row work), `detected` (a text digest every value detector reads) and
 * `masked` (an `email` column masked in every row). Options: --rows N (default 2,000,000), --runs N.
 */
import { execFile } from 'node:child_process';
import postgres from 'postgres';
import { startPortcullis } from './pg/portcullis.ts';
import { median, memoryOf, sleep } from './pg/proc.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const rows = Number(args.get('rows') ?? 2_000_000);
const runs = Number(args.get('runs') ?? 3);
const adminUrl = process.env.PORTCULLIS_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const database = 'portcullis_bench_rows';

const queries = {
  untouched: `select g as id, g * 2.5 as amount, now() as at from generate_series(1, ${rows}) g`,
  detected: `select g as id, md5(g::text) as digest from generate_series(1, ${rows}) g`,
  masked: `select g as id, 'user' || g || '@example.com' as email from generate_series(1, ${rows}) g`,
};

function psql(port: number, user: string, password: string, query: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(
      'psql',
      ['-X', '-q', '-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', database, '-o', '/dev/null', '-c', query],
      { env: { ...process.env, PGPASSWORD: password }, maxBuffer: 1024 * 1024 },
      (error, _stdout, stderr) => (error ? reject(new Error(stderr || error.message)) : resolve(performance.now() - started)),
    );
  });
}

const admin = postgres(adminUrl, { max: 1, onnotice: () => undefined });
await admin.unsafe(`drop database if exists ${database}`);
await admin.unsafe(`create database ${database}`);
const upstream = new URL(adminUrl);
upstream.pathname = `/${database}`;
process.stderr.write(`starting portcullis (embedded store) for ${rows.toLocaleString('en')} rows × ${runs} runs per query…\n`);
const gateway = await startPortcullis({ database, upstreamUrl: upstream.toString() });
try {
  const token = await gateway.addAgent('rows-bot', database);
  const upstreamPort = Number(upstream.port || 5432);
  for (const [name, query] of Object.entries(queries)) {
    const direct: number[] = [];
    const through: number[] = [];
    let peakGrowthKb = 0;
    for (let run = 1; run <= runs; run++) {
      direct.push(await psql(upstreamPort, upstream.username || 'postgres', '', query));
      const before = await memoryOf(gateway.pid);
      let peak = before.rssKb;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          peak = Math.max(peak, (await memoryOf(gateway.pid)).rssKb);
          await sleep(50);
        }
      })();
      through.push(await psql(gateway.pgPort, 'rows-bot', token, query));
      sampling = false;
      await sampler;
      peakGrowthKb = Math.max(peakGrowthKb, peak - before.rssKb);
      process.stderr.write(`  ${name} run ${run}/${runs}: direct ${direct.at(-1)!.toFixed(0)} ms, portcullis ${through.at(-1)!.toFixed(0)} ms, RSS +${Math.round((peak - before.rssKb) / 1024)} MB\n`);
    }
    const ratio = median(through) / median(direct);
    process.stdout.write(
      `${name.padEnd(9)} ${rows.toLocaleString('en')} rows: direct ${median(direct).toFixed(0)} ms, portcullis ${median(through).toFixed(0)} ms, ratio ${ratio.toFixed(2)}, gateway RSS growth while streaming ≤ ${Math.round(peakGrowthKb / 1024)} MB\n`,
    );
  }
} finally {
  await gateway.stop();
  await admin.unsafe(`drop database if exists ${database} with (force)`);
  await admin.end({ timeout: 5 });
}
