import { execFile } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import pg from 'pg';
import postgres from 'postgres';
import { startGateway, type RunningGateway } from './gateway.ts';
import { createTestDatabase } from './postgres.ts';

export interface PgProxyFixture {
  gateway: RunningGateway;
  /** The real database behind the gateway, for checking what landed (trust auth, as postgres). */
  direct: ReturnType<typeof postgres>;
  directUrl: string;
  port: number;
  /** A token of agent `coder`, scoped to database `app` read-write. */
  token: string;
  /** node-postgres client through the gateway as `coder`. */
  client(options?: Partial<pg.ClientConfig>): Promise<pg.Client>;
  /** psql through the gateway: `psql -X -v ON_ERROR_STOP=1 ...` with the given args. */
  psql(args: string[], options?: { user?: string; password?: string; database?: string; input?: string; env?: Record<string, string> }): Promise<{ code: number; stdout: string; stderr: string }>;
  /**
   * The gateway's REST API over its control socket (what the CLI speaks, without starting a CLI
   * process): for polling until something is recorded; assert with `gateway.cli` as users do.
   */
  api<T>(method: 'GET' | 'POST', apiPath: string, body?: unknown): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

export interface PgProxyOptions {
  policy?: Record<string, unknown>;
  config?: Record<string, unknown>;
  setupSql?: string;
  /** More databases next to `app` (their upstream URLs); the fixture neither creates nor drops them. */
  databases?: Array<{ name: string; url: string }>;
}

/** A real `portcullis serve` with one database `app` (a fresh database on the local PostgreSQL) and agent `coder`. */
export async function startPgProxy(options: PgProxyOptions = {}): Promise<PgProxyFixture> {
  const database = await createTestDatabase();
  const direct = postgres(database.url, { max: 2, onnotice: () => undefined });
  if (options.setupSql) await direct.unsafe(options.setupSql);
  const dir = await import('node:fs/promises').then((fs) => fs.mkdtemp('/tmp/portcullis-pgpolicy-'));
  const policyPath = `${dir}/policy.yml`;
  const { stringify } = await import('yaml');
  await import('node:fs/promises').then((fs) => fs.writeFile(policyPath, stringify(options.policy ?? {})));
  const gateway = await startGateway({
    config: { policy: policyPath, databases: [{ name: 'app', url: database.url }, ...(options.databases ?? [])], ...options.config },
  });
  const port = gateway.pgPort!;
  const token = await gateway.addAgent('coder', { db: ['app'] });
  return {
    gateway,
    direct,
    directUrl: database.url,
    port,
    token,
    async client(overrides = {}) {
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'coder', password: token, database: 'app', ...overrides });
      client.on('error', () => undefined);
      await client.connect();
      return client;
    },
    psql(args, psqlOptions = {}) {
      return new Promise((resolve) => {
        const child = execFile(
          'psql',
          ['-X', '-h', '127.0.0.1', '-p', String(port), '-U', psqlOptions.user ?? 'coder', '-d', psqlOptions.database ?? 'app', ...args],
          { env: { ...process.env, PGPASSWORD: psqlOptions.password ?? token, PGCONNECT_TIMEOUT: '10', ...psqlOptions.env }, timeout: 30_000 },
          (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
        if (psqlOptions.input !== undefined) child.stdin!.end(psqlOptions.input);
      });
    },
    api<T>(method: 'GET' | 'POST', apiPath: string, body?: unknown) {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      return new Promise<{ status: number; body: T }>((resolve, reject) => {
        const request = http.request(
          { socketPath: path.join(gateway.dataDir, 'portcullis.sock'), method, path: `/api/v1${apiPath}`, headers: { 'content-type': 'application/json' } },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              resolve({ status: response.statusCode ?? 0, body: (text ? JSON.parse(text) : {}) as T });
            });
          },
        );
        request.on('error', reject);
        request.end(payload);
      });
    },
    async stop() {
      await gateway.stop();
      await direct.end({ timeout: 5 });
      await database.drop();
    },
  };
}
