/**
 * A throwaway pgbouncer for the comparison column: transaction pooling on a free loopback port,
 * generated ini and auth file in a temp dir, no unix socket. pgbouncer refuses to run as root, so
 * under root it is started with `-u postgres` (it drops privileges itself); the temp dir is made
 * readable for that user.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { findExecutable, freePort, OutputTail, run } from './proc.ts';

/** How to get pgbouncer when it is missing (Debian/Ubuntu; `brew install pgbouncer` on macOS). */
export const PGBOUNCER_INSTALL_HINT = 'apt-get install -y pgbouncer';

export interface Pgbouncer {
  port: number;
  pid: number;
  version: string;
  /** The OS user it runs as. */
  runsAs: string;
  output(): string;
  stop(): Promise<void>;
}

export interface PgbouncerOptions {
  binary: string;
  upstream: { host: string; port: number; user: string; password?: string; database: string };
  /** The name clients give as dbname. */
  alias: string;
  poolSize: number;
  maxClients: number;
}

export function findPgbouncer(): Promise<string | null> {
  return findExecutable('pgbouncer', ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer']);
}

export async function startPgbouncer(options: PgbouncerOptions): Promise<Pgbouncer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'portcullis-bench-pgbouncer-'));
  const port = await freePort();
  const { upstream } = options;
  const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;
  const connection = [
    `host=${upstream.host}`,
    `port=${upstream.port}`,
    `dbname=${quote(upstream.database)}`,
    `user=${quote(upstream.user)}`,
    ...(upstream.password ? [`password=${quote(upstream.password)}`] : []),
  ].join(' ');
  const ini = [
    '[databases]',
    `${options.alias} = ${connection}`,
    '',
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = trust',
    `auth_file = ${path.join(dir, 'users.txt')}`,
    'pool_mode = transaction',
    `max_client_conn = ${options.maxClients}`,
    `default_pool_size = ${options.poolSize}`,
    'min_pool_size = 0',
    'reserve_pool_size = 0',
    'log_connections = 0',
    'log_disconnections = 0',
    'ignore_startup_parameters = extra_float_digits',
    '',
  ].join('\n');
  await writeFile(path.join(dir, 'pgbouncer.ini'), ini);
  // trust still wants the user listed; the password column is unused under trust.
  await writeFile(path.join(dir, 'users.txt'), `"${upstream.user.replace(/"/g, '""')}" ""\n`);
  const asRoot = process.getuid?.() === 0;
  const runsAs = asRoot ? 'postgres' : userInfo().username;
  if (asRoot) {
    await chmod(dir, 0o755);
    await chmod(path.join(dir, 'pgbouncer.ini'), 0o644);
    await chmod(path.join(dir, 'users.txt'), 0o644);
  }
  const version = (await run(options.binary, ['--version'])).stdout.split('\n')[0]?.trim() ?? 'pgbouncer';

  const args = [...(asRoot ? ['-u', runsAs] : []), path.join(dir, 'pgbouncer.ini')];
  const child = spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = new OutputTail();
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM'); // pgbouncer: fast shutdown
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`pgbouncer did not start within 10 s:\n${output.lastLines(20)}`)), 10_000);
      const check = () => {
        if (output.toString().includes(`listening on 127.0.0.1:${port}`)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', check);
      child.stderr.on('data', check);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`pgbouncer ${signal ? `was killed by ${signal}` : `exited with code ${code}`}:\n${output.lastLines(20)}`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, pid: child.pid!, version, runsAs, output: () => output.toString(), stop };
}
