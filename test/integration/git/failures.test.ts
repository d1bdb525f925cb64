/**
 * What an agent and an operator see when input is bad or an upstream is broken: a clear message,
 * the right HTTP status, a record of the request, and a gateway that keeps serving afterwards.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, startSilentUpstream, type SilentUpstream } from '../../helpers/broken-upstream.ts';
import { startGateway, type RunningGateway } from '../../helpers/gateway.ts';
import { gitDate, gitOk, runGit } from '../../helpers/git-cli.ts';
import { startGitUpstream, type GitUpstream } from '../../helpers/git-upstream.ts';
import { cleanupTempDirs, makeTempDir, seedUpstreamRepo } from '../../helpers/repos.ts';

const UPSTREAM_USER = 'forge-bot';
const UPSTREAM_PASSWORD = 'upstream-password-FAKE-do-not-leak';
/** Bounds every raw request a test makes, so a hanging gateway fails the test instead of stalling it. */
const REQUEST_BOUND_MS = 20_000;
const BIG_FILE_BYTES = 6 * 1024 * 1024;

let upstream: GitUpstream;
let silent: SilentUpstream;
let downPort: number;
/** Remotes: local (working), down (nothing listens), badauth (wrong credential). */
let gateway: RunningGateway;
/**
 * Remotes: local (working), hang (never answers). Its upstreamTimeoutMs is 1000; a gateway of its own
 * keeps that short limit away from the clones the other tests make.
 */
let impatient: RunningGateway;
let appHead: string;
let bigHead: string;
const tokens: Record<string, string> = {};
const adminTokens: Record<string, string> = {};

interface RecordedSession {
  id: string;
  agent: string;
  repo: string;
  service: string;
  operation: string;
  outcome: string;
  httpStatus: number;
  requests: number;
}

interface RecordedRequest {
  endpoint: string;
  method: string;
  outcome: string;
  httpStatus: number;
  bytesOut: number;
  details: Record<string, unknown>;
}

function repoUrl(on: RunningGateway, token: string, repoPath: string): string {
  return `${on.url.replace('http://', `http://agent:${token}@`)}/git/${repoPath}.git`;
}

/** The gateway is still up and serving: a fresh clone through it gets the upstream's HEAD. */
async function expectClonesStillWork(on: RunningGateway, token: string): Promise<void> {
  const work = await makeTempDir('still-up');
  await gitOk(['clone', '-q', repoUrl(on, token, 'local/acme/app'), work.path]);
  expect((await gitOk(['rev-parse', 'HEAD'], { cwd: work.path })).stdout.trim()).toBe(appHead);
  await work.cleanup();
}

async function sessionsOf(on: RunningGateway, agent: string): Promise<RecordedSession[]> {
  const listed = await on.cli(['sessions', 'list', '--json', '--agent', agent, '--limit', '100']);
  expect(listed.stderr).toBe('');
  return JSON.parse(listed.stdout) as RecordedSession[];
}

async function apiGet<T>(on: RunningGateway, token: string, apiPath: string): Promise<T> {
  const response = await fetch(`${on.url}/api/v1${apiPath}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(REQUEST_BOUND_MS),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

/** Polls the REST API (bounded) until the agent's newest session has no request in progress. */
async function settledSession(on: RunningGateway, token: string, agent: string): Promise<{ session: RecordedSession; requests: RecordedRequest[] }> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const { sessions } = await apiGet<{ sessions: RecordedSession[] }>(on, token, `/sessions?agent=${encodeURIComponent(agent)}&limit=1`);
    if (sessions[0] && sessions[0].outcome !== 'in_progress') {
      return apiGet(on, token, `/sessions/${sessions[0].id}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the session of ${agent} was still in progress after 100 polls`);
}

/** One pkt-line (gitprotocol-common "pkt-line Format"): 4 hex digits of length, then the payload. */
function pktLine(payload: string): string {
  return (payload.length + 4).toString(16).padStart(4, '0') + payload;
}

beforeAll(async () => {
  [upstream, silent, downPort] = await Promise.all([
    startGitUpstream({ basicAuth: { username: UPSTREAM_USER, password: UPSTREAM_PASSWORD } }),
    startSilentUpstream(),
    closedPort(),
  ]);
  const app = await seedUpstreamRepo(upstream, 'acme', 'app', [
    { message: 'first', files: { 'README.md': '# app\n' } },
    { message: 'second', files: { 'src/main.txt': 'hello\n' } },
  ]);
  appHead = app.at(-1)!;
  // Random bytes do not compress, so the pack is as large as the file and takes a while to stream.
  const big = await seedUpstreamRepo(upstream, 'acme', 'big', [{ message: 'big', files: { 'blob.bin': randomBytes(BIG_FILE_BYTES) } }]);
  bigHead = big[0]!;
  await seedUpstreamRepo(upstream, 'acme', 'negotiate', [{ message: 'base', files: { 'a.txt': 'a\n' } }]);

  const local = { name: 'local', url: upstream.url, auth: { basic: { username: UPSTREAM_USER, password: 'env:UPSTREAM_PASSWORD' } } };
  const env = { UPSTREAM_PASSWORD };
  [gateway, impatient] = await Promise.all([
    startGateway({
      config: {
        remotes: [
          local,
          { name: 'down', url: `http://127.0.0.1:${downPort}` },
          { name: 'badauth', url: upstream.url, auth: { basic: { username: UPSTREAM_USER, password: 'wrong-password-FAKE' } } },
        ],
      },
      env,
    }),
    startGateway({ config: { remotes: [local, { name: 'hang', url: silent.url }], limits: { upstreamTimeoutMs: 1000 } }, env }),
  ]);
  const admins = [gateway, impatient].map((on) => on.cli(['admin', 'token', '--json']));
  [tokens.tester, tokens.garbler, tokens.quitter, tokens.impatient, tokens.impatientQuitter] = await Promise.all([
    gateway.addAgent('tester', { read: ['*/*/*'] }),
    gateway.addAgent('garbler', { write: ['local/acme/app'] }),
    gateway.addAgent('quitter', { read: ['local/acme/*'] }),
    impatient.addAgent('tester', { read: ['*/*/*'] }),
    impatient.addAgent('quitter', { read: ['*/*/*'] }),
  ]);
  for (const [name, issued] of [['gateway', admins[0]!], ['impatient', admins[1]!]] as const) {
    adminTokens[name] = (JSON.parse((await issued).stdout) as { token: string }).token;
  }
});

afterAll(async () => {
  await Promise.all([gateway?.stop(), impatient?.stop()]);
  await Promise.all([upstream?.close(), silent?.close()]);
  await cleanupTempDirs();
});

describe('broken upstreams', () => {
  it('upstream down: git shows "cannot reach upstream" and HTTP 502; recorded as upstream_error', async () => {
    const git = await runGit(['ls-remote', repoUrl(gateway, tokens.tester!, 'down/acme/app')]);
    expect(git.code).not.toBe(0);
    expect(git.stderr).toContain(`remote: cannot reach upstream 127.0.0.1:${downPort}: ECONNREFUSED`);
    expect(git.stderr).toContain('remote: hint: check the remote url in portcullis.yml');
    expect(git.stderr).toContain('The requested URL returned error: 502');

    const [session] = (await sessionsOf(gateway, 'tester')).filter((s) => s.repo === 'down/acme/app');
    expect(session).toMatchObject({ outcome: 'upstream_error', httpStatus: 502 });
    await expectClonesStillWork(gateway, tokens.tester!);
  });

  it('upstream that accepts but never answers: HTTP 504 after limits.upstreamTimeoutMs, and the connection is let go', async () => {
    const closedBefore = silent.closed;
    const git = await runGit(['ls-remote', repoUrl(impatient, tokens.impatient!, 'hang/acme/app')]);
    expect(git.code).not.toBe(0);
    expect(git.stderr).toContain(`remote: upstream ${new URL(silent.url).host} did not answer within 1s`);
    expect(git.stderr).toContain('raise limits.upstreamTimeoutMs');
    expect(git.stderr).toContain('The requested URL returned error: 504');
    await silent.waitForClosed(closedBefore + 1);

    const response = await fetch(`${impatient.url}/git/hang/acme/app.git/info/refs?service=git-upload-pack`, {
      headers: { authorization: `Bearer ${tokens.impatient}` },
      signal: AbortSignal.timeout(REQUEST_BOUND_MS),
    });
    expect(response.status).toBe(504);
    expect(response.headers.get('x-portcullis-error')).toBe('UPSTREAM_TIMEOUT');
    expect(await response.text()).toContain('did not answer within 1s');

    const { session } = await settledSession(impatient, adminTokens.impatient!, 'tester');
    expect(session).toMatchObject({ repo: 'hang/acme/app', outcome: 'upstream_error', httpStatus: 504 });
    await expectClonesStillWork(impatient, tokens.impatient!);
  });

  it('an agent that gives up before the upstream answers is recorded as aborted, not as an upstream error', async () => {
    const [connectionsBefore, closedBefore] = [silent.connections, silent.closed];
    const request = http.request(`${impatient.url}/git/hang/acme/app.git/info/refs?service=git-upload-pack`, {
      headers: { authorization: `Bearer ${tokens.impatientQuitter}` },
    });
    request.on('error', () => undefined);
    request.end();
    // Once the gateway has connected upstream, the agent hangs up (well within the 1 s timeout).
    await silent.waitForConnections(connectionsBefore + 1);
    request.destroy();
    await silent.waitForClosed(closedBefore + 1);

    const { session, requests } = await settledSession(impatient, adminTokens.impatient!, 'quitter');
    expect(session).toMatchObject({ repo: 'hang/acme/app', outcome: 'aborted' });
    expect(requests[0]!.details.error).toBeUndefined();
    await expectClonesStillWork(impatient, tokens.impatient!);
  });

  it("upstream refusing the gateway's credential: 502 naming remotes[].auth, never a 401 that would make git prompt", async () => {
    const clone = await runGit(['clone', repoUrl(gateway, tokens.tester!, 'badauth/acme/app'), '/nonexistent-never-created']);
    expect(clone.code).not.toBe(0);
    expect(clone.stderr).toContain("remote: remote badauth refused the gateway's credential for acme/app (HTTP 401)");
    // The hint sends the admin to this remote's auth entry in the config.
    expect(clone.stderr).toMatch(/^remote: hint: .*\bauth\b.*$/m);
    expect(clone.stderr.split('\n').find((line) => line.startsWith('remote: hint:'))).toMatch(/badauth.*portcullis\.yml/);
    expect(clone.stderr).toContain('The requested URL returned error: 502');
    expect(clone.stderr).not.toMatch(/Username|Password|Authentication failed/);

    const response = await fetch(`${gateway.url}/git/badauth/acme/app.git/info/refs?service=git-upload-pack`, {
      headers: { authorization: `Bearer ${tokens.tester}` },
      signal: AbortSignal.timeout(REQUEST_BOUND_MS),
    });
    expect(response.status).toBe(502);
    expect(response.headers.get('x-portcullis-error')).toBe('UPSTREAM_AUTH_FAILED');
    expect(response.headers.get('www-authenticate')).toBeNull();
    await response.body?.cancel();
    await expectClonesStillWork(gateway, tokens.tester!);
  });

  it('a repository missing upstream: 404 "was not found on remote", recorded as the upstream\'s refusal', async () => {
    const clone = await runGit(['clone', repoUrl(gateway, tokens.tester!, 'local/acme/missing'), '/nonexistent-never-created']);
    expect(clone.code).not.toBe(0);
    expect(clone.stderr).toContain('remote: repository acme/missing was not found on remote local');
    expect(clone.stderr).toMatch(/fatal: repository '.*\/git\/local\/acme\/missing\.git\/' not found/);

    const [session] = (await sessionsOf(gateway, 'tester')).filter((s) => s.repo === 'local/acme/missing');
    expect(session).toMatchObject({ outcome: 'upstream_error', httpStatus: 404 });
    await expectClonesStillWork(gateway, tokens.tester!);
  });
});

describe('bad input from an agent', () => {
  it('garbage POSTed to upload-pack and receive-pack gets an answer (never a hang) and is on the record', async () => {
    // Random, but never starting with a valid pkt-line length or the gzip magic, so every run fails alike.
    const noise = (bytes: number) => Buffer.concat([Buffer.from([0xff, 0xfe]), randomBytes(bytes - 2)]);
    const cases: Array<{ service: string; body: Buffer; headers?: Record<string, string> }> = [
      { service: 'git-upload-pack', body: noise(4096) },
      { service: 'git-upload-pack', body: Buffer.from('zzzzwant nothing\n0000') },
      { service: 'git-upload-pack', body: Buffer.from(pktLine(`want ${appHead} side-band-64k\n`).slice(0, 20)) },
      { service: 'git-upload-pack', body: Buffer.from(`${pktLine('command=rm -rf\n')}0001${pktLine('want nope\n')}0000`), headers: { 'git-protocol': 'version=2' } },
      { service: 'git-upload-pack', body: noise(512), headers: { 'content-encoding': 'gzip' } },
      { service: 'git-upload-pack', body: gzipSync(noise(512)), headers: { 'content-encoding': 'gzip' } },
      { service: 'git-receive-pack', body: noise(4096) },
      { service: 'git-receive-pack', body: Buffer.from(`${pktLine(`${appHead} nothex refs/heads/main\0report-status\n`)}0000`) },
      { service: 'git-receive-pack', body: Buffer.from(`ffff${'x'.repeat(100)}`) },
    ];
    for (const { service, body, headers } of cases) {
      const response = await fetch(`${gateway.url}/git/local/acme/app.git/${service}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.garbler}`, 'content-type': `application/x-${service}-request`, ...headers },
        body: new Uint8Array(body),
        signal: AbortSignal.timeout(REQUEST_BOUND_MS),
      });
      const answer = Buffer.from(await response.arrayBuffer()).toString('latin1');
      // git http-backend sends its 200 head before upload-pack/receive-pack read the body, so a body
      // they choke on ends that 200 with no result; either way no pack comes back and nothing hangs.
      if (response.status === 200) expect(answer).not.toContain('PACK');
      else expect(response.status).toBeGreaterThanOrEqual(400);
    }

    // A body upstream rejects before answering becomes an upstream error the agent can read.
    const wrongType = await fetch(`${gateway.url}/git/local/acme/app.git/git-upload-pack`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.garbler}`, 'content-type': 'text/plain' },
      body: '0000',
      signal: AbortSignal.timeout(REQUEST_BOUND_MS),
    });
    expect(wrongType.status).toBe(502);
    expect(await wrongType.text()).toBe('remote local answered HTTP 415 for acme/app\nhint: try again later; if it persists, check the upstream forge\n');

    const sessions = await sessionsOf(gateway, 'garbler');
    expect(sessions.reduce((total, s) => total + s.requests, 0)).toBe(cases.length + 1);
    expect(sessions.map((s) => s.outcome)).not.toContain('in_progress');
    const push = sessions.find((s) => s.service === 'git-receive-pack')!;
    const shown = JSON.parse((await gateway.cli(['sessions', 'show', '--json', push.id])).stdout) as { requests: RecordedRequest[] };
    // The gateway reads a push's command list itself (it decides per ref), so it refuses bad framing.
    expect(shown.requests.map((r) => (r.details.error as { message?: string } | undefined)?.message)).toEqual([
      expect.stringContaining('is not 4 hex digits'),
      expect.stringContaining('expected "<old-oid> <new-oid> <ref>"'),
      'pkt-line length 65535 exceeds the 65520-byte limit',
    ]);

    expect(await (await fetch(`${gateway.url}/healthz`)).json()).toMatchObject({ status: 'ok' });
    await expectClonesStillWork(gateway, tokens.tester!);
  });

  it('refuses invalid owner/repository names with 400 and says which names are valid', async () => {
    for (const [owner, repo, shown] of [
      ['ac$me', 'app', 'ac$me/app'],
      ['ac%20me', 'app', 'ac me/app'],
      ['acme%2Fsub', 'app', 'acme/sub/app'],
      ['acme', '..', 'acme/..'], // the URL ends in `...git`: repository `..`, which no URL parser folds away
      ['acme', `${'x'.repeat(101)}`, `acme/${'x'.repeat(101)}`],
    ] as const) {
      const git = await runGit(['ls-remote', repoUrl(gateway, tokens.tester!, `local/${owner}/${repo}`)]);
      expect(git.code).not.toBe(0);
      expect(git.stderr).toContain(`remote: "${shown}" is not a valid owner/repository`);
      expect(git.stderr).toContain('remote: hint: owner and repository names use letters, digits, ".", "_" and "-"');
      expect(git.stderr).toContain('The requested URL returned error: 400');
    }
    // A whole `..` segment never reaches the proxy: URL parsing folds it away, leaving no git URL.
    const dotdot = await rawGet(`/git/local/%2e%2e/app.git/info/refs?service=git-upload-pack`);
    expect(dotdot.status).toBe(404);
    expect(dotdot.body).toContain('not a smart-HTTP git URL');
    expect(upstream.requests.some((r) => r.url.includes('..'))).toBe(false);
    await expectClonesStillWork(gateway, tokens.tester!);
  });

  it('explains the URL form for an incomplete path (404) and refuses an unknown service (400)', async () => {
    const incomplete = await rawGet('/git/local/acme');
    expect(incomplete.status).toBe(404);
    expect(incomplete.body).toBe(
      'not a smart-HTTP git URL: clone http://<gateway>/git/<remote>/<owner>/<repo>.git (the dumb HTTP protocol is not served)\n',
    );
    const git = await runGit(['clone', repoUrl(gateway, tokens.tester!, 'local/acme'), '/nonexistent-never-created']);
    expect(git.code).not.toBe(0);
    expect(git.stderr).toContain('remote: not a smart-HTTP git URL: clone http://<gateway>/git/<remote>/<owner>/<repo>.git');

    const unknown = await rawGet('/git/local/acme/app.git/info/refs?service=git-foo');
    expect(unknown.status).toBe(400);
    expect(unknown.body).toContain('unsupported git service "git-foo"');
    expect(unknown.body).toContain('hint: only smart HTTP is served');
    await expectClonesStillWork(gateway, tokens.tester!);
  });

  it('passes a gzip-compressed upload-pack request (git compresses many haves) and records the haves', async () => {
    const work = await makeTempDir('negotiate');
    await gitOk(['clone', '-q', repoUrl(gateway, tokens.tester!, 'local/acme/negotiate'), work.path]);
    const direct = await makeTempDir('negotiate-upstream');
    await gitOk(['clone', '-q', path.join(upstream.root, 'acme/negotiate.git'), direct.path]);
    const moved = { GIT_AUTHOR_DATE: gitDate(3600), GIT_COMMITTER_DATE: gitDate(3600) };
    await gitOk(['commit', '-q', '--allow-empty', '-m', 'upstream moved on'], { cwd: direct.path, env: moved });
    await gitOk(['push', '-q', 'origin', 'HEAD:refs/heads/main'], { cwd: direct.path });
    const upstreamHead = (await gitOk(['rev-parse', 'HEAD'], { cwd: direct.path })).stdout.trim();
    // 40 commits the upstream has never seen: git offers them all as haves before finding common ground.
    for (let i = 0; i < 40; i++) {
      const date = gitDate(7200 + i * 60);
      await gitOk(['commit', '-q', '--allow-empty', '-m', `local ${i}`], { cwd: work.path, env: { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } });
    }

    upstream.requests.length = 0;
    await gitOk(['fetch', '-q', 'origin'], { cwd: work.path });
    expect((await gitOk(['rev-parse', 'origin/main'], { cwd: work.path })).stdout.trim()).toBe(upstreamHead);
    const upstreamPosts = upstream.requests.filter((r) => r.method === 'POST');
    const gzipped = upstreamPosts.flatMap((r, index) => (r.headers['content-encoding'] === 'gzip' ? [index] : []));
    expect(gzipped.length).toBeGreaterThan(0);

    const [session] = (await sessionsOf(gateway, 'tester')).filter((s) => s.repo === 'local/acme/negotiate');
    expect(session).toMatchObject({ operation: 'fetch', outcome: 'ok' });
    const shown = JSON.parse((await gateway.cli(['sessions', 'show', '--json', session!.id])).stdout) as { requests: RecordedRequest[] };
    // One client, one request at a time: the recorded POSTs are the upstream's POSTs, in order.
    const recordedPosts = shown.requests.filter((r) => r.method === 'POST');
    expect(recordedPosts).toHaveLength(upstreamPosts.length);
    for (const index of gzipped) {
      expect(recordedPosts[index]!.details).toMatchObject({ command: 'fetch', haveCount: expect.any(Number) });
      expect(recordedPosts[index]!.details.haveCount).toBeGreaterThan(0);
    }
    expect(recordedPosts.every((r) => r.outcome === 'ok' && r.details.unparsed === undefined)).toBe(true);
  });

  it('an agent disconnecting mid-clone leaves the gateway up and the request recorded as aborted', async () => {
    const body = `${pktLine(`want ${bigHead} multi_ack_detailed side-band-64k ofs-delta\n`)}0000${pktLine('done\n')}`;
    const request = http.request(`${gateway.url}/git/local/acme/big.git/git-upload-pack`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.quitter}`, 'content-type': 'application/x-git-upload-pack-request' },
    });
    request.on('error', () => undefined);
    const firstBytes = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no response bytes within the bound')), REQUEST_BOUND_MS);
      request.once('response', (response) => {
        response.on('error', () => undefined);
        response.once('data', (chunk: Buffer) => {
          clearTimeout(timer);
          request.destroy(); // hang up with most of the multi-MB pack still to come
          resolve(chunk.length);
        });
      });
    });
    request.end(body);
    expect(await firstBytes).toBeGreaterThan(0);

    const { session, requests } = await settledSession(gateway, adminTokens.gateway!, 'quitter');
    expect(session).toMatchObject({ repo: 'local/acme/big', operation: 'clone', outcome: 'aborted' });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.bytesOut).toBeLessThan(BIG_FILE_BYTES);
    await expectClonesStillWork(gateway, tokens.tester!);
  });
});

/** A GET whose path is sent byte for byte as written (fetch and URL strings would normalise it first). */
function rawGet(requestPath: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const options = { hostname, port, path: requestPath, headers: { authorization: `Bearer ${tokens.tester}` }, timeout: REQUEST_BOUND_MS };
    const request = http.request(options, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${requestPath} got no answer within the bound`)));
    request.on('error', reject);
    request.end();
  });
}
