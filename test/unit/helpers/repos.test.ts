/** The fixture builders: stable hashes are the whole point (STYLE.md point 13). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gitOk } from '../../helpers/git-cli.ts';
import { cleanupTempDirs, createWorkRepo, makeTempDir, type CommitSpec } from '../../helpers/repos.ts';

afterAll(cleanupTempDirs);

const commits: CommitSpec[] = [
  { message: 'add', files: { 'a.txt': 'a\n', 'dir/b.bin': Buffer.from([0, 1, 2]) } },
  { message: 'delete', files: { 'a.txt': null } },
];

describe('createWorkRepo', () => {
  it('gives the same shas on every run, on branch main', async () => {
    const first = await createWorkRepo((await makeTempDir('repo')).path, commits);
    const second = await createWorkRepo((await makeTempDir('repo')).path, commits);
    expect(first.shas).toHaveLength(2);
    expect(second.shas).toEqual(first.shas);
    const branch = await gitOk(['symbolic-ref', '--short', 'HEAD'], { cwd: first.dir });
    expect(branch.stdout.trim()).toBe('main');
    expect(existsSync(join(first.dir, 'a.txt'))).toBe(false);
    expect(existsSync(join(first.dir, 'dir/b.bin'))).toBe(true);
  });

  it('uses the date given for a commit', async () => {
    const { dir } = await createWorkRepo((await makeTempDir('repo')).path, [
      { message: 'dated', files: {}, date: '2030-06-01T12:00:00Z' },
    ]);
    const log = await gitOk(['log', '-1', '--format=%aI %cI'], { cwd: dir });
    expect(log.stdout.trim()).toBe('2030-06-01T12:00:00+00:00 2030-06-01T12:00:00+00:00');
  });
});

describe('makeTempDir', () => {
  it('removes the directory on cleanup', async () => {
    const temp = await makeTempDir('gone');
    await temp.cleanup();
    expect(existsSync(temp.path)).toBe(false);
  });
});
