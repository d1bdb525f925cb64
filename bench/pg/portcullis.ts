/**
 * `portcullis serve` as an operator runs it, for the bench's portcullis column: a generated
 * portcullis.yml in a temp dir (one database, HTTP and PostgreSQL on free ports), the repository's
 * rules/policy.yml (the quick start's policy), the store in embedded PGlite under the temp dir
 * unless a DATABASE_URL is given. Agents are added with `portcullis agent add` over the control
 * socket, like an operator would.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { OutputTail, run } from './proc.ts';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(REPO_ROOT, 'bin/portcullis.js');

export interface Portcullis {
  pid: number;
  pgPort: number;
  /** The serve banner (stderr up to and including the `  agents ` line). */
  banner: string;
  /** Whether the process is still running. */
  alive(): boolean;
  output(): string;
  addAgent(name: string, database: string): Promise<string>;
  stop(): Promise<void>;
}

export interface PortcullisOptions {
  /** Name agents give as dbname. */
  database: string;
  /** The real upstream URL the gateway connects to. */
  upstreamUrl: string;
  /** The gateway's own store in PostgreSQL; embedded PGlite when absent. */
  storeUrl?: string;
}

export async function startPortcullis(options: PortcullisOptions): Promise<Portcullis> {
  const dir = await mkdtemp(path.join(tmpdir(), 'portcullis-bench-gw-'));
  const configPath = path.join(dir, 'portcullis.yml');
  await writeFile(
    configPath,
    stringify({
      dataDir: path.join(dir, 'data'),
      policy: path.join(REPO_ROOT, 'rules/policy.yml'),
      listen: { http: 0, pg: 0 },
      databases: [{ name: options.database, url: options.upstreamUrl }],
    }),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, PORTCULLIS_CONFIG: configPath };
  if (options.storeUrl) env.DATABASE_URL = options.storeUrl;
  else delete env.DATABASE_URL;

  const started = performance.now();
  const child = spawn(process.execPath, [BIN, 'serve'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = new OutputTail(64_000);
  let banner = '';
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    output.push(text);
    if (banner.length < 16_000) banner += text;
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  let pgPort: number;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`portcullis did not print its banner within 60 s:\n${output.lastLines(30)}`)), 60_000);
      const check = () => {
        // The banner's last line: by then every listener (HTTP, PostgreSQL) is up and named.
        if (/^ {2}agents /m.test(banner)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stderr.on('data', check);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        const said = output.toString().trim() ? `:\n${output.lastLines(30)}` : ' (no output)';
        reject(new Error(`portcullis serve ${how} ${((performance.now() - started) / 1000).toFixed(1)} s after start${said}`));
      });
    });
    const match = /postgres listening on 127\.0\.0\.1:(\d+)/.exec(banner);
    if (!match) throw new Error(`portcullis serve started without a PostgreSQL listener (no "postgres listening on 127.0.0.1:<port>" in its banner):\n${output.lastLines(30)}`);
    pgPort = Number(match[1]);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    pid: child.pid!,
    pgPort,
    banner: banner.slice(0, banner.search(/^ {2}agents .*$/m)).trimEnd() + '\n' + (/^ {2}agents .*$/m.exec(banner)?.[0] ?? ''),
    alive: () => child.exitCode === null && child.signalCode === null,
    output: () => output.toString(),
    async addAgent(name, database) {
      const result = await run(process.execPath, [BIN, 'agent', 'add', name, '--db', database, '--json'], env);
      if (result.code !== 0) throw new Error(`portcullis agent add ${name} failed (exit ${result.code}):\n${result.stderr.trim()}${result.stdout.trim()}`);
      const parsed = JSON.parse(result.stdout) as { name?: string; token?: string };
      if (!parsed.token) throw new Error(`portcullis agent add printed no token: ${result.stdout}`);
      return parsed.token;
    },
    stop,
  };
}
