import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../helpers/gateway.ts';
import { gitOk, runGit } from '../../helpers/git-cli.ts';
import { startGitUpstream, type GitUpstream } from '../../helpers/git-upstream.ts';
import { cleanupTempDirs, createWorkRepo, makeTempDir, seedUpstreamRepo } from '../../helpers/repos.ts';

const UPSTREAM_USER = 'forge-bot';
const UPSTREAM_PASSWORD = 'upstream-password-FAKE-do-not-leak';

let upstream: GitUpstream;
let gateway: RunningGateway;
let seeded: string[];
const tokens: Record<string, string> = {};

function repoUrl(token: string | null, repo = 'acme/app', remote = 'local'): string {
  const auth = token ? `agent:${token}@` : '';
  return `${gateway.url.replace('http://', `http://${auth}`)}/git/${remote}/${repo}.git`;
}

async function upstreamRef(repo: string, ref: string): Promise<string | null> {
  const result = await runGit(['--git-dir', path.join(upstream.root, `${repo}.git`), 'rev-parse', '--verify', '-q', ref]);
  return result.code === 0 ? result.stdout.trim() : null;
}

beforeAll(async () => {
  upstream = await startGitUpstream({ basicAuth: { username: UPSTREAM_USER, password: UPSTREAM_PASSWORD } });
  seeded = await seedUpstreamRepo(upstream, 'acme', 'app', [
    { message: 'first', files: { 'README.md': '# app\n' } },
    { message: 'second', files: { 'src/main.txt': 'hello\n' } },
    { message: 'third', files: { 'src/main.txt': 'hello, world\n' } },
  ]);
  await gitOk(['--git-dir', path.join(upstream.root, 'acme/app.git'), 'config', 'uploadpack.allowFilter', 'true']);
  gateway = await startGateway({
    config: {
      remotes: [{ name: 'local', url: upstream.url, auth: { basic: { username: UPSTREAM_USER, password: 'env:UPSTREAM_PASSWORD' } } }],
    },
    env: { UPSTREAM_PASSWORD },
  });
  tokens.reader = await gateway.addAgent('reader', { read: ['local/acme/*'] });
  tokens.writer = await gateway.addAgent('writer', { write: ['local/acme/app'] });
  tokens.outsider = await gateway.addAgent('outsider', { read: ['local/other/*'] });
});

afterAll(async () => {
  await gateway?.stop();
  await upstream?.close();
  await cleanupTempDirs();
});

describe('reading through the gateway', () => {
  it('clones with protocol v2 and injects the upstream credential, never the agent token', async () => {
    const work = await makeTempDir('clone-v2');
    upstream.requests.length = 0;
    await gitOk(['-c', 'protocol.version=2', 'clone', '-q', repoUrl(tokens.reader!), work.path]);
    expect((await gitOk(['rev-parse', 'HEAD'], { cwd: work.path })).stdout.trim()).toBe(seeded[2]);
    expect(await readFile(path.join(work.path, 'src/main.txt'), 'utf8')).toBe('hello, world\n');

    const expected = `Basic ${Buffer.from(`${UPSTREAM_USER}:${UPSTREAM_PASSWORD}`).toString('base64')}`;
    expect(upstream.requests.length).toBeGreaterThanOrEqual(2);
    for (const request of upstream.requests) {
      expect(request.headers.authorization).toBe(expected);
      expect(JSON.stringify(request)).not.toContain(tokens.reader);
      expect(request.headers['git-protocol']).toBe('version=2');
    }
  });

  it('clones with protocol v0', async () => {
    const work = await makeTempDir('clone-v0');
    upstream.requests.length = 0;
    await gitOk(['-c', 'protocol.version=0', 'clone', '-q', repoUrl(tokens.reader!), work.path]);
    expect((await gitOk(['rev-parse', 'HEAD'], { cwd: work.path })).stdout.trim()).toBe(seeded[2]);
    expect(upstream.requests.every((r) => r.headers['git-protocol'] === undefined)).toBe(true);
  });

  it('makes shallow and partial clones', async () => {
    const shallow = await makeTempDir('shallow');
    await gitOk(['clone', '-q', '--depth', '1', repoUrl(tokens.reader!), shallow.path]);
    expect((await gitOk(['rev-list', '--count', 'HEAD'], { cwd: shallow.path })).stdout.trim()).toBe('1');

    const partial = await makeTempDir('partial');
    await gitOk(['clone', '-q', '--filter=blob:none', repoUrl(tokens.reader!), partial.path]);
    expect((await gitOk(['config', 'remote.origin.partialclonefilter'], { cwd: partial.path })).stdout.trim()).toBe('blob:none');
    expect(await readFile(path.join(partial.path, 'README.md'), 'utf8')).toBe('# app\n');
  });

  it('fetches what changed upstream and lists refs', async () => {
    const work = await makeTempDir('fetch');
    await gitOk(['clone', '-q', repoUrl(tokens.reader!), work.path]);
    const direct = await makeTempDir('direct');
    await gitOk(['clone', '-q', path.join(upstream.root, 'acme/app.git'), direct.path]);
    const { shas } = await createWorkRepo(direct.path, [{ message: 'upstream change', files: { 'CHANGELOG.md': 'v2\n' }, date: '1704153600 +0000' }]);
    await gitOk(['push', '-q', 'origin', 'HEAD:refs/heads/main'], { cwd: direct.path });

    await gitOk(['fetch', '-q', 'origin'], { cwd: work.path });
    expect((await gitOk(['rev-parse', 'origin/main'], { cwd: work.path })).stdout.trim()).toBe(shas[0]);

    const listed = await gitOk(['ls-remote', repoUrl(tokens.reader!)]);
    expect(listed.stdout).toContain(`${shas[0]}\trefs/heads/main`);
  });
});

describe('pushing through the gateway', () => {
  it('pushes a new branch, several refs, a tag and a branch delete; upstream gets the same shas', async () => {
    const work = await makeTempDir('push');
    await gitOk(['clone', '-q', repoUrl(tokens.writer!), work.path]);
    await gitOk(['checkout', '-q', '-b', 'feature/one'], { cwd: work.path });
    const { shas } = await createWorkRepo(work.path, [{ message: 'feature work', files: { 'feature.txt': 'one\n' } }]);
    const pushed = await gitOk(['push', 'origin', 'feature/one'], { cwd: work.path });
    expect(pushed.stderr).toContain('* [new branch]      feature/one -> feature/one');
    expect(await upstreamRef('acme/app', 'refs/heads/feature/one')).toBe(shas[0]);

    await gitOk(['tag', 'v1.0.0'], { cwd: work.path });
    await gitOk(['branch', 'feature/two'], { cwd: work.path });
    await gitOk(['push', 'origin', 'feature/two', 'v1.0.0', 'HEAD:refs/heads/feature/three'], { cwd: work.path });
    for (const ref of ['refs/heads/feature/two', 'refs/tags/v1.0.0', 'refs/heads/feature/three']) {
      expect(await upstreamRef('acme/app', ref)).toBe(shas[0]);
    }

    const deleted = await gitOk(['push', 'origin', '--delete', 'feature/three'], { cwd: work.path });
    expect(deleted.stderr).toContain('- [deleted]         feature/three');
    expect(await upstreamRef('acme/app', 'refs/heads/feature/three')).toBeNull();
  });
});

describe('refusals', () => {
  it('answers 401 with a Basic challenge when no token is sent', async () => {
    const response = await fetch(`${gateway.url}/git/local/acme/app.git/info/refs?service=git-upload-pack`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Basic realm="portcullis"');
    expect(await response.text()).toContain('authentication required');
    const git = await runGit(['ls-remote', repoUrl(null)]);
    expect(git.code).not.toBe(0);
    expect(git.stderr).toMatch(/could not read Username|Authentication failed/);
  });

  it('refuses a wrong token with 401 and a token without scope with 403 naming the scope', async () => {
    const wrong = await runGit(['ls-remote', repoUrl('pcl_agent_' + 'A'.repeat(43))]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('Authentication failed');

    const outsider = await runGit(['clone', repoUrl(tokens.outsider!), '/nonexistent-never-created']);
    expect(outsider.code).not.toBe(0);
    expect(outsider.stderr).toContain('remote: agent outsider has no read scope for local/acme/app');

    const work = await makeTempDir('reader-push');
    await gitOk(['clone', '-q', repoUrl(tokens.reader!), work.path]);
    await createWorkRepo(work.path, [{ message: 'not allowed', files: { 'x.txt': 'x\n' } }]);
    const push = await runGit(['push', 'origin', 'HEAD:refs/heads/sneaky'], { cwd: work.path });
    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain('remote: agent reader has no write scope for local/acme/app');
    expect(await upstreamRef('acme/app', 'refs/heads/sneaky')).toBeNull();
  });

  it('answers 404 for an unknown remote and names the configured ones', async () => {
    const git = await runGit(['ls-remote', repoUrl(tokens.reader!, 'acme/app', 'nope')]);
    expect(git.code).not.toBe(0);
    expect(git.stderr).toContain('remote: unknown remote "nope"');
    expect(git.stderr).toContain('configured remotes: local');
  });

  it('refuses a revoked token on its very next request', async () => {
    const token = await gateway.addAgent('temp', { read: ['local/acme/*'] });
    await gitOk(['ls-remote', repoUrl(token)]);
    const revoke = await gateway.cli(['agent', 'revoke', 'temp']);
    expect(revoke.stdout).toContain('agent temp revoked');
    const after = await runGit(['ls-remote', repoUrl(token)]);
    expect(after.code).not.toBe(0);
    const response = await fetch(`${gateway.url}/git/local/acme/app.git/info/refs?service=git-upload-pack`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(401);
    expect(await response.text()).toContain('the token of agent temp was revoked');
  });

  it('never shows the agent the upstream credential, even in a full curl trace', async () => {
    const work = await makeTempDir('trace');
    const traced = await gitOk(['clone', repoUrl(tokens.reader!), work.path], { env: { GIT_TRACE_CURL: '1', GIT_TRACE_CURL_NO_DATA: '0' } });
    const everything = traced.stdout + traced.stderr;
    expect(everything).toContain('Send header');
    expect(everything).not.toContain(UPSTREAM_PASSWORD);
    expect(everything).not.toContain(Buffer.from(`${UPSTREAM_USER}:${UPSTREAM_PASSWORD}`).toString('base64'));
    expect(gateway.output()).not.toContain(UPSTREAM_PASSWORD);
    for (const token of Object.values(tokens)) expect(gateway.output()).not.toContain(token);
  });
});

describe('the record', () => {
  it('lists each operation as a session with what was asked, moved and decided', async () => {
    const list = await gateway.cli(['sessions', 'list', '--json', '--agent', 'writer', '--limit', '200']);
    expect(list.code).toBe(0);
    const sessions = JSON.parse(list.stdout) as Array<Record<string, unknown>>;
    const pushes = sessions.filter((s) => s.operation === 'push');
    expect(pushes.length).toBeGreaterThanOrEqual(3);
    const refs = pushes.flatMap((s) => (s.refUpdates as Array<{ ref: string }>).map((u) => u.ref));
    expect(refs).toEqual(expect.arrayContaining(['refs/heads/feature/one', 'refs/heads/feature/two', 'refs/tags/v1.0.0', 'refs/heads/feature/three']));
    for (const push of pushes) expect(push).toMatchObject({ agent: 'writer', repo: 'local/acme/app', outcome: 'ok', httpStatus: 200 });
    const clone = sessions.find((s) => s.operation === 'clone');
    expect(clone).toMatchObject({ agent: 'writer', service: 'git-upload-pack', protocolVersion: 2, outcome: 'ok' });
    expect(clone!.bytesOut as number).toBeGreaterThan(0);

    const denied = JSON.parse((await gateway.cli(['sessions', 'list', '--json', '--agent', 'outsider'])).stdout) as Array<Record<string, unknown>>;
    expect(denied[0]).toMatchObject({ outcome: 'denied', httpStatus: 403, repo: 'local/acme/app' });

    const shown = await gateway.cli(['sessions', 'show', String(clone!.id)]);
    expect(shown.stdout).toContain(`clone of local/acme/app by writer`);
    expect(shown.stdout).toContain('command=fetch');
  });

  it('serves the same records over the REST API with an admin token, and nothing without one', async () => {
    const admin = JSON.parse((await gateway.cli(['admin', 'token', '--json'])).stdout) as { token: string };
    expect((await fetch(`${gateway.url}/api/v1/sessions`)).status).toBe(401);
    expect((await fetch(`${gateway.url}/api/v1/sessions`, { headers: { authorization: `Bearer ${tokens.reader}` } })).status).toBe(401);
    const response = await fetch(`${gateway.url}/api/v1/sessions?agent=reader&limit=500`, { headers: { authorization: `Bearer ${admin.token}` } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { sessions: Array<{ id: string; operation: string }> };
    expect(body.sessions.map((s) => s.operation)).toEqual(expect.arrayContaining(['clone', 'fetch', 'ls-remote']));
    const one = await fetch(`${gateway.url}/api/v1/sessions/${body.sessions[0]!.id}`, { headers: { authorization: `Bearer ${admin.token}` } });
    expect(((await one.json()) as { requests: unknown[] }).requests.length).toBeGreaterThan(0);
    const text = JSON.stringify(body);
    for (const token of Object.values(tokens)) expect(text).not.toContain(token);
  });

  it('binds every finished git request into the audit chain by the sha256 of its recorded details', async () => {
    const verify = await gateway.cli(['audit', 'verify']);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^audit chain intact: \d+ events/);
    const exported = await gateway.cli(['audit', 'export', '--format', 'jsonl']);
    const events = exported.stdout.trim().split('\n').map((line) => JSON.parse(line) as { kind: string; type?: string; data?: { endpoint?: string; outcome?: string; detailsSha256?: string } });
    const requests = events.filter((event) => event.kind === 'event' && event.type === 'git.request');
    expect(requests.map((event) => event.data?.endpoint)).toEqual(expect.arrayContaining(['info/refs', 'git-upload-pack', 'git-receive-pack']));
    expect(requests.every((event) => /^[0-9a-f]{64}$/.test(event.data?.detailsSha256 ?? ''))).toBe(true);
    expect(requests.some((event) => event.data?.outcome === 'denied')).toBe(true);
    for (const token of Object.values(tokens)) expect(exported.stdout).not.toContain(token);
  });

  it('exposes health and Prometheus metrics', async () => {
    expect(await (await fetch(`${gateway.url}/healthz`)).json()).toMatchObject({ status: 'ok' });
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/portcullis_git_requests_total\{service="git-upload-pack",endpoint="git-upload-pack",outcome="ok"\} \d+/);
    expect(metrics).toMatch(/portcullis_git_sent_bytes_total\{service="git-receive-pack",endpoint="git-receive-pack",outcome="ok"\} \d+/);
  });
});
