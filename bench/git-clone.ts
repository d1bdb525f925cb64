/**
 * `npm run bench:git`: clone a large generated repository (≥ 200 MB pack) straight from a real
 * `git http-backend` and through `portcullis serve`, alternating, and print the median wall-time
 * ratio and the gateway's peak RSS growth. Not a test: nothing here asserts a timing.
 *
 *   BENCH_RUNS=5 BENCH_PACK_MB=220 [BENCH_DATABASE_URL=postgres://…] npm run bench:git
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startGateway } from '../test/helpers/gateway.ts';
import { gitOk } from '../test/helpers/git-cli.ts';
import { startGitUpstream } from '../test/helpers/git-upstream.ts';
import { makeTempDir } from '../test/helpers/repos.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const PACK_MB = Number(process.env.BENCH_PACK_MB ?? 220);
const CACHE = path.resolve('.bench', `large-${PACK_MB}mb.git`);

async function buildLargeRepo(): Promise<void> {
  if (existsSync(path.join(CACHE, 'portcullis-bench-ready'))) return;
  console.error(`generating a ${PACK_MB} MB repository in ${CACHE} (cached for later runs)…`);
  const work = await makeTempDir('bench-work');
  await gitOk(['init', '-q'], { cwd: work.path });
  const fileMb = 4;
  const files = Math.ceil(PACK_MB / fileMb);
  const perCommit = Math.ceil(files / 10);
  for (let i = 0; i < files; i++) {
    // Random bytes do not compress or delta: the pack is as large as the data.
    await mkdir(path.join(work.path, `dir${i % 10}`), { recursive: true });
    await writeFile(path.join(work.path, `dir${i % 10}`, `blob${i}.bin`), randomBytes(fileMb * 1024 * 1024));
    if ((i + 1) % perCommit === 0 || i === files - 1) {
      await gitOk(['add', '-A'], { cwd: work.path });
      await gitOk(['commit', '-q', '-m', `bench data up to ${i}`], { cwd: work.path });
      process.stderr.write(`  ${i + 1}/${files} files committed\n`);
    }
  }
  await rm(CACHE, { recursive: true, force: true });
  await gitOk(['clone', '-q', '--bare', work.path, CACHE]);
  await gitOk(['--git-dir', CACHE, 'repack', '-a', '-d', '-q']);
  await writeFile(path.join(CACHE, 'portcullis-bench-ready'), '');
  await work.cleanup();
}

async function packBytes(): Promise<number> {
  const { stdout } = await gitOk(['--git-dir', CACHE, 'count-objects', '-v']);
  return Number(/size-pack: (\d+)/.exec(stdout)![1]) * 1024;
}

async function timeClone(url: string): Promise<number> {
  const target = await makeTempDir('bench-clone');
  const start = performance.now();
  await gitOk(['clone', '-q', '--no-checkout', url, target.path]);
  const elapsed = performance.now() - start;
  await target.cleanup();
  return elapsed;
}

async function memoryOf(pid: number): Promise<{ rssKb: number; peakKb: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)![1]);
  return { rssKb: field('VmRSS'), peakKb: field('VmHWM') };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

await buildLargeRepo();
const upstream = await startGitUpstream();
await mkdir(path.join(upstream.root, 'bench'), { recursive: true });
await symlink(CACHE, path.join(upstream.root, 'bench', 'large.git'));
// BENCH_DATABASE_URL runs the gateway on PostgreSQL (production shape) instead of embedded PGlite.
const storeEnv: Record<string, string> = process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {};
const gateway = await startGateway({ config: { remotes: [{ name: 'local', url: upstream.url }] }, env: storeEnv });
try {
  const token = await gateway.addAgent('bench', { read: ['local/bench/*'] });
  const direct = `${upstream.url}/bench/large.git`;
  const proxied = `${gateway.url.replace('http://', `http://bench:${token}@`)}/git/local/bench/large.git`;
  await timeClone(proxied); // warm both paths (page cache, keep-alive)
  await timeClone(direct);
  const before = await memoryOf(gateway.pid);
  // Reset the kernel's high-water mark so the peak covers the clones only, not start-up.
  await writeFile(`/proc/${gateway.pid}/clear_refs`, '5');
  const times = { direct: [] as number[], gateway: [] as number[] };
  for (let run = 1; run <= RUNS; run++) {
    times.direct.push(await timeClone(direct));
    times.gateway.push(await timeClone(proxied));
    console.error(`run ${run}/${RUNS}: direct ${times.direct.at(-1)!.toFixed(0)} ms, gateway ${times.gateway.at(-1)!.toFixed(0)} ms`);
  }
  const after = await memoryOf(gateway.pid);
  const ratio = median(times.gateway) / median(times.direct);
  const pack = await packBytes();
  console.log(`pack size              ${(pack / 1024 / 1024).toFixed(0)} MB`);
  console.log(`runs                   ${RUNS} each, alternating`);
  console.log(`gateway store          ${storeEnv.DATABASE_URL ? 'postgresql' : 'pglite (embedded)'}`);
  console.log(`median direct clone    ${median(times.direct).toFixed(0)} ms`);
  console.log(`median gateway clone   ${median(times.gateway).toFixed(0)} ms`);
  console.log(`ratio gateway/direct   ${ratio.toFixed(3)}`);
  console.log(`gateway RSS            ${(before.rssKb / 1024).toFixed(0)} MB before, peak ${(after.peakKb / 1024).toFixed(0)} MB (growth ${((after.peakKb - before.rssKb) / 1024).toFixed(0)} MB)`);
} finally {
  await gateway.stop();
  await upstream.close();
}
