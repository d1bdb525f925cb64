import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isPortcullisError } from '../../../src/errors.ts';
import { spoolPack } from '../../../src/git/push/index.ts';
import { cleanupTempDirs, createWorkRepo, makeTempDir } from '../../helpers/repos.ts';
import { MIB, buildPack } from './push-fixture.ts';

afterAll(cleanupTempDirs);

async function* chunksOf(data: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < data.length; offset += size) yield new Uint8Array(data.subarray(offset, offset + size));
}

describe('spoolPack', () => {
  it('writes a real PACK to dataDir/spool as it arrives, counting its bytes', async () => {
    const work = await makeTempDir('spool-work');
    await createWorkRepo(work.path, [
      { message: 'one', files: { 'a.txt': 'alpha\n'.repeat(1000) } },
      { message: 'two', files: { 'b.txt': 'beta\n' } },
    ]);
    const dataDir = (await makeTempDir('spool-data')).path;
    const packFile = await buildPack(work.path, ['HEAD'], join((await makeTempDir('spool-src')).path, 'push.pack'));
    const original = await readFile(packFile);

    const pack = await spoolPack(chunksOf(original, 1000), { dataDir, maxBytes: MIB });

    expect(pack.bytes).toBe(original.length);
    expect(pack.path.startsWith(join(dataDir, 'spool'))).toBe(true);
    expect((await readFile(pack.path)).equals(original)).toBe(true);
    expect((await stat(pack.path)).mode & 0o777).toBe(0o600);
    await pack.remove();
    await pack.remove(); // twice is fine
    expect(await readdir(join(dataDir, 'spool'))).toEqual([]);
  });

  it('accepts an empty pack (a delete-only push sends none)', async () => {
    const dataDir = (await makeTempDir('spool-empty')).path;
    const pack = await spoolPack(chunksOf(Buffer.alloc(0), 1), { dataDir, maxBytes: MIB });
    expect(pack.bytes).toBe(0);
    expect((await stat(pack.path)).size).toBe(0);
    await pack.remove();
  });

  it('refuses a pack over the limit, stops reading, and deletes the partial file', async () => {
    const dataDir = (await makeTempDir('spool-limit')).path;
    let pulled = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) {
        pulled += 1;
        yield new Uint8Array(64 * 1024);
      }
    }
    const error = await spoolPack(endless(), { dataDir, maxBytes: 2 * MIB }).catch((e: unknown) => e);

    expect(isPortcullisError(error) && error.code).toBe('PUSH_TOO_LARGE');
    expect((error as Error).message).toMatch(/^push of more than 2 MiB refused/);
    expect(isPortcullisError(error) && error.hint).toMatch(/limits\.maxPushBytes/);
    expect(pulled).toBeLessThan(2 * 16 + 8); // stopped right after the limit, not at the end of the source
    expect(await readdir(join(dataDir, 'spool'))).toEqual([]);
  });

  it('allows a pack of exactly the limit', async () => {
    const dataDir = (await makeTempDir('spool-exact')).path;
    const pack = await spoolPack(chunksOf(Buffer.alloc(MIB, 1), 4096), { dataDir, maxBytes: MIB });
    expect(pack.bytes).toBe(MIB);
    await pack.remove();
  });

  it('passes on a failing source (the agent went away) and leaves no file behind', async () => {
    const dataDir = (await makeTempDir('spool-abort')).path;
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(1000);
      throw new Error('client aborted');
    }
    await expect(spoolPack(broken(), { dataDir, maxBytes: MIB })).rejects.toThrow('client aborted');
    expect(await readdir(join(dataDir, 'spool'))).toEqual([]);
  });
});
