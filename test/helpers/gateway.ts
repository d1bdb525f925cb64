import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(REPO_ROOT, 'bin/portcullis.js');

export interface RunningGateway {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** The PostgreSQL proxy's port, when databases are configured. */
  pgPort: number | null;
  pid: number;
  dataDir: string;
  configPath: string;
  /** Everything the gateway process wrote (logs and banner), to assert no secret leaks. */
  output(): string;
  /** Runs `portcullis <args>` against this gateway's config, as an operator would. */
  cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  addAgent(name: string, scopes: { read?: string[]; write?: string[]; expires?: string; db?: string[]; dbRead?: string[] }): Promise<string>;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  config: Record<string, unknown>;
  env?: Record<string, string>;
}

/** Starts a real `portcullis serve` process on a free port with its own data directory. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const dir = await mkdtemp(path.join(tmpdir(), 'portcullis-gw-'));
  const dataDir = path.join(dir, 'data');
  const configPath = path.join(dir, 'portcullis.yml');
  const listen = { http: 0, pg: 0, ...(options.config.listen as Record<string, unknown> | undefined) };
  await writeFile(configPath, stringify({ dataDir, ...options.config, listen }));
  const env = { ...process.env, ...options.env, PORTCULLIS_CONFIG: configPath };
  const child = spawn(process.execPath, [BIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await waitForListening(child, () => output);
  const pgMatch = /postgres listening on [\d.]+:(\d+)/.exec(output);

  const cli = (args: string[]) => runCli(args, env);
  return {
    url,
    pgPort: pgMatch ? Number(pgMatch[1]) : null,
    pid: child.pid!,
    dataDir,
    configPath,
    output: () => output,
    cli,
    async addAgent(name, scopes) {
      const args = ['agent', 'add', name, '--json'];
      if (scopes.read?.length) args.push('--read', ...scopes.read);
      if (scopes.write?.length) args.push('--write', ...scopes.write);
      if (scopes.expires) args.push('--expires', scopes.expires);
      if (scopes.db?.length) args.push('--db', ...scopes.db);
      if (scopes.dbRead?.length) args.push('--db-read', ...scopes.dbRead);
      const result = await cli(args);
      if (result.code !== 0) throw new Error(`agent add failed: ${result.stderr}`);
      return (JSON.parse(result.stdout) as { token: string }).token;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function waitForListening(child: ChildProcess, output: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start within 30s:\n${output()}`)), 30_000);
    const check = () => {
      // The banner's last line: by then every listener (HTTP, PostgreSQL) is up and named.
      const match = /portcullis listening on (http:\/\/[\d.]+:\d+)[\s\S]*\n {2}agents /.exec(output());
      if (match) {
        clearTimeout(timer);
        child.stderr!.off('data', check);
        resolve(match[1]!);
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with code ${code}:\n${output()}`));
    });
  });
}
