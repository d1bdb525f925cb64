import { describe, expect, it } from 'vitest';
import type { RemoteConfig } from '../../../src/config/index.ts';
import { upstreamAuthorization, upstreamRefusal, upstreamUrl } from '../../../src/git/upstream.ts';
import type { GitEndpoint, GitService, RepoAddress } from '../../../src/git/upstream.ts';

const FAKE_BEARER = 'ghp_FAKE0000fake0000FAKE0000fake0000FAKE';
const FAKE_USER = 'fake-service-user';
const FAKE_PASSWORD = 'fake-password-not-real';

function address(remote: Partial<RemoteConfig> = {}, owner = 'acme', repo = 'app'): RepoAddress {
  return { remote: { name: 'github', url: 'https://github.com', ...remote }, owner, repo };
}

describe('upstreamUrl', () => {
  it.each([
    {
      what: 'info/refs carries the service query',
      remoteUrl: 'https://github.com',
      endpoint: 'info/refs' as GitEndpoint,
      service: 'git-upload-pack' as GitService,
      expected: 'https://github.com/acme/app.git/info/refs?service=git-upload-pack',
    },
    {
      what: 'info/refs for a push',
      remoteUrl: 'https://github.com',
      endpoint: 'info/refs' as GitEndpoint,
      service: 'git-receive-pack' as GitService,
      expected: 'https://github.com/acme/app.git/info/refs?service=git-receive-pack',
    },
    {
      what: 'upload-pack has no query',
      remoteUrl: 'https://github.com',
      endpoint: 'git-upload-pack' as GitEndpoint,
      service: 'git-upload-pack' as GitService,
      expected: 'https://github.com/acme/app.git/git-upload-pack',
    },
    {
      what: 'receive-pack has no query',
      remoteUrl: 'https://github.com',
      endpoint: 'git-receive-pack' as GitEndpoint,
      service: 'git-receive-pack' as GitService,
      expected: 'https://github.com/acme/app.git/git-receive-pack',
    },
    {
      what: 'a trailing slash on the remote url',
      remoteUrl: 'https://github.com/',
      endpoint: 'git-upload-pack' as GitEndpoint,
      service: 'git-upload-pack' as GitService,
      expected: 'https://github.com/acme/app.git/git-upload-pack',
    },
    {
      what: 'several trailing slashes',
      remoteUrl: 'https://github.com///',
      endpoint: 'git-upload-pack' as GitEndpoint,
      service: 'git-upload-pack' as GitService,
      expected: 'https://github.com/acme/app.git/git-upload-pack',
    },
    {
      what: 'a remote under a path, with a port, over http',
      remoteUrl: 'http://127.0.0.1:3000/gitea/',
      endpoint: 'info/refs' as GitEndpoint,
      service: 'git-upload-pack' as GitService,
      expected: 'http://127.0.0.1:3000/gitea/acme/app.git/info/refs?service=git-upload-pack',
    },
  ])('$what', ({ remoteUrl, endpoint, service, expected }) => {
    expect(upstreamUrl(address({ url: remoteUrl }), endpoint, service).href).toBe(expected);
  });

  it.each([
    { owner: 'a b', repo: 'c', path: '/a%20b/c.git/git-upload-pack' },
    { owner: 'acme', repo: 'x?y#z', path: '/acme/x%3Fy%23z.git/git-upload-pack' },
    { owner: 'o/../../evil', repo: 'r', path: '/o%2F..%2F..%2Fevil/r.git/git-upload-pack' },
    { owner: 'acme', repo: 'app.io', path: '/acme/app.io.git/git-upload-pack' },
  ])('encodes owner $owner and repo $repo as single path segments', ({ owner, repo, path }) => {
    const url = upstreamUrl(address({ url: 'https://git.example' }, owner, repo), 'git-upload-pack', 'git-upload-pack');
    expect(url.host).toBe('git.example');
    expect(url.pathname).toBe(path);
    expect(url.search).toBe('');
    expect(url.hash).toBe('');
  });
});

describe('upstreamAuthorization', () => {
  it.each([
    { what: 'no auth configured', auth: undefined, expected: undefined },
    { what: 'a bearer token', auth: { bearer: FAKE_BEARER }, expected: `Bearer ${FAKE_BEARER}` },
    {
      what: 'basic credentials',
      auth: { basic: { username: FAKE_USER, password: FAKE_PASSWORD } },
      expected: `Basic ${Buffer.from(`${FAKE_USER}:${FAKE_PASSWORD}`).toString('base64')}`,
    },
    {
      what: 'basic with UTF-8 and a colon in the password',
      auth: { basic: { username: 'ü', password: 'p:w' } },
      expected: `Basic ${Buffer.from('ü:p:w', 'utf8').toString('base64')}`,
    },
  ])('$what', ({ auth, expected }) => {
    expect(upstreamAuthorization(auth)).toBe(expected);
  });
});

describe('upstreamRefusal', () => {
  const bearer = address({ auth: { bearer: FAKE_BEARER } });
  const basic = address({ name: 'forge', url: 'https://forge.example', auth: { basic: { username: FAKE_USER, password: FAKE_PASSWORD } } });
  const anonymous = address();

  it.each([
    {
      status: 401, addr: bearer, code: 'UPSTREAM_AUTH_FAILED', httpStatus: 502,
      message: "remote github refused the gateway's credential for acme/app (HTTP 401)",
    },
    {
      status: 403, addr: basic, code: 'UPSTREAM_AUTH_FAILED', httpStatus: 502,
      message: "remote forge refused the gateway's credential for acme/app (HTTP 403)",
    },
    {
      status: 401, addr: anonymous, code: 'UPSTREAM_AUTH_FAILED', httpStatus: 502,
      message: 'remote github requires credentials for acme/app (HTTP 401) and none are configured',
    },
    {
      status: 403, addr: anonymous, code: 'UPSTREAM_AUTH_FAILED', httpStatus: 502,
      message: 'remote github requires credentials for acme/app (HTTP 403) and none are configured',
    },
    {
      status: 404, addr: bearer, code: 'UPSTREAM_NOT_FOUND', httpStatus: 404,
      message: 'repository acme/app was not found on remote github',
    },
    { status: 500, addr: bearer, code: 'UPSTREAM_ERROR', httpStatus: 502, message: 'remote github answered HTTP 500 for acme/app' },
    { status: 502, addr: anonymous, code: 'UPSTREAM_ERROR', httpStatus: 502, message: 'remote github answered HTTP 502 for acme/app' },
    { status: 503, addr: basic, code: 'UPSTREAM_ERROR', httpStatus: 502, message: 'remote forge answered HTTP 503 for acme/app' },
    { status: 429, addr: bearer, code: 'UPSTREAM_ERROR', httpStatus: 502, message: 'remote github answered HTTP 429 for acme/app' },
  ])('$status with $addr.remote.name ($message)', ({ status, addr, code, httpStatus, message }) => {
    const error = upstreamRefusal(status, addr);
    expect(error.code).toBe(code);
    expect(error.httpStatus).toBe(httpStatus);
    expect(error.userMessage).toBe(message);
    expect(error.hint).toBeTruthy();
    const shown = JSON.stringify({ ...error.toJSON(), message: error.message, hint: error.hint });
    for (const secret of [FAKE_BEARER, FAKE_USER, FAKE_PASSWORD, Buffer.from(`${FAKE_USER}:${FAKE_PASSWORD}`).toString('base64')]) {
      expect(shown).not.toContain(secret);
    }
  });

  it('points an admin at the remote’s auth for credential refusals', () => {
    expect(upstreamRefusal(401, bearer).hint).toContain('auth');
    expect(upstreamRefusal(401, bearer).hint).toContain('github');
    expect(upstreamRefusal(404, bearer).hint).toMatch(/owner|repository/);
  });
});
