import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import postgres from 'postgres';
import { PortcullisError } from '../errors.ts';
import { acquireStoreLock, type StoreLock } from './lock.ts';
import { startPgliteThread } from './pglite.ts';
import * as schema from './schema.ts';

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Store {
  db: Database;
  /** `pglite:<dir>` or `postgres://host/db` (no credentials): for logs and `healthz`. */
  description: string;
  close(): Promise<void>;
}

export type StoreTarget = { kind: 'postgres'; url: string } | { kind: 'pglite'; dataDir: string };

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

/** `DATABASE_URL` set means PostgreSQL; otherwise the embedded PGlite under the data directory. */
export function storeTargetFrom(env: NodeJS.ProcessEnv, dataDir: string): StoreTarget {
  return env.DATABASE_URL ? { kind: 'postgres', url: env.DATABASE_URL } : { kind: 'pglite', dataDir };
}

/** Opens the store and applies pending migrations (idempotent; safe with several gateways at once). */
export async function openStore(target: StoreTarget): Promise<Store> {
  return target.kind === 'postgres' ? openPostgres(target.url) : openPglite(target.dataDir);
}

async function openPostgres(url: string): Promise<Store> {
  const description = describePostgresUrl(url);
  const client = postgres(url, { max: 10, onnotice: () => {}, connect_timeout: 10 });
  const db = drizzlePostgres(client, { schema });
  try {
    await migrateExclusively(url);
  } catch (error) {
    await client.end({ timeout: 1 });
    throw new PortcullisError('STORE_UNAVAILABLE', `cannot open the store at ${description}: ${messageOf(error)}`, {
      hint: 'check DATABASE_URL and that PostgreSQL is running and reachable',
      cause: error,
    });
  }
  return { db, description, close: () => client.end({ timeout: 5 }) };
}

async function openPglite(dataDir: string): Promise<Store> {
  const dir = path.join(dataDir, 'pglite');
  await mkdir(dir, { recursive: true });
  const lock: StoreLock = await acquireStoreLock(dataDir);
  try {
    const thread = await startPgliteThread(dir);
    await thread.migrate(MIGRATIONS_DIR);
    return {
      db: thread.db,
      description: `pglite:${dir}`,
      close: async () => {
        await thread.close();
        await lock.release();
      },
    };
  } catch (error) {
    await lock.release();
    throw new PortcullisError('STORE_UNAVAILABLE', `cannot open the embedded store in ${dir}: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

/** Two gateways starting together must not both run the same migration: one connection, one lock. */
async function migrateExclusively(url: string): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await client`select pg_advisory_lock(4242001)`;
    await migratePostgres(drizzlePostgres(client, { schema }), { migrationsFolder: MIGRATIONS_DIR });
  } finally {
    await client.end({ timeout: 5 });
  }
}

function describePostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `postgres://${parsed.host}${parsed.pathname}`;
  } catch {
    return 'postgres (unparseable DATABASE_URL)';
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
