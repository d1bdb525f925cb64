import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../../../src/errors.ts';
import { configuredCredentials, type RepoAddress } from '../../../src/git/index.ts';
import { createGitHubCredentials, type GitHubAppApi } from '../../../src/github/index.ts';

const HOUR = 60 * 60_000;
const github = { name: 'github', url: 'https://github.com' };
const at = (owner: string, repo: string): RepoAddress => ({ remote: github, owner, repo });
const silent = pino({ level: 'silent' });

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
  readonly response = { data: { message: this.message } };
}

/** An in-memory app API: which repos have an installation, and a log of the calls made. */
function fakeApi(installed: Record<string, number>, options: { mintError?: () => Error | undefined } = {}) {
  const calls: string[] = [];
  let serial = 0;
  const api: GitHubAppApi = {
    async findRepoInstallation(owner, repo) {
      calls.push(`find ${owner}/${repo}`);
      return installed[`${owner}/${repo}`] ?? null;
    },
    async createInstallationToken(installationId, repo, access) {
      calls.push(`mint ${installationId} ${repo} ${access}`);
      const error = options.mintError?.();
      if (error) throw error;
      serial += 1;
      return { token: `ghs_${serial}`, expiresAt: new Date(Date.now() + HOUR) };
    },
    async appPage() {
      calls.push('app');
      return 'https://github.com/apps/portcullis';
    },
  };
  return { api, calls };
}

const decode = (authorization: string | undefined) => Buffer.from(authorization!.replace(/^Basic /, ''), 'base64').toString();

async function refusal(promise: Promise<unknown>): Promise<PortcullisError> {
  const error = await promise.then(
    () => new Error('expected a refusal'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PortcullisError);
  return error as PortcullisError;
}

describe('GitHub App credentials', () => {
  it('injects x-access-token:<installation token> for the github remote, looked up and minted once', async () => {
    const { api, calls } = fakeApi({ 'acme/app': 11 });
    const credentials = createGitHubCredentials({ api, clock: { now: () => new Date() }, log: silent, fallback: configuredCredentials, apiUrl: 'https://api.github.com' });
    expect(decode(await credentials.authorizationFor(at('acme', 'app'), 'read'))).toBe('x-access-token:ghs_1');
    expect(decode(await credentials.authorizationFor(at('acme', 'app'), 'read'))).toBe('x-access-token:ghs_1');
    expect(decode(await credentials.authorizationFor(at('acme', 'app'), 'write'))).toBe('x-access-token:ghs_2');
    expect(calls).toEqual(['find acme/app', 'mint 11 app read', 'mint 11 app write']);
  });

  it('leaves other remotes to their configured auth', async () => {
    const { api, calls } = fakeApi({});
    const credentials = createGitHubCredentials({ api, clock: { now: () => new Date() }, log: silent, fallback: configuredCredentials, apiUrl: 'x' });
    const forge = { name: 'forge', url: 'https://git.example.com', auth: { bearer: 'forge-token' } };
    expect(await credentials.authorizationFor({ remote: forge, owner: 'a', repo: 'b' }, 'write')).toBe('Bearer forge-token');
    expect(calls).toEqual([]);
  });

  it('refuses a repository without the app with 403 and where to install it', async () => {
    const { api } = fakeApi({});
    const credentials = createGitHubCredentials({ api, clock: { now: () => new Date() }, log: silent, fallback: configuredCredentials, apiUrl: 'x' });
    const error = await refusal(credentials.authorizationFor(at('acme', 'secret-sauce'), 'read'));
    expect(error.httpStatus).toBe(403);
    expect(error.userMessage).toBe(
      'the portcullis GitHub App is not installed on acme/secret-sauce (or that repository does not exist); an org admin installs it at https://github.com/apps/portcullis/installations/new',
    );
  });

  it('looks again when the cached installation no longer covers the repository', async () => {
    const installed: Record<string, number> = { 'acme/app': 11 };
    let gone = false;
    const { api, calls } = fakeApi(installed, { mintError: () => (gone ? new ApiError(404, 'Not Found') : undefined) });
    const credentials = createGitHubCredentials({ api, clock: { now: () => new Date() }, log: silent, fallback: configuredCredentials, apiUrl: 'x' });
    await credentials.authorizationFor(at('acme', 'app'), 'read');
    gone = true;
    delete installed['acme/app'];
    const error = await refusal(credentials.authorizationFor(at('acme', 'app'), 'write'));
    expect(error.code).toBe('GITHUB_APP_NOT_INSTALLED');
    expect(calls).toEqual(['find acme/app', 'mint 11 app read', 'mint 11 app write', 'find acme/app', 'app']);
  });

  it('explains a suspended installation, and GitHub failures as 502 without the token', async () => {
    const { api } = fakeApi({ 'acme/app': 11 }, { mintError: () => new ApiError(403, 'This installation has been suspended') });
    const credentials = createGitHubCredentials({ api, clock: { now: () => new Date() }, log: silent, fallback: configuredCredentials, apiUrl: 'x' });
    const suspended = await refusal(credentials.authorizationFor(at('acme', 'app'), 'read'));
    expect(suspended.httpStatus).toBe(403);
    expect(suspended.userMessage).toContain('This installation has been suspended');

    const down = fakeApi({ 'acme/app': 11 }, { mintError: () => new ApiError(503, 'Service Unavailable') });
    const failing = createGitHubCredentials({ api: down.api, clock: { now: () => new Date() }, log: silent, fallback: configuredCredentials, apiUrl: 'https://ghe.example.com/api/v3' });
    const error = await refusal(failing.authorizationFor(at('acme', 'app'), 'read'));
    expect(error.httpStatus).toBe(502);
    expect(error.userMessage).toBe('could not get a GitHub installation token for acme/app: the GitHub API at https://ghe.example.com/api/v3 answered HTTP 503');
  });

  it('drops cached lookups when an installation changes', async () => {
    const installed: Record<string, number> = {};
    const { api, calls } = fakeApi(installed);
    const credentials = createGitHubCredentials({ api, clock: { now: () => new Date() }, log: silent, fallback: configuredCredentials, apiUrl: 'x' });
    await refusal(credentials.authorizationFor(at('acme', 'app'), 'read'));
    installed['acme/app'] = 12;
    await refusal(credentials.authorizationFor(at('acme', 'app'), 'read')); // still cached as not installed
    credentials.installationChanged(12);
    expect(decode(await credentials.authorizationFor(at('acme', 'app'), 'read'))).toBe('x-access-token:ghs_1');
    expect(calls.filter((c) => c.startsWith('find'))).toHaveLength(2);
  });
});
