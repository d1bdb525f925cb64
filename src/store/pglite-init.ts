import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * The gateway's own tables are small; PostgreSQL's default 128 MB of shared buffers would cost
 * ~130 MB of resident memory for nothing.
 */
export const PGLITE_CONF = ['shared_buffers=16MB'];

/**
 * Creating a PGlite data directory runs initdb, whose WebAssembly memory (~600 MB) stays resident
 * for the life of the process that ran it. Running it in a worker thread that then exits returns
 * that memory, so a gateway on a fresh data directory starts as small as one on an existing one.
 */
export async function initializePgliteDir(dir: string): Promise<void> {
  if (existsSync(path.join(dir, 'PG_VERSION'))) return;
  const moduleUrl = import.meta.resolve('@electric-sql/pglite');
  const source = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.moduleUrl)
      .then(({ PGlite }) => PGlite.create(workerData.dir, { postgresqlconf: workerData.conf }))
      .then((db) => db.close())
      .then(() => parentPort.postMessage('ok'), (error) => parentPort.postMessage(String(error && error.stack || error)));
  `;
  const worker = new Worker(source, { eval: true, workerData: { moduleUrl, dir, conf: PGLITE_CONF } });
  const result = await new Promise<string>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  if (result !== 'ok') throw new Error(`initializing the embedded store failed: ${result}`);
}
