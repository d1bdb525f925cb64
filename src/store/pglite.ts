import { Worker } from 'node:worker_threads';
import { drizzle } from 'drizzle-orm/pg-proxy';
import { migrate } from 'drizzle-orm/pg-proxy/migrator';
import type { Database } from './open.ts';
import * as schema from './schema.ts';

/**
 * The gateway's own tables are small; PostgreSQL's default 128 MB of shared buffers would cost
 * ~130 MB of resident memory for nothing.
 */
const PGLITE_CONF = ['shared_buffers=16MB'];

type Reply = { id: number; rows: unknown[] } | { id: number; error: { message: string; code?: string } };

export interface PgliteThread {
  db: Database;
  migrate(migrationsFolder: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts PGlite on its own thread (pglite-worker.js says why) and gives drizzle a handle on it. */
export async function startPgliteThread(dir: string): Promise<PgliteThread> {
  const worker = new Worker(new URL('./pglite-worker.js', import.meta.url), { workerData: { dir, conf: PGLITE_CONF } });
  const pending = new Map<number, { resolve(rows: unknown[]): void; reject(error: Error): void }>();
  let nextId = 1;

  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (message: { ready?: true; fatal?: string }) =>
      message.ready ? resolve() : reject(new Error(message.fatal ?? 'the embedded store did not start')),
    );
  });
  worker.on('message', (reply: Reply) => {
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if ('error' in reply) waiter.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
    else waiter.resolve(reply.rows);
  });
  // A dead store thread fails every waiting and later call at once: nothing hangs on it.
  let dead: Error | null = null;
  const fail = (error: Error) => {
    dead ??= error;
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the embedded store thread exited (code ${code})`)));

  const call = (message: Record<string, unknown>) =>
    new Promise<unknown[]>((resolve, reject) => {
      if (dead) return reject(dead);
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...message });
    });

  const db = drizzle(
    async (sql, params, method) => ({ rows: await call({ op: 'query', sql, params, rowMode: method === 'all' ? 'array' : 'object' }) }),
    { schema },
  );
  return {
    db: db as unknown as Database,
    migrate: (migrationsFolder) => migrate(db, async (queries) => void (await call({ op: 'migrate', queries })), { migrationsFolder }),
    async close() {
      await call({ op: 'close' }).catch(() => undefined);
      await worker.terminate();
    },
  };
}
