// The embedded store's own thread. PGlite is PostgreSQL compiled to WebAssembly; kept on the
// gateway's main thread, its memory makes every V8 major GC there costlier, and the git proxy
// (which allocates a Buffer per chunk it streams) triggers many: clones measured 20–30 % slower.
// Here it has an isolate of its own, and the main thread reaches it by message (see pglite.ts).
// Plain JavaScript: worker threads do not inherit the TypeScript loader on Node 20.
import { parentPort, workerData } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';

const keepText = (value) => value;
// Timestamps, dates and intervals stay text, as drizzle's own PGlite driver arranges, so drizzle maps them.
const parsers = Object.fromEntries(
  [types.TIMESTAMP, types.TIMESTAMPTZ, types.INTERVAL, types.DATE, 1231, 1115, 1185, 1187, 1182].map((oid) => [oid, keepText]),
);

async function open() {
  const options = { postgresqlconf: workerData.conf };
  if (!existsSync(path.join(workerData.dir, 'PG_VERSION'))) {
    // initdb leaves hundreds of MB of WebAssembly memory behind; a fresh instance does not.
    await (await PGlite.create(workerData.dir, options)).close();
  }
  return PGlite.create(workerData.dir, options);
}

const db = await open().catch((error) => {
  parentPort.postMessage({ fatal: String(error?.message ?? error) });
  return null;
});

if (db) {
  parentPort.on('message', async ({ id, op, sql, params, rowMode, queries }) => {
    try {
      if (op === 'query') {
        const result = await db.query(sql, params, { rowMode, parsers });
        parentPort.postMessage({ id, rows: result.rows });
      } else if (op === 'migrate') {
        await db.transaction(async (tx) => {
          for (const query of queries) await tx.exec(query);
        });
        parentPort.postMessage({ id, rows: [] });
      } else if (op === 'close') {
        await db.close();
        parentPort.postMessage({ id, rows: [] });
        parentPort.close();
      }
    } catch (error) {
      parentPort.postMessage({ id, error: { message: String(error?.message ?? error), code: error?.code } });
    }
  });
  parentPort.postMessage({ ready: true });
}
