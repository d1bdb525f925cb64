import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { PortcullisError } from '../errors.ts';

export interface StoreLock {
  release(): Promise<void>;
}

export const STORE_LOCK_FILE = 'pglite.lock';

/**
 * PGlite is a single-process database: two processes opening one data directory corrupt it. The lock
 * file holds the owner's pid; a lock whose process is gone is taken over.
 */
export async function acquireStoreLock(dataDir: string): Promise<StoreLock> {
  const file = path.join(dataDir, STORE_LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return { release: () => rm(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = await readStoreLockOwner(dataDir);
      if (owner !== null) {
        throw new PortcullisError(
          'STORE_UNAVAILABLE',
          `the embedded store in ${dataDir} is in use by another portcullis process (pid ${owner})`,
          { hint: 'stop that process, or set DATABASE_URL to use PostgreSQL, which many processes can share' },
        );
      }
      await rm(file, { force: true });
    }
  }
  throw new PortcullisError('STORE_UNAVAILABLE', `could not lock the embedded store in ${dataDir}`);
}

/** The pid holding the embedded store, or null when no live process holds it. */
export async function readStoreLockOwner(dataDir: string): Promise<number | null> {
  const text = await readFile(path.join(dataDir, STORE_LOCK_FILE), 'utf8').catch(() => '');
  const pid = Number.parseInt(text, 10);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}
