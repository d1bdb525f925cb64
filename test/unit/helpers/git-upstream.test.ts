/**
 * The upstream helper against real git. Unlike other unit suites this one runs git and sockets:
 * it checks the harness the integration suites trust, so it must use the real thing.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitOk, runGit } from '../../helpers/git-cli.ts';
import { startGitUpstream, type GitUpstream } from '../../helpers/git-upstream.ts';
import { cleanupTempDirs, createWorkRepo, makeTempDir, seedUpstreamRepo } from '../../helpers/repos.ts';

const TIMEOUT = 30_000;

async function headOf(dir: string): Promise<string> {
  return (await gitOk(['rev-parse', 'HEAD'], { cwd: dir })).stdout.trim();
}

describe('startGitUpstream', { timeout: TIMEOUT }, () => {
  let upstream: GitUpstream;

  beforeAll(async () => {
    upstream = await startGitUpstream();
  });
  afterAll(async () => {
    await upstream.close();
    await cleanupTempDirs();
  });

  it('serves a clone over protocol v2', async () => {
    const shas = await seedUpstreamRepo(upstream, 'acme', 'v2', [
      { message: 'first', files: { 'README.md': '# v2\n' } },
      { message: 'second', files: { 'src/a.txt': 'a\n' } },
    ]);
    const dest = join((await makeTempDir('clone')).path, 'v2');
    const clone = await gitOk(['-c', 'protocol.version=2', 'clone', `${upstream.url}/acme/v2.git`, dest], {
      env: { GIT_TRACE_PACKET: '1' },
    });
    expect(clone.stderr).toContain('< version 2'); // the backend really answered in v2
    expect(await headOf(dest)).toBe(shas[1]);
    expect(await readFile(join(dest, 'src/a.txt'), 'utf8')).toBe('a\n');
    const sent = upstream.requests.filter((r) => r.url.startsWith('/acme/v2.git/'));
    expect(sent.map((r) => r.headers['git-protocol'])).toContain('version=2');
  });

  it('serves a clone over protocol v0', async () => {
    const shas = await seedUpstreamRepo(upstream, 'acme', 'v0', [{ message: 'only', files: { 'f.txt': 'v0\n' } }]);
    const dest = join((await makeTempDir('clone')).path, 'v0');
    const clone = await gitOk(['-c', 'protocol.version=0', 'clone', `${upstream.url}/acme/v0.git`, dest], {
      env: { GIT_TRACE_PACKET: '1' },
    });
    expect(clone.stderr).not.toContain('< version 2');
    expect(await headOf(dest)).toBe(shas[0]);
  });

  it('accepts a push of a new branch into the bare repository', async () => {
    await seedUpstreamRepo(upstream, 'acme', 'push', [{ message: 'base', files: { 'f.txt': 'base\n' } }]);
    const dest = join((await makeTempDir('clone')).path, 'push');
    await gitOk(['clone', `${upstream.url}/acme/push.git`, dest]);
    await gitOk(['switch', '-q', '-c', 'feature'], { cwd: dest });
    const { shas } = await createWorkRepo(dest, [{ message: 'feature work', files: { 'g.txt': 'g\n' } }]);
    await gitOk(['push', 'origin', 'feature'], { cwd: dest });
    const bare = join(upstream.root, 'acme', 'push.git');
    const landed = await gitOk(['--git-dir', bare, 'rev-parse', 'refs/heads/feature']);
    expect(landed.stdout.trim()).toBe(shas[0]);
  });

  it('removes its root on close', async () => {
    const other = await startGitUpstream();
    await other.createBareRepo('acme', 'gone');
    await other.close();
    expect(existsSync(other.root)).toBe(false);
  });

  it('answers 404 for a repository that does not exist', async () => {
    const response = await fetch(`${upstream.url}/nobody/nothing.git/info/refs?service=git-upload-pack`);
    expect(response.status).toBe(404);
  });

  it('answers 400 for a path with a malformed escape instead of crashing', async () => {
    const response = await fetch(`${upstream.url}/acme/%E0%A4%A.git/info/refs?service=git-upload-pack`);
    expect(response.status).toBe(400);
  });

  it('inflates gzip request bodies (a fetch with many local-only haves)', async () => {
    await seedUpstreamRepo(upstream, 'acme', 'gzip', [{ message: 'base', files: { 'f.txt': 'base\n' } }]);
    const url = `${upstream.url}/acme/gzip.git`;
    const dir = (await makeTempDir('gzip')).path;
    const [local, other] = [join(dir, 'local'), join(dir, 'other')];
    await gitOk(['clone', url, local]);
    await gitOk(['clone', url, other]);
    // A new upstream commit gives the fetch something to want…
    const { shas } = await createWorkRepo(other, [{ message: 'upstream change', files: { 'u.txt': 'u\n' } }]);
    await gitOk(['push', 'origin', 'main'], { cwd: other });
    // …and 40 commits the server has never seen make the have list exceed 1 KiB, where git gzips.
    const localOnly = Array.from({ length: 40 }, (_, i) => ({ message: `local ${i}`, files: { [`l${i}.txt`]: `${i}\n` } }));
    await createWorkRepo(local, localOnly);
    const before = upstream.requests.length;
    await gitOk(['fetch', 'origin'], { cwd: local });
    const gzipped = upstream.requests.slice(before).filter((r) => r.headers['content-encoding'] === 'gzip');
    expect(gzipped.length).toBeGreaterThan(0);
    expect((await gitOk(['rev-parse', 'origin/main'], { cwd: local })).stdout.trim()).toBe(shas[0]);
  });

  it('streams a 2 MB binary file both ways (chunked push, clone)', async () => {
    const blob = randomBytes(2 * 1024 * 1024);
    await upstream.createBareRepo('acme', 'binary');
    const dir = (await makeTempDir('binary')).path;
    const { shas } = await createWorkRepo(join(dir, 'src'), [{ message: 'blob', files: { 'blob.bin': blob } }]);
    // Over http.postBuffer (1 MiB) git sends the push chunked, without Content-Length.
    await gitOk(['push', `${upstream.url}/acme/binary.git`, 'HEAD:refs/heads/main'], { cwd: join(dir, 'src') });
    const pushes = upstream.requests.filter((r) => r.url === '/acme/binary.git/git-receive-pack');
    expect(pushes.some((r) => r.headers['transfer-encoding'] === 'chunked')).toBe(true);

    const dest = join(dir, 'clone');
    await gitOk(['clone', `${upstream.url}/acme/binary.git`, dest]);
    expect(await headOf(dest)).toBe(shas[0]);
    expect((await readFile(join(dest, 'blob.bin'))).equals(blob)).toBe(true);
  });
});

describe('startGitUpstream with basicAuth', { timeout: TIMEOUT }, () => {
  const credentials = { username: 'fake-user', password: 'fake-password-for-tests' };
  let upstream: GitUpstream;

  beforeAll(async () => {
    upstream = await startGitUpstream({ basicAuth: credentials });
  });
  afterAll(async () => {
    await upstream.close();
    await cleanupTempDirs();
  });

  it('answers 401 with a Basic challenge when credentials are missing or wrong', async () => {
    await seedUpstreamRepo(upstream, 'acme', 'private', [{ message: 'x', files: { 'x.txt': 'x\n' } }]);
    const infoRefs = `${upstream.url}/acme/private.git/info/refs?service=git-upload-pack`;
    const anonymous = await fetch(infoRefs);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Basic realm="upstream"');
    const wrong = await fetch(infoRefs, { headers: { Authorization: `Basic ${btoa('fake-user:nope')}` } });
    expect(wrong.status).toBe(401);

    const dest = join((await makeTempDir('auth')).path, 'private');
    const clone = await runGit(['clone', `${upstream.url}/acme/private.git`, dest]);
    expect(clone.code).not.toBe(0);
  });

  it('serves clone and push with the right credentials in the URL', async () => {
    const shas = await seedUpstreamRepo(upstream, 'acme', 'authed', [{ message: 'x', files: { 'x.txt': 'x\n' } }]);
    const authedUrl = upstream.url.replace('http://', `http://${credentials.username}:${credentials.password}@`);
    const dest = join((await makeTempDir('auth')).path, 'authed');
    await gitOk(['clone', `${authedUrl}/acme/authed.git`, dest]);
    expect(await headOf(dest)).toBe(shas[0]);
    await createWorkRepo(dest, [{ message: 'y', files: { 'y.txt': 'y\n' } }]);
    await gitOk(['push', 'origin', 'main'], { cwd: dest });

    const expected = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    const authorized = upstream.requests.filter((r) => r.headers.authorization === expected);
    expect(authorized.some((r) => r.url.endsWith('/git-receive-pack'))).toBe(true);
  });
});
