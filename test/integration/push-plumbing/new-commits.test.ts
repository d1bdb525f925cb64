import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPortcullisError } from '../../../src/errors.ts';
import { changedPaths, isFastForward, listNewCommits, type NewCommit } from '../../../src/git/push/index.ts';
import { gitOk } from '../../helpers/git-cli.ts';
import { startGitUpstream, type GitUpstream } from '../../helpers/git-upstream.ts';
import { cleanupTempDirs, seedUpstreamRepo } from '../../helpers/repos.ts';
import { UPSTREAM_PASSWORD, UPSTREAM_USER, cloneUpstream, commit, gitOut, merge, preparePush } from './push-fixture.ts';

let upstream: GitUpstream;
let repoCount = 0;

beforeAll(async () => {
  upstream = await startGitUpstream({ basicAuth: { username: UPSTREAM_USER, password: UPSTREAM_PASSWORD } });
});

afterAll(async () => {
  await upstream?.close();
  await cleanupTempDirs();
});

/** A fresh upstream repo with two commits on main, and a work clone of it. */
async function freshRepo(): Promise<{ repo: string; work: string; base: string[] }> {
  repoCount += 1;
  const repo = `app${repoCount}`;
  const base = await seedUpstreamRepo(upstream, 'acme', repo, [
    { message: 'first', files: { 'README.md': '# app\n', 'docs/guide.md': 'guide\n' } },
    { message: 'second', files: { 'src/main.txt': 'hello\n' } },
  ]);
  return { repo, work: await cloneUpstream(upstream, 'acme', repo), base };
}

/** Every commit comes before its parents that are in the list. */
function expectTopoOrder(commits: NewCommit[]): void {
  const position = new Map(commits.map((c, index) => [c.sha, index]));
  for (const [index, c] of commits.entries()) {
    for (const parent of c.parents) {
      const at = position.get(parent);
      if (at !== undefined) expect(at).toBeGreaterThan(index);
    }
  }
}

describe('listNewCommits and isFastForward', () => {
  it('lists exactly the commits of a multi-commit push, children first, with their facts', async () => {
    const { repo, work, base } = await freshRepo();
    const pushed = await commit(work, [
      { message: 'add config', files: { 'config.txt': 'a=1\n' } },
      { message: 'change config', files: { 'config.txt': 'a=2\n' } },
      { message: 'third change\n\nwith a body', files: { 'config.txt': 'a=3\n' } },
    ]);
    const { mirror, quarantine } = await preparePush(upstream, 'acme', repo, work, ['HEAD', `^${base[1]}`]);

    const commits = await listNewCommits(mirror, quarantine, [pushed[2]!]);
    expect(commits.map((c) => c.sha)).toEqual([...pushed].reverse());
    expect(commits[0]).toEqual({
      sha: pushed[2],
      parents: [pushed[1]],
      author: 'Portcullis Test',
      authorEmail: 'test@portcullis.invalid',
      committedAt: new Date((1_704_067_200 + 102 * 60) * 1000),
      subject: 'third change',
    });
    expect(commits[2]!.parents).toEqual([base[1]]);

    expect(await isFastForward(mirror, quarantine, base[1]!, pushed[2]!)).toBe(true);
    expect(await isFastForward(mirror, quarantine, base[0]!, pushed[2]!)).toBe(true);
    expect(await isFastForward(mirror, quarantine, pushed[2]!, base[1]!)).toBe(false);
    expect(await isFastForward(mirror, quarantine, '0'.repeat(40), pushed[2]!)).toBe(true); // create
    expect(await isFastForward(mirror, quarantine, base[1]!, '0'.repeat(40))).toBe(false); // delete
    expect(await listNewCommits(mirror, quarantine, ['0'.repeat(40)])).toEqual([]);
    // Only what is new: a tip upstream already has brings nothing.
    expect(await listNewCommits(mirror, quarantine, [base[1]!])).toEqual([]);
  });

  it('tells a rewrite of upstream history from a fast-forward', async () => {
    const { repo, work, base } = await freshRepo();
    await gitOk(['reset', '-q', '--hard', base[0]!], { cwd: work });
    const [rewritten] = await commit(work, [{ message: 'rewrite', files: { 'src/main.txt': 'other\n' } }]);
    const { mirror, quarantine } = await preparePush(upstream, 'acme', repo, work, ['HEAD', `^${base[1]}`]);

    expect(await isFastForward(mirror, quarantine, base[1]!, rewritten!)).toBe(false);
    expect((await listNewCommits(mirror, quarantine, [rewritten!])).map((c) => c.sha)).toEqual([rewritten]);
    // An old value the mirror has never seen cannot be proven an ancestor.
    expect(await isFastForward(mirror, quarantine, 'ab'.repeat(20), rewritten!)).toBe(false);
  });

  it('includes the commits of a side branch merged in, and not those upstream already has', async () => {
    const { repo, work, base } = await freshRepo();
    await gitOk(['checkout', '-q', '-b', 'side'], { cwd: work });
    const side = await commit(work, [
      { message: 'side one', files: { 'side.txt': 'one\n' } },
      { message: 'side two', files: { 'side.txt': 'two\n' } },
    ]);
    await gitOk(['checkout', '-q', 'main'], { cwd: work });
    const [onMain] = await commit(work, [{ message: 'main work', files: { 'src/main.txt': 'hello again\n' } }], 200);
    const merged = await merge(work, 'side', {}, 'merge side');
    const { mirror, quarantine } = await preparePush(upstream, 'acme', repo, work, ['HEAD', `^${base[1]}`]);

    const commits = await listNewCommits(mirror, quarantine, [merged]);
    expect(commits[0]!.sha).toBe(merged);
    expect(commits[0]!.parents).toEqual([onMain, side[1]]);
    expect(commits.map((c) => c.sha).sort()).toEqual([merged, onMain!, ...side].sort());
    expectTopoOrder(commits);
    expect(await isFastForward(mirror, quarantine, base[1]!, merged)).toBe(true);
  });

  it('does not count commits waiting on a held ref as upstream, but does count other branches', async () => {
    const { repo, work, base } = await freshRepo();
    const [held] = await commit(work, [{ message: 'held change', files: { '.github/workflows/ci.yml': 'on: push\n' } }]);
    await gitOk(['push', '-q', 'origin', `${held}:refs/heads/portcullis/held/abc123`], { cwd: work });
    await gitOk(['checkout', '-q', '-b', 'feature', base[1]!], { cwd: work });
    const [feature] = await commit(work, [{ message: 'feature', files: { 'f.txt': 'f\n' } }], 300);
    await gitOk(['push', '-q', 'origin', 'feature'], { cwd: work });
    const [merged] = await commit(work, [{ message: 'on top of feature', files: { 'f.txt': 'g\n' } }], 400);
    await gitOk(['merge', '-q', '--no-ff', '-m', 'bring in the held change', held!], { cwd: work });
    const tip = await gitOut(['rev-parse', 'HEAD'], work);
    const { mirror, quarantine } = await preparePush(upstream, 'acme', repo, work, ['HEAD', `^${base[1]}`]);

    expect((await mirror.refs()).get('refs/heads/portcullis/held/abc123')).toBe(held);
    const shas = (await listNewCommits(mirror, quarantine, [tip])).map((c) => c.sha);
    expect(shas.sort()).toEqual([tip, merged!, held!].sort());
    expect(shas).not.toContain(feature);
  });

  it('refuses new values that are not object ids or not in the push', async () => {
    const { repo, work, base } = await freshRepo();
    await commit(work, [{ message: 'x', files: { 'x.txt': 'x\n' } }]);
    const { mirror, quarantine } = await preparePush(upstream, 'acme', repo, work, ['HEAD', `^${base[1]}`]);
    for (const oid of ['HEAD', '--all', 'cd'.repeat(20)]) {
      const error = await listNewCommits(mirror, quarantine, [oid]).catch((e: unknown) => e);
      expect(isPortcullisError(error) && error.code).toBe('PACK_INVALID');
    }
  });
});

describe('changedPaths', () => {
  it('lists every path the commits touch: both names of a rename, deletions, a merge\'s own changes', async () => {
    const { repo, work, base } = await freshRepo();
    await gitOk(['checkout', '-q', '-b', 'side'], { cwd: work });
    const [sideCommit] = await commit(work, [{ message: 'side', files: { 'side.txt': 'side\n', 'shared.txt': 'side version\n' } }]);
    await gitOk(['checkout', '-q', 'main'], { cwd: work });
    await gitOk(['mv', 'docs/guide.md', 'docs/manual.md'], { cwd: work });
    const main = await commit(work, [
      { message: 'rename and delete', files: { 'README.md': null } },
      { message: 'shared', files: { 'shared.txt': 'main version\n' } },
    ], 200);
    const merged = await merge(work, 'side', { 'shared.txt': 'resolved\n', 'evil.txt': 'only in the merge\n' }, 'merge');
    const { mirror, quarantine } = await preparePush(upstream, 'acme', repo, work, ['HEAD', `^${base[1]}`]);

    expect(await changedPaths(mirror, quarantine, [main[0]!])).toEqual(['README.md', 'docs/guide.md', 'docs/manual.md']);
    // side.txt came from the side branch unchanged, so the merge itself does not touch it.
    expect(await changedPaths(mirror, quarantine, [merged])).toEqual(['evil.txt', 'shared.txt']);
    const all = (await listNewCommits(mirror, quarantine, [merged])).map((c) => c.sha);
    expect(all).toContain(sideCommit);
    expect(await changedPaths(mirror, quarantine, all)).toEqual([
      'README.md',
      'docs/guide.md',
      'docs/manual.md',
      'evil.txt',
      'shared.txt',
      'side.txt',
    ]);
    expect(await changedPaths(mirror, quarantine, [])).toEqual([]);
  });
});
