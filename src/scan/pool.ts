import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { PortcullisError } from '../errors.ts';
import type { ScanInput, SecretFinding, SecretScanner, SecretScannerOptions } from './types.ts';

type Reply = { id: number; findings: SecretFinding[] } | { id: number; error: { code?: string; message: string; hint?: string } };

export interface SecretScannerPool extends SecretScanner {
  readonly size: number;
  /** Starts the threads now rather than on the first scan (a server does this at start). */
  warmUp(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The scanner on worker threads, one per core: a push's files are scanned side by side, and the
 * gateway's main thread stays free to stream other agents' clones. Same contract as
 * createSecretScanner; a worker that dies fails every scan it held (closed, never open).
 */
export function createSecretScannerPool(options: SecretScannerOptions = {}, size = availableParallelism()): SecretScannerPool {
  const count = Math.max(1, size);
  const pending = new Map<number, { resolve(findings: SecretFinding[]): void; reject(error: Error): void; worker: Worker }>();
  const load = new Map<Worker, number>();
  let nextId = 1;
  // Started on the first scan: CLI commands that build the gateway in-process never pay for threads.
  let started: Promise<Worker[]> | undefined;
  const start = () =>
    (started ??= Promise.all(Array.from({ length: count }, () => startWorker(options)))
      .then((workers) => workers.map(attach))
      .catch((error: unknown) => {
        started = undefined;
        throw error;
      }));

  /** A worker that errs or exits fails the scans it held; when none is left the next scan starts anew. */
  function retire(worker: Worker, error: Error): void {
    if (!load.delete(worker)) return;
    for (const [id, waiter] of pending) {
      if (waiter.worker !== worker) continue;
      pending.delete(id);
      waiter.reject(new PortcullisError('SCAN_FAILED', `the secret scanner stopped: ${error.message}`, { cause: error }));
    }
    void worker.terminate();
    if (load.size === 0) started = undefined;
  }

  function attach(worker: Worker): Worker {
    load.set(worker, 0);
    worker.on('message', (reply: Reply) => {
      const waiter = pending.get(reply.id);
      if (!waiter) return;
      pending.delete(reply.id);
      load.set(worker, load.get(worker)! - 1);
      if ('error' in reply) {
        waiter.reject(new PortcullisError('SCAN_FAILED', reply.error.message, { hint: reply.error.hint }));
      } else {
        waiter.resolve(reply.findings);
      }
    });
    worker.on('error', (error) => retire(worker, error));
    worker.on('exit', (code) => retire(worker, new Error(`its thread exited (code ${code})`)));
    return worker;
  }

  return {
    size: count,
    async scan(input: ScanInput) {
      await start().catch((error: unknown) => {
        throw new PortcullisError('SCAN_FAILED', 'the secret scanner could not start, so nothing was let through', { cause: error });
      });
      if (load.size === 0) {
        started = undefined;
        await start();
      }
      const worker = [...load.entries()].sort((a, b) => a[1] - b[1])[0]![0];
      load.set(worker, load.get(worker)! + 1);
      const id = nextId++;
      return new Promise<SecretFinding[]>((resolve, reject) => {
        pending.set(id, { resolve, reject, worker });
        worker.postMessage({ id, input });
      });
    },
    async warmUp() {
      await start();
    },
    async close() {
      if (!started) return;
      const workers = [...load.keys()];
      load.clear();
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

function startWorker(options: SecretScannerOptions): Promise<Worker> {
  const worker = new Worker(new URL('./scan-worker.js', import.meta.url), {
    workerData: { options: { allowFingerprints: options.allowFingerprints ? [...options.allowFingerprints] : undefined, timeoutMs: options.timeoutMs } },
  });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', () => {
      worker.off('error', reject);
      resolve(worker);
    });
  });
}
