// One secret-scanning thread of the pool (pool.ts). Plain JavaScript because worker threads do not
// inherit the TypeScript loader on Node 20: it registers tsx itself, then loads the scanner.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { createSecretScanner } = await import('./scanner.ts');
const scanner = await createSecretScanner(workerData.options);

parentPort.on('message', async ({ id, input }) => {
  try {
    parentPort.postMessage({ id, findings: await scanner.scan(input) });
  } catch (error) {
    parentPort.postMessage({ id, error: { code: error?.code, message: String(error?.userMessage ?? error?.message ?? error), hint: error?.hint } });
  }
});
parentPort.postMessage({ ready: true });
