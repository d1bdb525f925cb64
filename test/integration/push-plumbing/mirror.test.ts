import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortcullisError, isPortcullisError } from '../../../src/errors.ts';
import { syncMirror, type SyncMirrorOptions } from '../../../src/git/push/index.ts';
import { startSilentUpstream, type SilentUpstream } from '../../helpers/broken-upstream.ts';
import { gitOk } from '../../helpers/git-cli.ts';
import { startGitUpstream, type GitUpstream } from '../../helpers/git-upstream.ts';
import { cleanupTempDirs, makeTempDir, seedUpstreamRepo } from '../../helpers/repos.ts';
import { AUTHORIZATION, UPSTREAM_PASSWORD, UPSTREAM_USER, cloneUpstream, commit, gitOut } from './push-fixture.ts';

let upstream: GitUpstream;
let silent: SilentUpstream;
let seeded: string[];

beforeAll(async () => {
  upstream = await startGitUpstream({ basicAuth: { username: UPSTREAM_USER, password: UPSTREAM_PASSWORD } });
  silent = await startSilentUpstream();
  seeded = await seedUpstreamRepo(upstream, 'acme', 'app', [
    { message: 'first', files: { 'README.md': '# app\n' } },
    { message: 'second', files: { 'src/main.txt': 'hello\n' } },
  ]);
  await seedUpstreamRepo(upstream, 'acme', 'busy', [{ message: 'first', files: { 'README.md': '# busy\n' } }]);
  await seedUpstreamRepo(upstream, 'acme', 'empty', []);
});

afterAll(async () => {
  await upstream?.close();
  await silent?.close();
  await cleanupTempDirs();
});

async function options(repo: string, overrides: Partial<SyncMirrorOptions> = {}): Promise<SyncMirrorOptions> {
  return {
    dataDir: (await makeTempDir('mirror-data')).path,
    remote: 'local',
    owner: 'acme',
    repo,
    upstreamUrl: `${upstream.url}/acme/${repo}.git`,
    authorization: AUTHORIZATION,
    timeoutMs: 20_000,
    ...overrides,
  };
}

function requestsFor(repo: string) {
  return upstream.requests.filter((request) => request.url.startsWith(`/acme/${repo}.git/`));
}

async function expectFailure(promise: Promise<unknown>, code: string): Promise<PortcullisError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isPortcullisError(error) ? error.code : error).toBe(code);
  return error as PortcullisError;
}

function expectNoCredential(text: string): void {
  expect(text).not.toContain(UPSTREAM_PASSWORD);
  expect(text).not.toContain(AUTHORIZATION.slice('Basic '.length));
  expect(text).not.toContain('Authorization');
}

describe('syncMirror', () => {
  it('creates a bare mirror on first use through Basic auth, with the credential only in the request', async () => {
    const opts = await options('app');
    upstream.requests.length = 0;
    const mirror = await syncMirror(opts);

    expect(mirror.path).toBe(join(opts.dataDir, 'mirrors', 'local', 'acme', 'app.git'));
    expect(await gitOut(['rev-parse', '--is-bare-repository'], mirror.path)).toBe('true');
    expect(Object.fromEntries(await mirror.refs())).toEqual({ 'refs/heads/main': seeded[1] });
    const requests = requestsFor('app');
    expect(requests.length).toBeGreaterThanOrEqual(2);
    for (const request of requests) expect(request.headers.authorization).toBe(AUTHORIZATION);

    // Nothing on disk holds the credential: no remote in the config, no FETCH_HEAD.
    const config = await readFile(join(mirror.path, 'config'), 'utf8');
    expectNoCredential(config);
    expect(config).not.toContain('[remote');
    expect(await readdir(mirror.path)).not.toContain('FETCH_HEAD');
    // No half-built mirror is left beside it.
    expect(await readdir(join(opts.dataDir, 'mirrors', 'local', 'acme'))).toEqual(['app.git']);
  });

  it('refreshes: new commits and branches arrive, branches deleted upstream are pruned', async () => {
    const opts = await options('app');
    const mirror = await syncMirror(opts);
    const work = await cloneUpstream(upstream, 'acme', 'app');
    const [next] = await commit(work, [{ message: 'third', files: { 'src/main.txt': 'hello, world\n' } }]);
    await gitOk(['push', '-q', 'origin', 'HEAD:refs/heads/main', 'HEAD:refs/heads/feature', 'HEAD:refs/tags/v1'], { cwd: work });

    await syncMirror(opts);
    expect(Object.fromEntries(await mirror.refs())).toEqual({
      'refs/heads/main': next,
      'refs/heads/feature': next,
      'refs/tags/v1': next,
    });

    await gitOk(['push', '-q', 'origin', ':refs/heads/feature'], { cwd: work });
    await syncMirror(opts);
    expect([...(await mirror.refs()).keys()].sort()).toEqual(['refs/heads/main', 'refs/tags/v1']);
    await gitOk(['fsck', '--no-progress'], { cwd: mirror.path });
  });

  it('mirrors an empty upstream repository (the first push creates its branches)', async () => {
    const mirror = await syncMirror(await options('empty'));
    expect((await mirror.refs()).size).toBe(0);
  });

  it('serialises concurrent syncs of one repository, including the first one that creates it', async () => {
    const opts = await options('busy');
    upstream.requests.length = 0;
    const mirrors = await Promise.all(Array.from({ length: 6 }, () => syncMirror(opts)));

    expect(new Set(mirrors.map((m) => m.path)).size).toBe(1);
    // Each fetch starts with the ref advertisement (GET info/refs) and then POSTs; run one after
    // the other, no two advertisements are ever requested back to back.
    const kinds = requestsFor('busy').map((request) => request.method);
    expect(kinds.filter((kind) => kind === 'GET')).toHaveLength(6);
    for (let i = 1; i < kinds.length; i += 1) expect(`${kinds[i - 1]} ${kinds[i]}`).not.toBe('GET GET');
    await gitOk(['fsck', '--no-progress'], { cwd: mirrors[0]!.path });
    expect(await readdir(join(opts.dataDir, 'mirrors', 'local', 'acme'))).toEqual(['busy.git']);
  });

  it('fails with MIRROR_FETCH_FAILED and no credential in the message when upstream refuses it', async () => {
    const wrong = `Basic ${Buffer.from(`${UPSTREAM_USER}:wrong-password-FAKE`).toString('base64')}`;
    const error = await expectFailure(syncMirror(await options('app', { authorization: wrong })), 'MIRROR_FETCH_FAILED');
    expect(error.message).toMatch(/refused the gateway's credential/);
    expect(error.message).toContain('acme/app on remote local');
    const everything = JSON.stringify({ message: error.message, hint: error.hint, json: error.toJSON() });
    expectNoCredential(everything);
    expect(everything).not.toContain('wrong-password-FAKE');
    expect(everything).not.toContain(wrong.slice('Basic '.length));

    const none = await expectFailure(syncMirror(await options('app', { authorization: undefined })), 'MIRROR_FETCH_FAILED');
    expect(none.message).toMatch(/refused the gateway's credential \(or none is configured\)/);
  });

  it('fails with MIRROR_FETCH_FAILED for a repository upstream does not have', async () => {
    const error = await expectFailure(syncMirror(await options('missing')), 'MIRROR_FETCH_FAILED');
    expect(error.message).toMatch(/not found/);
  });

  it('gives up after timeoutMs on an upstream that never answers', async () => {
    const opts = await options('app', { upstreamUrl: `${silent.url}/acme/app.git`, timeoutMs: 1000 });
    const started = Date.now();
    const error = await expectFailure(syncMirror(opts), 'MIRROR_FETCH_FAILED');
    expect(error.message).toMatch(/took longer than 1s/);
    expect(Date.now() - started).toBeLessThan(10_000);
    // The killed fetch does not keep the mirror locked.
    await expectFailure(syncMirror(opts), 'MIRROR_FETCH_FAILED');
  });

  it('refuses names that would leave the mirrors directory, and URLs that carry credentials', async () => {
    await expectFailure(syncMirror(await options('..')), 'REPO_PATH_INVALID');
    await expectFailure(syncMirror(await options('app', { owner: 'acme/../../etc' })), 'REPO_PATH_INVALID');
    const withUser = `${upstream.url.replace('http://', `http://${UPSTREAM_USER}:${UPSTREAM_PASSWORD}@`)}/acme/app.git`;
    const error = await expectFailure(syncMirror(await options('app', { upstreamUrl: withUser })), 'MIRROR_FETCH_FAILED');
    expectNoCredential(error.message);
  });
});
