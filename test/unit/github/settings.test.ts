import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { PortcullisError } from '../../../src/errors.ts';
import { normalizePrivateKey, remotesWithGitHubApp, resolveGitHubAppSettings, type GitHubAppSettings } from '../../../src/github/index.ts';

const { privateKey: PEM } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });

let dir: string;
let keyPath: string;
let cwdWithStrayPem: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'portcullis-github-settings-'));
  keyPath = path.join(dir, 'app.private-key.pem');
  writeFileSync(keyPath, PEM);
  // probot would pick this up on its own; portcullis must not.
  cwdWithStrayPem = mkdtempSync(path.join(dir, 'cwd-'));
  writeFileSync(path.join(cwdWithStrayPem, 'stray.pem'), PEM);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function settingsFrom(github: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): GitHubAppSettings | null {
  const config = parseConfig({ github }, 'portcullis.yml', env);
  return resolveGitHubAppSettings(config.github, env, cwdWithStrayPem);
}

function refusal(fn: () => unknown): PortcullisError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PortcullisError);
    return error as PortcullisError;
  }
  throw new Error('expected a PortcullisError');
}

describe('resolveGitHubAppSettings', () => {
  it('is off without an app id, even with a stray *.pem and probot variables around', () => {
    expect(settingsFrom({}, { WEBHOOK_SECRET: 'x', GHE_HOST: 'ghe.example.com' })).toBeNull();
  });

  it('reads probot environment variables: APP_ID, PRIVATE_KEY_PATH, WEBHOOK_SECRET', () => {
    const settings = settingsFrom({}, { APP_ID: '123', PRIVATE_KEY_PATH: keyPath, WEBHOOK_SECRET: 'hook-secret' });
    expect(settings).toMatchObject({ appId: '123', webhookSecret: 'hook-secret', apiUrl: 'https://api.github.com', gitUrl: 'https://github.com', gheHost: null });
    expect(settings!.privateKey).toContain('-----BEGIN RSA PRIVATE KEY-----');
  });

  it('accepts PRIVATE_KEY as the PEM text, with \\n escapes, or base64', () => {
    for (const form of [PEM, PEM.replace(/\n/g, '\\n'), Buffer.from(PEM).toString('base64'), PEM.replace(/\n/g, ' ')]) {
      const settings = settingsFrom({}, { APP_ID: '1', PRIVATE_KEY: form, WEBHOOK_SECRET: 's' });
      expect(settings!.privateKey.trim()).toBe(PEM.trim());
    }
  });

  it('takes portcullis.yml keys first, env: references resolved, the environment filling the rest', () => {
    const settings = settingsFrom(
      { appId: 42, webhookSecret: 'env:MY_HOOK_SECRET', privateKeyPath: keyPath },
      { APP_ID: '999', MY_HOOK_SECRET: 'from-env-ref', WEBHOOK_SECRET: 'ignored', GHE_HOST: 'ghe.example.com' },
    );
    expect(settings).toMatchObject({ appId: '42', webhookSecret: 'from-env-ref', gheHost: 'ghe.example.com' });
  });

  it('refuses to start the app without a webhook secret (probot would use "development")', () => {
    const error = refusal(() => settingsFrom({}, { APP_ID: '1', PRIVATE_KEY_PATH: keyPath }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.userMessage).toBe('the GitHub App is configured (APP_ID) but has no webhook secret');
    expect(error.hint).toContain('WEBHOOK_SECRET');
  });

  it('never discovers a *.pem file: no configured key is an error', () => {
    const error = refusal(() => settingsFrom({ appId: 7, webhookSecret: 's' }));
    expect(error.userMessage).toBe('the GitHub App is configured (github.appId in portcullis.yml) but has no private key');
    expect(error.hint).toContain('does not look for *.pem files');
  });

  it('names the source of a bad value and never prints the key', () => {
    expect(refusal(() => settingsFrom({}, { APP_ID: 'my-app', PRIVATE_KEY: PEM, WEBHOOK_SECRET: 's' })).userMessage).toBe(
      'APP_ID must be the numeric App ID, got "my-app"',
    );
    const broken = PEM.replace(/[A-Za-z]{20}\n/, 'AAAAAAAAAAAAAAAAAAAA\n');
    const error = refusal(() => settingsFrom({}, { APP_ID: '1', PRIVATE_KEY: `junk ${broken.slice(0, 40)}`, WEBHOOK_SECRET: 's' }));
    expect(error.userMessage).toMatch(/^PRIVATE_KEY (is not a PEM private key|does not hold a readable private key)/);
    expect(error.userMessage).not.toContain('MII');
    const missing = refusal(() => settingsFrom({}, { APP_ID: '1', PRIVATE_KEY_PATH: 'nope.pem', WEBHOOK_SECRET: 's' }));
    expect(missing.userMessage).toBe(`PRIVATE_KEY_PATH: cannot read the private key file ${path.join(cwdWithStrayPem, 'nope.pem')} (ENOENT)`);
  });

  it('wants an absolute github.privateKeyPath and one key source in the file', () => {
    expect(refusal(() => settingsFrom({ appId: 1, webhookSecret: 's', privateKeyPath: 'keys/app.pem' })).userMessage).toBe(
      'github.privateKeyPath in portcullis.yml must be an absolute path, got "keys/app.pem"',
    );
    expect(refusal(() => settingsFrom({ appId: 1, webhookSecret: 's', privateKeyPath: keyPath, privateKey: PEM })).userMessage).toBe(
      'portcullis.yml sets both github.privateKey and github.privateKeyPath',
    );
  });

  it('says so when portcullis.yml configures the app but forgets the app id', () => {
    expect(refusal(() => settingsFrom({ webhookSecret: 's', gheHost: 'ghe.example.com' })).userMessage).toBe(
      'portcullis.yml sets github.webhookSecret, github.gheHost but no app id, so the GitHub App is off',
    );
  });

  it('GHE_HOST moves both the API (/api/v3) and the git endpoint to that host', () => {
    const env = { APP_ID: '5', PRIVATE_KEY_PATH: keyPath, WEBHOOK_SECRET: 's', GHE_HOST: 'GHE.example.com' };
    expect(settingsFrom({}, env)).toMatchObject({ apiUrl: 'https://ghe.example.com/api/v3', gitUrl: 'https://ghe.example.com', gheHost: 'ghe.example.com' });
    expect(settingsFrom({}, { ...env, GHE_PROTOCOL: 'http', GHE_HOST: '127.0.0.1:8443' })).toMatchObject({
      apiUrl: 'http://127.0.0.1:8443/api/v3',
      gitUrl: 'http://127.0.0.1:8443',
    });
    expect(refusal(() => settingsFrom({}, { ...env, GHE_HOST: 'https://ghe.example.com' })).userMessage).toBe(
      'GHE_HOST must be a host name such as github.example.com, got "https://ghe.example.com"',
    );
    expect(refusal(() => settingsFrom({}, { ...env, GHE_PROTOCOL: 'ftp' })).userMessage).toBe('GHE_PROTOCOL must be https or http, got "ftp"');
  });

  it('github.apiUrl overrides where the API is (tests, proxies), and only the API', () => {
    const settings = settingsFrom({ apiUrl: 'http://127.0.0.1:9999/' }, { APP_ID: '5', PRIVATE_KEY_PATH: keyPath, WEBHOOK_SECRET: 's' });
    expect(settings).toMatchObject({ apiUrl: 'http://127.0.0.1:9999', gitUrl: 'https://github.com' });
  });
});

describe('remotesWithGitHubApp', () => {
  const ghe = { appId: '1', privateKey: PEM, webhookSecret: 's', apiUrl: 'https://ghe.example.com/api/v3', gitUrl: 'https://ghe.example.com', gheHost: 'ghe.example.com' };

  it('points the default github remote at the Enterprise host', () => {
    const remotes = parseConfig({}, 'x', {}).remotes;
    expect(remotesWithGitHubApp(remotes, ghe)).toEqual([{ name: 'github', url: 'https://ghe.example.com' }]);
  });

  it('keeps a github remote url the user chose, and other remotes as they are', () => {
    const remotes = [
      { name: 'github', url: 'http://127.0.0.1:7000' },
      { name: 'forge', url: 'https://git.example.com', auth: { bearer: 't' } },
    ];
    expect(remotesWithGitHubApp(remotes, ghe)).toEqual(remotes);
    expect(remotesWithGitHubApp([{ name: 'github', url: 'https://github.com' }], { ...ghe, gheHost: null, gitUrl: 'https://github.com' })).toEqual([
      { name: 'github', url: 'https://github.com' },
    ]);
  });

  it('refuses a github remote with auth of its own, or none named github', () => {
    expect(refusal(() => remotesWithGitHubApp([{ name: 'github', url: 'https://github.com', auth: { bearer: 'ghp_x' } }], ghe)).userMessage).toBe(
      'remote github has auth in portcullis.yml, and the GitHub App is configured too',
    );
    expect(refusal(() => remotesWithGitHubApp([{ name: 'forge', url: 'https://git.example.com' }], ghe)).userMessage).toBe(
      'the GitHub App is configured but no remote is named "github"',
    );
  });
});

describe('normalizePrivateKey', () => {
  it('accepts PKCS#8 too and rebuilds a key flattened onto one line', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    expect(normalizePrivateKey(privateKey.replace(/\n/g, ''), 'k').trim()).toBe(privateKey.trim());
  });
});
