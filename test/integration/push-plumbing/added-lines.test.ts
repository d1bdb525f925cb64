import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addedLines, listNewCommits, type AddedFile, type SkippedFile } from '../../../src/git/push/index.ts';
import { gitOk } from '../../helpers/git-cli.ts';
import { startGitUpstream, type GitUpstream } from '../../helpers/git-upstream.ts';
import { cleanupTempDirs, makeTempDir, seedUpstreamRepo } from '../../helpers/repos.ts';
import { UPSTREAM_PASSWORD, UPSTREAM_USER, cloneUpstream, commit, gitOut, merge, preparePush, type PreparedPush } from './push-fixture.ts';

/** Fake, and says so: shaped like an AWS access key id. */
const FAKE_SECRET = 'aws_access_key_id = AKIAFAKEFAKEFAKE0000 # FAKE for tests';
const NUMBERED = Array.from({ length: 20 }, (_, i) => `line ${i + 1}\n`).join('');

let upstream: GitUpstream;
let repoCount = 0;

beforeAll(async () => {
  upstream = await startGitUpstream({ basicAuth: { username: UPSTREAM_USER, password: UPSTREAM_PASSWORD } });
});

afterAll(async () => {
  await upstream?.close();
  await cleanupTempDirs();
});

async function freshRepo(): Promise<{ repo: string; work: string; base: string[] }> {
  repoCount += 1;
  const repo = `app${repoCount}`;
  const base = await seedUpstreamRepo(upstream, 'acme', repo, [
    { message: 'first', files: { 'numbered.txt': NUMBERED, 'docs/old name.md': 'intro\nbody\nend\nmore\nlines\nhere\n' } },
  ]);
  return { repo, work: await cloneUpstream(upstream, 'acme', repo), base };
}

/** Pushes the work clone's HEAD (as git would against upstream's main) and collects addedLines for every new commit. */
async function scanPush(repo: string, work: string, base: string, options?: { maxFileBytes?: number }) {
  const push = await preparePush(upstream, 'acme', repo, work, ['HEAD', `^${base}`]);
  const tip = await gitOut(['rev-parse', 'HEAD'], work);
  const commits = (await listNewCommits(push.mirror, push.quarantine, [tip])).map((c) => c.sha);
  const files: Array<AddedFile | SkippedFile> = [];
  for await (const file of addedLines(push.mirror, push.quarantine, commits, options)) files.push(file);
  return { push, commits, files };
}

function added(files: Array<AddedFile | SkippedFile>, commitSha: string, path: string): AddedFile | undefined {
  return files.find((f): f is AddedFile => f.commit === commitSha && f.path === path && 'lines' in f);
}

describe('addedLines', () => {
  it('reports a secret added in one commit and removed in the next, under the commit that added it', async () => {
    const { repo, work, base } = await freshRepo();
    const [adds, removes] = await commit(work, [
      { message: 'add settings', files: { 'settings.ini': `[aws]\nregion = eu-west-1\n${FAKE_SECRET}\n` } },
      { message: 'oops, remove it', files: { 'settings.ini': '[aws]\nregion = eu-west-1\n' } },
    ]);
    const { files } = await scanPush(repo, work, base[0]!);

    expect(added(files, adds!, 'settings.ini')?.lines).toEqual([
      { line: 1, text: '[aws]' },
      { line: 2, text: 'region = eu-west-1' },
      { line: 3, text: FAKE_SECRET },
    ]);
    expect(files.filter((f) => f.commit === removes)).toEqual([]); // it only removed lines
  });

  it('numbers lines as they are in the new file', async () => {
    const { repo, work, base } = await freshRepo();
    const lines = NUMBERED.split('\n').slice(0, 20);
    lines.splice(9, 1, 'line 10 changed'); // replace line 10
    lines.splice(15, 0, 'inserted after line 15'); // new line 16
    lines.unshift('new first line'); // everything shifts by one
    const [sha] = await commit(work, [{ message: 'edit', files: { 'numbered.txt': `${lines.join('\n')}\n` } }]);
    const { files } = await scanPush(repo, work, base[0]!);

    expect(added(files, sha!, 'numbered.txt')?.lines).toEqual([
      { line: 1, text: 'new first line' },
      { line: 11, text: 'line 10 changed' },
      { line: 17, text: 'inserted after line 15' },
    ]);
  });

  it('shows the previous name of a renamed file, with only the lines the commit added', async () => {
    const { repo, work, base } = await freshRepo();
    await gitOk(['mv', 'docs/old name.md', 'docs/new name.md'], { cwd: work });
    const [sha] = await commit(work, [
      { message: 'rename', files: { 'docs/new name.md': 'intro\nbody\nend\nmore\nlines\nadded here\nhere\n' } },
    ]);
    const { files } = await scanPush(repo, work, base[0]!);

    expect(files).toEqual([{ commit: sha, path: 'docs/new name.md', previousPath: 'docs/old name.md', lines: [{ line: 6, text: 'added here' }] }]);
  });

  it('reports the lines a merge commit adds itself (a conflict resolution), and the side branch\'s own', async () => {
    const { repo, work, base } = await freshRepo();
    await gitOk(['checkout', '-q', '-b', 'side'], { cwd: work });
    const [sideSha] = await commit(work, [{ message: 'side', files: { 'conf.txt': 'mode = side\nside only\n' } }]);
    await gitOk(['checkout', '-q', 'main'], { cwd: work });
    const [mainSha] = await commit(work, [{ message: 'main', files: { 'conf.txt': 'mode = main\n' } }], 200);
    const merged = await merge(work, 'side', { 'conf.txt': `mode = resolved\n${FAKE_SECRET}\nside only\n` }, 'merge side');
    const { files, commits } = await scanPush(repo, work, base[0]!);

    expect(commits.sort()).toEqual([merged, mainSha!, sideSha!].sort());
    expect(added(files, merged, 'conf.txt')?.lines).toEqual([
      { line: 1, text: 'mode = resolved' },
      { line: 2, text: FAKE_SECRET },
      // "side only" comes from the side branch and is reported with its commit, not again here.
    ]);
    expect(added(files, sideSha!, 'conf.txt')?.lines).toEqual([
      { line: 1, text: 'mode = side' },
      { line: 2, text: 'side only' },
    ]);
    expect(added(files, merged, 'conf.txt')?.previousPath).toBeUndefined();
  });

  it('reports the whole tree of a root commit (first push to an empty repository)', async () => {
    repoCount += 1;
    const repo = `empty${repoCount}`;
    await seedUpstreamRepo(upstream, 'acme', repo, []);
    const work = (await makeTempDir('root-work')).path;
    const [root] = await commit(work, [{ message: 'root', files: { 'a.txt': 'a\n', 'dir/b.txt': 'b1\nb2\n' } }]);
    const push = await preparePush(upstream, 'acme', repo, work, ['HEAD']);
    const files: Array<AddedFile | SkippedFile> = [];
    for await (const file of addedLines(push.mirror, push.quarantine, [root!])) files.push(file);

    expect(files).toEqual([
      { commit: root, path: 'a.txt', lines: [{ line: 1, text: 'a' }] },
      { commit: root, path: 'dir/b.txt', lines: [{ line: 1, text: 'b1' }, { line: 2, text: 'b2' }] },
    ]);
  });

  it('says which files it did not scan: binary, and over the size limit', async () => {
    const { repo, work, base } = await freshRepo();
    const [sha] = await commit(work, [
      {
        message: 'assets',
        files: {
          'logo.png': Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]), Buffer.from(FAKE_SECRET)]),
          'big.log': 'x'.repeat(2000) + '\n',
          'huge-line.min.js': `${'y'.repeat(5000)}\n`,
          'small.txt': 'fine\n',
        },
      },
    ]);
    const { files } = await scanPush(repo, work, base[0]!, { maxFileBytes: 1024 });

    expect(files).toEqual([
      { commit: sha, path: 'big.log', skipped: 'too-large' },
      { commit: sha, path: 'huge-line.min.js', skipped: 'too-large' },
      { commit: sha, path: 'logo.png', skipped: 'binary' },
      { commit: sha, path: 'small.txt', lines: [{ line: 1, text: 'fine' }] },
    ]);
  });

  it('is not fooled by a pushed .gitattributes marking everything binary', async () => {
    const { repo, work, base } = await freshRepo();
    const [sha] = await commit(work, [{ message: 'hide', files: { '.gitattributes': '* binary\n* -diff\n', 'secret.txt': `${FAKE_SECRET}\n` } }]);
    const { files } = await scanPush(repo, work, base[0]!);
    expect(added(files, sha!, 'secret.txt')?.lines).toEqual([{ line: 1, text: FAKE_SECRET }]);
  });

  it('keeps unusual path names intact', async () => {
    const { repo, work, base } = await freshRepo();
    const names = ['with space.txt', 'tab\there.txt', 'quote"and\\backslash.txt', 'ünïcødé/文件.txt', 'a/b c/d.txt'];
    const [sha] = await commit(work, [{ message: 'names', files: Object.fromEntries(names.map((name) => [name, `in ${name}\n`])) }]);
    const { files } = await scanPush(repo, work, base[0]!);
    expect(files.map((f) => f.path).sort()).toEqual([...names].sort());
    for (const name of names) expect(added(files, sha!, name)?.lines).toEqual([{ line: 1, text: `in ${name}` }]);
  });

  it('stops git when the caller stops early or the signal fires', async () => {
    const { repo, work, base } = await freshRepo();
    await commit(
      work,
      Array.from({ length: 30 }, (_, i) => ({ message: `c${i}`, files: { [`f${i}.txt`]: `content ${i}\n` } })),
    );
    const push: PreparedPush = await preparePush(upstream, 'acme', repo, work, ['HEAD', `^${base[0]}`]);
    const tip = await gitOut(['rev-parse', 'HEAD'], work);
    const commits = (await listNewCommits(push.mirror, push.quarantine, [tip])).map((c) => c.sha);

    let seen = 0;
    for await (const _file of addedLines(push.mirror, push.quarantine, commits)) {
      seen += 1;
      if (seen === 3) break;
    }
    expect(seen).toBe(3);

    const controller = new AbortController();
    const reason = new Error('scan timeout (test)');
    const collected: string[] = [];
    const iterate = async () => {
      for await (const file of addedLines(push.mirror, push.quarantine, commits, { signal: controller.signal })) {
        collected.push(file.path);
        controller.abort(reason);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await expect(iterate()).rejects.toBe(reason);
  });
});
