import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../../src/config/index.ts';
import { PortcullisError } from '../../../src/errors.ts';

/** Runs `fn` and returns the PortcullisError it throws (fails the test if it throws nothing else). */
function caught(fn: () => unknown): PortcullisError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PortcullisError);
    return error as PortcullisError;
  }
  throw new Error('expected a PortcullisError, nothing was thrown');
}

async function caughtAsync(promise: Promise<unknown>): Promise<PortcullisError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a PortcullisError, the promise resolved');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PortcullisError);
  return error as PortcullisError;
}

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'portcullis-config-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(relative: string, text: string): string {
  const file = path.join(dir, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

describe('loadConfig: which file', () => {
  it('runs on built-in defaults when there is no file (source null, paths from cwd)', async () => {
    const loaded = await loadConfig({ cwd: dir, env: {} });
    expect(loaded.source).toBeNull();
    expect(loaded.config).toEqual({
      listen: { http: 8080, pg: 6433, host: '127.0.0.1' },
      dataDir: path.join(dir, 'data'),
      policy: path.join(dir, 'rules', 'policy.yml'),
      remotes: [{ name: 'github', url: 'https://github.com' }],
      databases: [],
      audit: { checkpointEvery: 1000, checkpointIntervalMs: 60_000 },
      identity: { oidc: [] },
      limits: {
        upstreamTimeoutMs: 30_000,
        maxPushBytes: 2 * 1024 ** 3,
        scanTimeout: '5m',
        mirrorFetchTimeout: '10m',
        maxPgMessageBytes: 64 * 1024 ** 2,
        maxPgConnections: 500,
      },
      log: { level: 'info' },
    });
  });

  it('reads ./portcullis.yml from the working directory', async () => {
    const file = writeConfig('portcullis.yml', 'listen: { http: 9000 }\n');
    const loaded = await loadConfig({ cwd: dir, env: {} });
    expect(loaded.source).toBe(file);
    expect(loaded.config.listen).toEqual({ http: 9000, pg: 6433, host: '127.0.0.1' });
  });

  it('treats an empty file as all defaults, with paths relative to the file', async () => {
    const file = writeConfig('etc/portcullis.yml', '');
    const loaded = await loadConfig({ cwd: dir, env: {}, configPath: file });
    expect(loaded.source).toBe(file);
    expect(loaded.config.dataDir).toBe(path.join(dir, 'etc', 'data'));
    expect(loaded.config.remotes).toEqual([{ name: 'github', url: 'https://github.com' }]);
  });

  it.each([
    { how: '--config', options: { configPath: 'missing.yml' } },
    { how: 'PORTCULLIS_CONFIG', options: { env: { PORTCULLIS_CONFIG: 'missing.yml' } } },
  ])('refuses a $how path that does not exist with CONFIG_NOT_FOUND naming the path', async ({ options }) => {
    writeConfig('portcullis.yml', 'listen: { http: 9000 }\n'); // present, but not what was asked for
    const error = await caughtAsync(loadConfig({ cwd: dir, env: {}, ...options }));
    expect(error.code).toBe('CONFIG_NOT_FOUND');
    expect(error.userMessage).toContain(path.join(dir, 'missing.yml'));
    expect(error.hint).toMatch(/--config|PORTCULLIS_CONFIG/);
  });

  it('honours PORTCULLIS_CONFIG, relative to cwd', async () => {
    const file = writeConfig('conf/gateway.yml', 'listen: { http: 9100 }\n');
    const loaded = await loadConfig({ cwd: dir, env: { PORTCULLIS_CONFIG: 'conf/gateway.yml' } });
    expect(loaded.source).toBe(file);
    expect(loaded.config.listen.http).toBe(9100);
  });

  it('lets --config win over PORTCULLIS_CONFIG and ./portcullis.yml', async () => {
    writeConfig('portcullis.yml', 'listen: { http: 1 }\n');
    writeConfig('env.yml', 'listen: { http: 2 }\n');
    const file = writeConfig('flag.yml', 'listen: { http: 3 }\n');
    const loaded = await loadConfig({ cwd: dir, env: { PORTCULLIS_CONFIG: 'env.yml' }, configPath: 'flag.yml' });
    expect(loaded.source).toBe(file);
    expect(loaded.config.listen.http).toBe(3);
  });
});

describe('loadConfig: file contents', () => {
  it('refuses invalid YAML, naming the file', async () => {
    const file = writeConfig('portcullis.yml', 'listen: { http: 8080\nremotes: [\n');
    const error = await caughtAsync(loadConfig({ cwd: dir, env: {} }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.userMessage).toContain(file);
    expect(error.userMessage).toContain('not valid YAML');
  });

  it('names the file and the key path of a schema error', async () => {
    const file = writeConfig('portcullis.yml', 'remotes:\n  - name: github\n    url: ftp://github.com\n');
    const error = await caughtAsync(loadConfig({ cwd: dir, env: {} }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.userMessage).toContain(file);
    expect(error.userMessage).toContain('remotes[0].url: must be an http:// or https:// URL');
  });

  it('resolves dataDir and policy relative to the directory of the config file, not cwd', async () => {
    const file = writeConfig('etc/portcullis/portcullis.yml', 'dataDir: ../state\npolicy: rules/p.yml\n');
    const loaded = await loadConfig({ cwd: path.join(dir, 'elsewhere'), env: {}, configPath: file });
    expect(loaded.config.dataDir).toBe(path.join(dir, 'etc', 'state'));
    expect(loaded.config.policy).toBe(path.join(dir, 'etc', 'portcullis', 'rules', 'p.yml'));
  });

  it('keeps absolute dataDir and policy as written', async () => {
    const absolute = path.join(dir, 'abs');
    writeConfig('portcullis.yml', `dataDir: ${absolute}/data\npolicy: ${absolute}/policy.yml\n`);
    const loaded = await loadConfig({ cwd: dir, env: {} });
    expect(loaded.config.dataDir).toBe(`${absolute}/data`);
    expect(loaded.config.policy).toBe(`${absolute}/policy.yml`);
  });

  it('resolves env: secrets from the env passed in', async () => {
    writeConfig('portcullis.yml', 'remotes:\n  - name: github\n    url: https://github.com\n    auth: { bearer: env:GH }\n');
    const loaded = await loadConfig({ cwd: dir, env: { GH: 'fake-token-for-tests' } });
    expect(loaded.config.remotes[0]!.auth).toEqual({ bearer: 'fake-token-for-tests' });
  });
});

describe('parseConfig: validation errors name the origin and the key path', () => {
  const remote = { name: 'github', url: 'https://github.com' };
  it.each([
    { what: 'an unknown top-level key', raw: { remots: [] }, expected: '(top level): unknown key(s) "remots"' },
    { what: 'an unknown nested key', raw: { listen: { htpp: 80 } }, expected: 'listen: unknown key(s) "htpp"' },
    { what: 'an unknown key in a remote', raw: { remotes: [{ ...remote, token: 'x' }] }, expected: 'remotes[0]: unknown key(s) "token"' },
    { what: 'an unknown key in auth', raw: { remotes: [{ ...remote, auth: { bearer: 'x', extra: 1 } }] }, expected: 'remotes[0].auth: unknown key(s) "extra"' },
    { what: 'an auth of neither shape', raw: { remotes: [{ ...remote, auth: { token: 'x' } }] }, expected: 'remotes[0].auth:' },
    { what: 'an upper-case remote name', raw: { remotes: [{ ...remote, name: 'GitHub' }] }, expected: 'remotes[0].name: must be lowercase' },
    { what: 'a remote name with a slash', raw: { remotes: [remote, { ...remote, name: 'a/b' }] }, expected: 'remotes[1].name: must be lowercase' },
    { what: 'an empty remote name', raw: { remotes: [{ ...remote, name: '' }] }, expected: 'remotes[0].name:' },
    { what: 'an ftp url', raw: { remotes: [{ ...remote, url: 'ftp://github.com' }] }, expected: 'remotes[0].url: must be an http:// or https:// URL' },
    { what: 'a url that is not one', raw: { remotes: [{ ...remote, url: 'github.com' }] }, expected: 'remotes[0].url: must be an http:// or https:// URL' },
    { what: 'a missing url', raw: { remotes: [{ name: 'github' }] }, expected: 'remotes[0].url:' },
    { what: 'duplicate remote names', raw: { remotes: [remote, { ...remote, url: 'https://other.example' }] }, expected: 'remotes: remote name "github" is used twice; names must be unique' },
    { what: 'no remotes at all', raw: { remotes: [] }, expected: 'remotes: at least one remote is needed' },
    { what: 'a port out of range', raw: { listen: { http: 70000 } }, expected: 'listen.http:' },
    { what: 'a port given as text', raw: { listen: { http: '8080' } }, expected: 'listen.http:' },
    { what: 'an unknown log level', raw: { log: { level: 'verbose' } }, expected: 'log.level:' },
    { what: 'a zero upstream timeout', raw: { limits: { upstreamTimeoutMs: 0 } }, expected: 'limits.upstreamTimeoutMs:' },
    { what: 'an OIDC provider without scopes', raw: { identity: { oidc: [{ issuer: 'https://i', audience: 'a' }] } }, expected: 'identity.oidc[0].scopes:' },
    { what: 'a list at the top level', raw: [1, 2], expected: '(top level):' },
    { what: 'a string at the top level', raw: 'listen', expected: '(top level):' },
  ])('$what', ({ raw, expected }) => {
    const error = caught(() => parseConfig(raw, '/etc/portcullis.yml', {}));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.userMessage).toMatch(/^\/etc\/portcullis\.yml is not a valid portcullis config:\n/);
    expect(error.userMessage).toContain(expected);
    expect(error.hint).toContain('README.md');
  });

  it('lists every problem, one line each', () => {
    const error = caught(() => parseConfig({ listen: { http: -1 }, remotes: [{ name: 'A', url: 'x' }] }, 'f.yml', {}));
    const lines = error.userMessage.split('\n').slice(1);
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => l.trim().split(':')[0])).toEqual(expect.arrayContaining(['listen.http', 'remotes[0].name', 'remotes[0].url']));
  });

  it('accepts several valid remotes, http and https, with a path and a port', () => {
    const config = parseConfig(
      {
        remotes: [
          { name: 'github', url: 'https://github.com' },
          { name: 'forge_2', url: 'http://127.0.0.1:3000/gitea/' },
          { name: '0-local', url: 'https://git.internal.example/scm' },
        ],
      },
      'f.yml',
      {},
    );
    expect(config.remotes.map((r) => r.name)).toEqual(['github', 'forge_2', '0-local']);
  });
});

describe('parseConfig: env: secrets', () => {
  const base = { name: 'forge', url: 'https://git.example' };
  it.each([
    {
      what: 'bearer from the environment',
      auth: { bearer: 'env:FORGE_TOKEN' },
      env: { FORGE_TOKEN: 'fake-bearer' },
      expected: { bearer: 'fake-bearer' },
    },
    {
      what: 'basic username and password from the environment',
      auth: { basic: { username: 'env:FORGE_USER', password: 'env:FORGE_PASSWORD' } },
      env: { FORGE_USER: 'svc', FORGE_PASSWORD: 'fake-password' },
      expected: { basic: { username: 'svc', password: 'fake-password' } },
    },
    {
      what: 'basic with an inline username and an env password',
      auth: { basic: { username: 'portcullis', password: 'env:FORGE_PASSWORD' } },
      env: { FORGE_PASSWORD: 'fake-password' },
      expected: { basic: { username: 'portcullis', password: 'fake-password' } },
    },
    {
      what: 'inline values left as written',
      auth: { bearer: 'inline-fake-token' },
      env: {},
      expected: { bearer: 'inline-fake-token' },
    },
  ])('$what', ({ auth, env, expected }) => {
    const config = parseConfig({ remotes: [base, { ...base, name: 'other', auth }] }, 'f.yml', env);
    expect(config.remotes[1]!.auth).toEqual(expected);
    expect(config.remotes[0]!.auth).toBeUndefined();
  });

  it.each([
    { what: 'bearer unset', auth: { bearer: 'env:NOPE' }, env: {}, key: 'remotes[1].auth.bearer', variable: 'NOPE' },
    { what: 'bearer empty', auth: { bearer: 'env:EMPTY' }, env: { EMPTY: '' }, key: 'remotes[1].auth.bearer', variable: 'EMPTY' },
    {
      what: 'basic password unset',
      auth: { basic: { username: 'u', password: 'env:FORGE_PASSWORD' } },
      env: {},
      key: 'remotes[1].auth.basic.password',
      variable: 'FORGE_PASSWORD',
    },
    {
      what: 'basic username unset',
      auth: { basic: { username: 'env:FORGE_USER', password: 'p' } },
      env: {},
      key: 'remotes[1].auth.basic.username',
      variable: 'FORGE_USER',
    },
  ])('names the file, the key and the variable when $what', ({ auth, env, key, variable }) => {
    const error = caught(() => parseConfig({ remotes: [base, { ...base, name: 'other', auth }] }, '/srv/portcullis.yml', env));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.userMessage).toBe(`/srv/portcullis.yml: ${key}: environment variable ${variable} is not set or empty`);
    expect(error.hint).toContain(`export ${variable}=`);
  });

  it('never puts a resolved secret in an error about another key', () => {
    const error = caught(() =>
      parseConfig(
        { remotes: [{ ...base, auth: { basic: { username: 'env:FAKE_SECRET', password: 'env:MISSING' } } }] },
        'f.yml',
        { FAKE_SECRET: 'fake-secret-value' },
      ),
    );
    expect(error.userMessage).toContain('MISSING');
    expect(JSON.stringify(error.toJSON())).not.toContain('fake-secret-value');
  });
});
