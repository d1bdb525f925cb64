/**
 * The fake GitHub, driven by probot's own Octokit where a real client would call it: app JWTs,
 * installation tokens (scope, expiry), the hold flow's endpoints, and the validator in front of
 * everything (a bad body → 422 and a violation). Local sockets only.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import pino from 'pino';
import { Probot, ProbotOctokit } from 'probot';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGitHub, type FakeGitHub } from '../../helpers/github/fake-github.ts';

const APP_ID = 4242;
const MAIN = 'a'.repeat(40);
const HELD = 'b'.repeat(40);
// probot's Octokit throttles writes to one a second (@octokit/plugin-throttling); tests need neither that nor retries.
const TestOctokit = ProbotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } });
const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
const otherKeys = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });

function appOctokit(github: FakeGitHub): Promise<InstanceType<typeof ProbotOctokit>> {
  const probot = new Probot({ appId: APP_ID, privateKey: keys.privateKey, baseUrl: github.baseUrl, Octokit: TestOctokit, log: pino({ level: 'silent' }) });
  return probot.auth();
}

function tokenOctokit(github: FakeGitHub, token: string): InstanceType<typeof ProbotOctokit> {
  return new TestOctokit({ auth: { token }, baseUrl: github.baseUrl });
}

async function signAppJwt(options: { key?: KeyObject; iss?: string | number; iatS: number; expS: number }): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(String(options.iss ?? APP_ID))
    .setIssuedAt(options.iatS)
    .setExpirationTime(options.expS)
    .sign(options.key ?? createPrivateKey(keys.privateKey));
}

async function call(github: FakeGitHub, method: string, path: string, auth?: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { accept: 'application/vnd.github+json' };
  if (auth !== undefined) headers.authorization = auth;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${github.baseUrl}${path}`, { method, headers, body: typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

describe('startFakeGitHub (api.github.com)', () => {
  let github: FakeGitHub;
  let app: InstanceType<typeof ProbotOctokit>;

  async function mint(body: Record<string, unknown> = {}): Promise<string> {
    const { data } = await app.rest.apps.createInstallationAccessToken({ installation_id: 42, ...body });
    return data.token;
  }

  beforeAll(async () => {
    github = await startFakeGitHub({ appId: APP_ID, publicKeyPem: keys.publicKey });
    github.addInstallation({ id: 42, account: 'acme', repositories: ['widgets', 'gadgets'] });
    github.setBranch('acme', 'widgets', 'main', MAIN);
    github.setBranch('acme', 'widgets', 'portcullis/hold-1', HELD);
    app = await appOctokit(github);
  });
  afterAll(() => github.close());
  afterEach(() => {
    // Tests that provoke violations take them out; anything left is a bug in the caller or the fake.
    expect(github.violations).toEqual([]);
  });

  it('answers app-authenticated routes for a JWT made by probot', async () => {
    expect((await app.rest.apps.getAuthenticated()).data).toMatchObject({ id: APP_ID, slug: 'portcullis' });
    const { data } = await app.rest.apps.getRepoInstallation({ owner: 'acme', repo: 'widgets' });
    expect(data).toMatchObject({ id: 42, account: { login: 'acme' }, app_id: APP_ID });
    await expect(app.rest.apps.getRepoInstallation({ owner: 'acme', repo: 'elsewhere' })).rejects.toMatchObject({ status: 404 });
    expect(github.requests[0]).toMatchObject({ method: 'GET', path: '/app', status: 200, operationId: 'apps/get-authenticated', auth: 'jwt' });
  });

  it('mints ghs_ tokens expiring after tokenTtlMs, scoped as asked', async () => {
    const before = Date.now();
    const { data } = await app.rest.apps.createInstallationAccessToken({
      installation_id: 42,
      repositories: ['widgets'],
      permissions: { contents: 'write', checks: 'write' },
    });
    expect(data.token).toMatch(/^ghs_[A-Za-z0-9]{36}$/);
    expect(data.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(data.expires_at)).toBeGreaterThanOrEqual(Math.floor((before + 3_600_000) / 1000) * 1000);
    expect(Date.parse(data.expires_at)).toBeLessThanOrEqual(Date.now() + 3_600_000);
    expect(data).toMatchObject({ permissions: { contents: 'write', checks: 'write' }, repository_selection: 'selected', repositories: [{ name: 'widgets', full_name: 'acme/widgets' }] });
    expect(github.tokens.at(-1)).toMatchObject({ token: data.token, installationId: 42, repositories: ['widgets'] });

    github.tokenTtlMs = 10 * 60_000;
    try {
      const short = await app.rest.apps.createInstallationAccessToken({ installation_id: 42 });
      expect(Date.parse(short.data.expires_at)).toBeLessThanOrEqual(Date.now() + 10 * 60_000);
      expect(Date.parse(short.data.expires_at)).toBeGreaterThan(Date.now() + 9 * 60_000);
    } finally {
      github.tokenTtlMs = 3_600_000;
    }
  });

  it('refuses to mint beyond the installation, as GitHub does (422, not a violation)', async () => {
    await expect(mint({ repositories: ['elsewhere'] })).rejects.toMatchObject({ status: 422 });
    await expect(mint({ permissions: { administration: 'write' } })).rejects.toMatchObject({
      status: 422,
      message: expect.stringContaining('The permissions requested are not granted to this installation.'),
    });
    await expect(app.rest.apps.createInstallationAccessToken({ installation_id: 7 })).rejects.toMatchObject({ status: 404 });
  });

  it('verifies the app JWT: signature, issuer, lifetime', async () => {
    const now = Math.floor(Date.now() / 1000);
    const otherKey = createPrivateKey(otherKeys.privateKey);
    expect(await call(github, 'GET', '/app', `Bearer ${await signAppJwt({ key: otherKey, iatS: now - 30, expS: now + 540 })}`)).toMatchObject({
      status: 401,
      body: { message: 'A JSON web token could not be decoded' },
    });
    expect((await call(github, 'GET', '/app', `Bearer ${await signAppJwt({ iss: 9999, iatS: now - 30, expS: now + 540 })}`)).body.message).toBe('Integration not found');
    expect((await call(github, 'GET', '/app', `Bearer ${await signAppJwt({ iatS: now, expS: now + 3600 })}`)).body.message).toBe(
      "'Expiration time' claim ('exp') is too far in the future",
    );
    expect((await call(github, 'GET', '/app', `Bearer ${await signAppJwt({ iatS: now - 900, expS: now - 300 })}`)).status).toBe(401);
    expect((await call(github, 'GET', '/app', `token ${await mint()}`)).status).toBe(401);
    expect((await call(github, 'GET', '/app')).status).toBe(401);
  });

  it('requires an issued, unexpired installation token, scoped to the repository and permission', async () => {
    const path = '/repos/acme/widgets/collaborators/octocat/permission';
    expect(await call(github, 'GET', path)).toMatchObject({ status: 401, body: { message: 'Requires authentication' } });
    expect(await call(github, 'GET', path, 'token ghs_notonethefakeissued000000000000000')).toMatchObject({ status: 401, body: { message: 'Bad credentials' } });
    const now = Math.floor(Date.now() / 1000);
    expect((await call(github, 'GET', path, `Bearer ${await signAppJwt({ iatS: now - 30, expS: now + 540 })}`)).status).toBe(401);

    const token = await mint({ repositories: ['gadgets'], permissions: { metadata: 'read', checks: 'write' } });
    expect((await call(github, 'GET', path, `token ${token}`)).status).toBe(404); // narrowed to gadgets: GitHub hides widgets
    expect((await call(github, 'GET', '/repos/acme/gadgets/collaborators/octocat/permission', `Bearer ${token}`)).status).toBe(200);
    const pull = { title: 't', head: 'portcullis/hold-1', base: 'main' };
    expect(await call(github, 'POST', '/repos/acme/gadgets/pulls', `token ${token}`, pull)).toMatchObject({
      status: 403,
      body: { message: 'Resource not accessible by integration' },
    });

    github.expireTokens();
    expect(await call(github, 'GET', '/repos/acme/gadgets/collaborators/octocat/permission', `token ${token}`)).toMatchObject({
      status: 401,
      body: { message: 'Bad credentials' },
    });
  });

  it('answers a body GitHub would reject with 422 and records the violation', async () => {
    const octokit = tokenOctokit(github, await mint());
    const error: unknown = await octokit.rest.checks
      .create({ owner: 'acme', repo: 'widgets', name: 'portcullis', head_sha: HELD, conclusion: 'approved' as 'success' })
      .then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ status: 422, message: expect.stringContaining('request body field conclusion must be one of "action_required"') });
    expect(github.violations.splice(0)).toEqual([
      expect.objectContaining({
        kind: 'invalid-request',
        method: 'POST',
        path: '/repos/acme/widgets/check-runs',
        operationId: 'checks/create',
        message: expect.stringContaining('(got string "approved")'),
      }),
    ]);
    expect(github.checkRuns).toHaveLength(0);
  });

  it('records unknown routes, unimplemented operations and non-JSON bodies', async () => {
    const token = `token ${await mint()}`;
    expect((await call(github, 'POST', '/repos/acme/widgets/check-run', token, { name: 'x' })).status).toBe(404);
    expect((await call(github, 'GET', '/repos/acme/widgets/branches', token)).status).toBe(501);
    expect(await call(github, 'POST', '/repos/acme/widgets/check-runs', token, '{"name":')).toMatchObject({ status: 400, body: { message: 'Problems parsing JSON' } });
    expect(github.violations.splice(0).map((v) => v.kind)).toEqual(['unknown-route', 'not-implemented', 'invalid-request']);
  });

  it('enforces check-run rules beyond the schema', async () => {
    const octokit = tokenOctokit(github, await mint());
    const base = { owner: 'acme', repo: 'widgets', name: 'portcullis' };
    await expect(octokit.rest.checks.create({ ...base, head_sha: HELD, status: 'completed' })).rejects.toMatchObject({ status: 422 });
    await expect(octokit.rest.checks.create({ ...base, head_sha: HELD, conclusion: 'stale' })).rejects.toMatchObject({ status: 422 });
    await expect(octokit.rest.checks.create({ ...base, head_sha: 'b1b1b1' })).rejects.toMatchObject({ status: 422 });
    expect(github.violations.splice(0).map((v) => v.message)).toEqual([
      expect.stringContaining('"conclusion" wasn\'t supplied'),
      expect.stringContaining('stale'),
      expect.stringContaining('No commit found for SHA: b1b1b1'),
    ]);
  });

  it('serves a hold: check run, pull request, permission check, approval, close', async () => {
    const octokit = tokenOctokit(github, await mint({ repositories: ['widgets'], permissions: { contents: 'write', checks: 'write', pull_requests: 'write', metadata: 'read' } }));
    const repo = { owner: 'acme', repo: 'widgets' };
    const run = await octokit.rest.checks.create({
      ...repo,
      name: 'portcullis',
      head_sha: HELD,
      external_id: 'approval-1',
      conclusion: 'action_required',
      output: { title: 'Push held', summary: 'agent-7 pushed 1 commit to main' },
      actions: [
        { label: 'Approve push', description: 'Fast-forward main to this commit', identifier: 'approve' },
        { label: 'Reject', description: 'Discard the held push', identifier: 'reject' },
      ],
    });
    expect(run.status).toBe(201);
    expect(run.data).toMatchObject({ head_sha: HELD, status: 'completed', conclusion: 'action_required', app: { id: APP_ID } });

    const pull = await octokit.rest.pulls.create({ ...repo, title: 'Held push by agent-7', head: 'portcullis/hold-1', base: 'main', body: 'approval-1' });
    expect(pull.data).toMatchObject({ number: 1, state: 'open', head: { ref: 'portcullis/hold-1', sha: HELD, label: 'acme:portcullis/hold-1' }, base: { ref: 'main', sha: MAIN } });
    await expect(octokit.rest.pulls.create({ ...repo, title: 'again', head: 'portcullis/hold-1', base: 'main' })).rejects.toMatchObject({ status: 422 });
    const listed = await octokit.rest.pulls.list({ ...repo, head: 'acme:portcullis/hold-1', state: 'open' });
    expect(listed.data.map((p) => p.number)).toEqual([1]);
    expect((await octokit.rest.pulls.list({ ...repo, head: 'acme:other' })).data).toEqual([]);

    github.setPermission('acme', 'widgets', 'maintainer-mia', 'maintain');
    const permission = await octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username: 'maintainer-mia' });
    expect(permission.data).toMatchObject({ permission: 'write', role_name: 'maintain' }); // the legacy field folds maintain into write
    expect((await octokit.rest.repos.getCollaboratorPermissionLevel({ ...repo, username: 'stranger' })).data.permission).toBe('none');

    await octokit.rest.checks.update({ ...repo, check_run_id: run.data.id, conclusion: 'success', output: { title: 'Approved', summary: 'by maintainer-mia' } });
    await octokit.rest.issues.createComment({ ...repo, issue_number: 1, body: 'Approved by @maintainer-mia; main fast-forwarded.' });
    await octokit.rest.pulls.update({ ...repo, pull_number: 1, state: 'closed' });

    expect(github.checkRuns).toEqual([
      expect.objectContaining({ id: run.data.id, headSha: HELD, conclusion: 'success', status: 'completed', externalId: 'approval-1', updates: [expect.objectContaining({ conclusion: 'success' })] }),
    ]);
    expect(github.checkRuns[0]?.actions.map((a) => a.identifier)).toEqual(['approve', 'reject']);
    expect(github.pulls).toEqual([expect.objectContaining({ number: 1, state: 'closed', merged: false })]);
    expect(github.comments).toEqual([expect.objectContaining({ issueNumber: 1, body: 'Approved by @maintainer-mia; main fast-forwarded.' })]);
  });

  it('merges only the head it was shown', async () => {
    github.setBranch('acme', 'widgets', 'portcullis/hold-2', 'c'.repeat(40));
    const octokit = tokenOctokit(github, await mint());
    const repo = { owner: 'acme', repo: 'widgets' };
    const { data } = await octokit.rest.pulls.create({ ...repo, title: 'hold 2', head: 'portcullis/hold-2', base: 'main' });
    github.setBranch('acme', 'widgets', 'portcullis/hold-2', 'd'.repeat(40)); // a new push to the held branch
    await expect(octokit.rest.pulls.merge({ ...repo, pull_number: data.number, sha: 'c'.repeat(40) })).rejects.toMatchObject({ status: 409 });
    const merged = await octokit.rest.pulls.merge({ ...repo, pull_number: data.number, sha: 'd'.repeat(40), merge_method: 'merge' });
    expect(merged.data).toMatchObject({ merged: true });
    await expect(octokit.rest.pulls.merge({ ...repo, pull_number: data.number })).rejects.toMatchObject({ status: 405 });
    expect(github.pulls.find((p) => p.number === data.number)).toMatchObject({ state: 'closed', merged: true, mergeCommitSha: merged.data.sha });
  });

  it('forgets an uninstalled app: its tokens stop working', async () => {
    github.addInstallation({ id: 77, account: 'other-org', repositories: ['tools'] });
    const { data } = await app.rest.apps.createInstallationAccessToken({ installation_id: 77 });
    const path = '/repos/other-org/tools/collaborators/octocat/permission';
    expect((await call(github, 'GET', path, `token ${data.token}`)).status).toBe(200);
    github.removeInstallation(77);
    expect((await call(github, 'GET', path, `token ${data.token}`)).status).toBe(401);
    await expect(app.rest.apps.getRepoInstallation({ owner: 'other-org', repo: 'tools' })).rejects.toMatchObject({ status: 404 });
  });
});

describe('startFakeGitHub with an injected clock', () => {
  let clock = Date.parse('2026-06-01T12:00:00Z');
  let github: FakeGitHub;

  beforeAll(async () => {
    github = await startFakeGitHub({ appId: APP_ID, publicKeyPem: keys.publicKey, now: () => clock, tokenTtlMs: 60 * 60_000 });
    github.addInstallation({ id: 9, account: 'acme', repositories: ['widgets'] });
  });
  afterAll(() => github.close());

  async function mintAt(): Promise<{ token: string; expires_at: string }> {
    const nowS = Math.floor(clock / 1000);
    const { body } = await call(github, 'POST', '/app/installations/9/access_tokens', `Bearer ${await signAppJwt({ iatS: nowS - 30, expS: nowS + 540 })}`, {});
    return body as { token: string; expires_at: string };
  }

  it('expires tokens at expires_at; a fresh one works again', async () => {
    const first = await mintAt();
    expect(first.expires_at).toBe('2026-06-01T13:00:00Z');
    const path = '/repos/acme/widgets/collaborators/octocat/permission';
    clock += 59 * 60_000;
    expect((await call(github, 'GET', path, `token ${first.token}`)).status).toBe(200);
    clock += 60_000;
    expect(await call(github, 'GET', path, `token ${first.token}`)).toMatchObject({ status: 401, body: { message: 'Bad credentials' } });
    const second = await mintAt();
    expect(second.token).not.toBe(first.token);
    expect((await call(github, 'GET', path, `token ${second.token}`)).status).toBe(200);
    expect(github.violations).toEqual([]);
  });
});

describe('startFakeGitHub (GitHub Enterprise Server)', () => {
  let github: FakeGitHub;

  beforeAll(async () => {
    github = await startFakeGitHub({ spec: 'ghes-3.19', appId: APP_ID, publicKeyPem: keys.publicKey });
  });
  afterAll(() => github.close());

  it('serves the API under /api/v3 and says which version it is', async () => {
    expect(github.baseUrl).toBe(`${github.url}/api/v3`);
    expect(github.host).toMatch(/^127\.0\.0\.1:\d+$/);
    const app = await appOctokit(github);
    const response = await app.rest.apps.getAuthenticated();
    expect(response.data?.id).toBe(APP_ID);
    expect(response.headers['x-github-enterprise-version']).toBe('3.19.0');
    expect(github.requests[0]?.path).toBe('/api/v3/app');

    expect((await fetch(`${github.url}/app`)).status).toBe(404); // github.com's path on a GHES host
    expect(github.violations.splice(0)).toEqual([expect.objectContaining({ kind: 'unknown-route', message: expect.stringContaining('not under /api/v3') })]);
  });
});

describe('startFakeGitHub as a git remote', () => {
  let upstream: Server;
  let github: FakeGitHub;
  const upstreamRequests: Array<{ url: string; headers: IncomingHttpHeaders }> = [];

  /** A stand-in for `git http-backend`: a protocol-v0 ref advertisement, nothing more. */
  function advertisement(): string {
    const pkt = (line: string) => (Buffer.byteLength(line) + 4).toString(16).padStart(4, '0') + line;
    return (
      pkt('# service=git-upload-pack\n') +
      '0000' +
      pkt(`${MAIN} HEAD\0multi_ack side-band-64k\n`) +
      pkt(`${MAIN} refs/heads/main\n`) +
      pkt(`${HELD} refs/heads/portcullis/hold-1\n`) +
      '0000'
    );
  }

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      upstreamRequests.push({ url: req.url ?? '', headers: req.headers });
      req.resume();
      res.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement' }).end(advertisement());
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    github = await startFakeGitHub({ spec: 'ghes-3.19', appId: APP_ID, publicKeyPem: keys.publicKey, gitUpstreamUrl: upstreamUrl });
    github.addInstallation({ id: 5, account: 'acme', repositories: ['widgets', 'gadgets'] });
  });
  afterAll(async () => {
    await github.close();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  async function mint(body: Record<string, unknown>): Promise<string> {
    const { data } = await (await appOctokit(github)).rest.apps.createInstallationAccessToken({ installation_id: 5, ...body });
    return data.token;
  }

  function gitFetch(path: string, token?: string): Promise<Response> {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.authorization = `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
    return fetch(`${github.url}${path}`, { headers });
  }

  it('forwards smart HTTP for an x-access-token with Contents access, without the token', async () => {
    const token = await mint({ repositories: ['widgets'], permissions: { contents: 'read' } });
    const response = await gitFetch('/acme/widgets.git/info/refs?service=git-upload-pack', token);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('refs/heads/main');
    expect(upstreamRequests.at(-1)).toMatchObject({ url: '/acme/widgets.git/info/refs?service=git-upload-pack' });
    expect(upstreamRequests.at(-1)?.headers.authorization).toBeUndefined();
    expect(github.gitRequests.at(-1)).toMatchObject({ owner: 'acme', repo: 'widgets', service: 'git-upload-pack', status: 200 });
  });

  it('refuses as GitHub does: no token 401, other repository 404, push with a read token 403', async () => {
    const token = await mint({ repositories: ['widgets'], permissions: { contents: 'read' } });
    const anonymous = await gitFetch('/acme/widgets.git/info/refs?service=git-upload-pack');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Basic realm="GitHub"');
    expect((await gitFetch('/acme/gadgets.git/info/refs?service=git-upload-pack', token)).status).toBe(404);
    const push = await gitFetch('/acme/widgets.git/info/refs?service=git-receive-pack', token);
    expect(push.status).toBe(403);
    expect(await push.text()).toBe('Permission to acme/widgets.git denied to portcullis[bot].\n');
  });

  it('reads pull request heads from the upstream refs', async () => {
    const octokit = tokenOctokit(github, await mint({}));
    const { data } = await octokit.rest.pulls.create({ owner: 'acme', repo: 'widgets', title: 'hold', head: 'portcullis/hold-1', base: 'main' });
    expect(data).toMatchObject({ head: { sha: HELD }, base: { sha: MAIN } });
    await expect(octokit.rest.pulls.create({ owner: 'acme', repo: 'widgets', title: 'x', head: 'no-such-branch', base: 'main' })).rejects.toMatchObject({ status: 422 });
    expect(github.violations).toEqual([]);
  });
});
