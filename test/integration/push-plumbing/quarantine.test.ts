import { createReadStream } from 'node:fs';
import { copyFile, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPortcullisError } from '../../../src/errors.ts';
import { listStrayObjects, quarantinePack, spoolPack, syncMirror, type Mirror } from '../../../src/git/push/index.ts';
import { gitOk, runGit } from '../../helpers/git-cli.ts';
import { startGitUpstream, type GitUpstream } from '../../helpers/git-upstream.ts';
import { cleanupTempDirs, makeTempDir, seedUpstreamRepo } from '../../helpers/repos.ts';
import { AUTHORIZATION, MIB, UPSTREAM_PASSWORD, UPSTREAM_USER, buildPack, cloneUpstream, commit, gitOut } from './push-fixture.ts';

const BIG_TEXT = Array.from({ length: 400 }, (_, i) => `line ${i} of a file large enough to be sent as a delta\n`).join('');

let upstream: GitUpstream;
let dataDir: string;
let mirror: Mirror;
let work: string;
let upstreamHead: string;

beforeAll(async () => {
  upstream = await startGitUpstream({ basicAuth: { username: UPSTREAM_USER, password: UPSTREAM_PASSWORD } });
  const seeded = await seedUpstreamRepo(upstream, 'acme', 'app', [{ message: 'big file', files: { 'big.txt': BIG_TEXT } }]);
  upstreamHead = seeded[0]!;
  dataDir = (await makeTempDir('quarantine-data')).path;
  mirror = await syncMirror({
    dataDir,
    remote: 'local',
    owner: 'acme',
    repo: 'app',
    upstreamUrl: `${upstream.url}/acme/app.git`,
    authorization: AUTHORIZATION,
    timeoutMs: 20_000,
  });
  work = await cloneUpstream(upstream, 'acme', 'app');
  await commit(work, [{ message: 'edit one line', files: { 'big.txt': BIG_TEXT.replace('line 200 ', 'line 200 (edited) ') } }]);
});

afterAll(async () => {
  await upstream?.close();
  await cleanupTempDirs();
});

async function spoolFile(file: string) {
  return spoolPack(createReadStream(file), { dataDir, maxBytes: 10 * MIB });
}

async function packFile(name: string, options: { thin?: boolean } = {}): Promise<string> {
  return buildPack(work, ['HEAD', `^${upstreamHead}`], join((await makeTempDir('pack')).path, name), options);
}

async function expectPackInvalid(file: string, message: RegExp): Promise<void> {
  const pack = await spoolFile(file);
  const error = await quarantinePack(mirror, pack, { dataDir }).catch((e: unknown) => e);
  expect(isPortcullisError(error) && error.code).toBe('PACK_INVALID');
  expect((error as Error).message).toMatch(message);
  // A failed quarantine leaves nothing behind.
  expect(await readdir(join(dataDir, 'quarantine'))).toEqual([]);
  await pack.remove();
}

describe('quarantinePack', () => {
  it('indexes a thin pack against the mirror into its own object directory', async () => {
    const file = await packFile('thin.pack');
    // The pack really is thin: on its own, its delta has no base.
    const alone = (await makeTempDir('alone')).path;
    await copyFile(file, join(alone, 'copy.pack'));
    const unresolved = await runGit(['index-pack', join(alone, 'copy.pack')], { cwd: alone });
    expect(unresolved.stderr).toMatch(/unresolved delta/);
    const sentObjects = (await readFile(file)).readUInt32BE(8);

    const pack = await spoolFile(file);
    const quarantine = await quarantinePack(mirror, pack, { dataDir });
    const head = await gitOut(['rev-parse', 'HEAD'], work);

    expect(quarantine.objectDir).toBe(join(dataDir, 'quarantine', quarantine.id, 'objects'));
    expect(await readFile(join(quarantine.objectDir, 'info', 'alternates'), 'utf8')).toBe(`${join(mirror.path, 'objects')}\n`);
    // With the quarantine's env the mirror sees the pushed commit and its own history; without, only its own.
    const seen = await gitOk(['--git-dir', mirror.path, 'cat-file', '-p', `${head}:big.txt`], { env: quarantine.env });
    expect(seen.stdout).toContain('line 200 (edited) ');
    await gitOk(['--git-dir', mirror.path, 'fsck', '--no-progress', '--no-dangling'], { env: quarantine.env });
    expect((await runGit(['--git-dir', mirror.path, 'cat-file', '-e', head])).code).not.toBe(0);
    // --fix-thin completed the pack: its base was copied from the mirror into the quarantine.
    const packs = (await readdir(join(quarantine.objectDir, 'pack'))).filter((name) => name.endsWith('.idx'));
    expect(packs).toHaveLength(1);
    const verify = await gitOk(['verify-pack', '-v', join(quarantine.objectDir, 'pack', packs[0]!)]);
    expect(verify.stdout.match(/^[0-9a-f]{40} (commit|tree|blob|tag) /gm)).toHaveLength(sentObjects + 1);

    await quarantine.remove();
    await quarantine.remove();
    await expect(stat(join(dataDir, 'quarantine', quarantine.id))).rejects.toThrow();
    await pack.remove();
  });

  it('needs no index-pack for an empty pack (delete-only push)', async () => {
    const empty = join((await makeTempDir('empty')).path, 'empty.pack');
    await writeFile(empty, '');
    const pack = await spoolFile(empty);
    const quarantine = await quarantinePack(mirror, pack, { dataDir });
    expect(await readdir(join(quarantine.objectDir, 'pack'))).toEqual([]);
    await quarantine.remove();
  });

  it('refuses garbage as a damaged pack', async () => {
    const file = join((await makeTempDir('garbage')).path, 'garbage.pack');
    await writeFile(file, Buffer.from('this is not a pack at all, just some text\n'.repeat(20)));
    await expectPackInvalid(file, /^the pushed pack is damaged: /);
  });

  it('refuses a truncated pack as damaged', async () => {
    const file = await packFile('truncated.pack');
    await truncate(file, (await stat(file)).size - 30);
    await expectPackInvalid(file, /^the pushed pack is damaged: /);
  });

  it('refuses a pack with a flipped byte', async () => {
    const file = await packFile('flipped.pack', { thin: false });
    const bytes = await readFile(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    await writeFile(file, bytes);
    await expectPackInvalid(file, /^the pushed pack is damaged: /);
  });

  it('refuses a thin pack whose delta base the upstream does not have', async () => {
    const other = (await makeTempDir('other')).path;
    await commit(other, [
      { message: 'base elsewhere', files: { 'big.txt': BIG_TEXT.replace('line 1 ', 'line one ') } },
      { message: 'delta on it', files: { 'big.txt': BIG_TEXT.replace('line 1 ', 'line uno ') } },
    ]);
    const file = await buildPack(other, ['HEAD', '^HEAD~1'], join((await makeTempDir('foreign')).path, 'foreign.pack'));
    await expectPackInvalid(file, /builds on objects the upstream does not have/);
  });

  it('finds objects in a pack that no pushed ref reaches (a hidden blob), and none in a pack git built', async () => {
    const head = await gitOut(['rev-parse', 'HEAD'], work);
    const normal = await quarantinePack(mirror, await spoolFile(await packFile('normal.pack')), { dataDir });
    expect(await listStrayObjects(mirror, normal, [head])).toEqual([]);
    await normal.remove();

    const hidden = (await gitOk(['hash-object', '-w', '--stdin'], { cwd: work, input: 'aws_secret_access_key = FAKE/not/a/real/secret/0000000000000\n' })).stdout.trim();
    const reachable = (await gitOut(['rev-list', '--objects', 'HEAD', `^${upstreamHead}`], work)).split('\n').map((line) => line.split(' ')[0]!);
    const baseBlob = await gitOut(['rev-parse', `${upstreamHead}:big.txt`], work); // upstream has it: not stray
    const file = await buildPack(work, [...reachable, hidden, baseBlob], join((await makeTempDir('stray')).path, 'stray.pack'), { objects: true });
    const quarantine = await quarantinePack(mirror, await spoolFile(file), { dataDir });
    expect(await listStrayObjects(mirror, quarantine, [head])).toEqual([hidden]);
    // Nothing pushed at all (delete-only) reaches nothing: every new object is stray.
    expect(await listStrayObjects(mirror, quarantine, ['0'.repeat(40)])).toEqual([...reachable, hidden].sort());
    await quarantine.remove();
  });
});
