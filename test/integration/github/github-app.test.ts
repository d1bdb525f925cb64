/**
 * The GitHub App end to end, twice: github.com-style (API at the root of one host, git on another,
 * `github.apiUrl` pointing portcullis at the API) and Enterprise Server-style (GHE_HOST: API under
 * `/api/v3`, checked against the ghes-3.19 description, git on the same host, and the default
 * `github` remote moved there). A real `portcullis serve`, real git, the fake GitHub validating
 * every API call against GitHub's OpenAPI description.
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../helpers/gateway.ts';
import { cleanPortcullisEnv, startServe } from '../../helpers/serve-process.ts';
import { gitOk, runGit } from '../../helpers/git-cli.ts';
import { startGitUpstream, type GitUpstream } from '../../helpers/git-upstream.ts';
import { startFakeGitHub, type FakeGitHub } from '../../helpers/github/fake-github.ts';
import { deliverWebhook, examplePayload } from '../../helpers/github/webhooks.ts';
import { cleanupTempDirs, createWorkRepo, makeTempDir, seedUpstreamRepo } from '../../helpers/repos.ts';
import { startTokenCheckedUpstream, type TokenCheckedUpstream } from './token-checked-upstream.ts';

const APP_ID = 31337;
const INSTALLATION_ID = 4242;
const WEBHOOK_SECRET = 'webhook-secret-FAKE-for-tests';
const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

interface Setup {
  github: FakeGitHub;
  gateway: RunningGateway;
  /** Where the bare repositories live. */
  git: GitUpstream;
  /** The `github` remote's url the gateway should report. */
  remoteUrl: string;
  /** Each request the git host saw: its status (200 only for a valid token) and, where recorded, the Basic user name. */
  gitAuth(): Array<{ username?: string; status: number }>;
  close(): Promise<void>;
}

async function writeKey(): Promise<string> {
  const dir = await makeTempDir('github-app-key');
  const keyPath = path.join(dir.path, 'portcullis.private-key.pem');
  await writeFile(keyPath, keys.privateKey, { mode: 0o600 });
  return keyPath;
}

const setups: Array<{ name: string; start(): Promise<Setup> }> = [
  {
    name: 'github.com-style (github.apiUrl, git on its own host)',
    async start() {
      const github = await startFakeGitHub({ spec: 'api.github.com', appId: APP_ID, publicKeyPem: keys.publicKey });
      const front: TokenCheckedUpstream = await startTokenCheckedUpstream(github);
      const gateway = await startGateway({
        config: {
          remotes: [{ name: 'github', url: front.url }],
          github: { appId: APP_ID, privateKeyPath: await writeKey(), webhookSecret: 'env:PCL_TEST_WEBHOOK_SECRET', apiUrl: github.baseUrl },
        },
        env: { PCL_TEST_WEBHOOK_SECRET: WEBHOOK_SECRET },
      });
      return {
        github,
        gateway,
        git: front.git,
        remoteUrl: front.url,
        gitAuth: () => front.checks.map((c) => ({ username: c.username, status: c.status })),
        async close() {
          await gateway.stop();
          await front.close();
          await github.close();
        },
      };
    },
  },
  {
    name: 'Enterprise Server-style (GHE_HOST, /api/v3, ghes-3.19)',
    async start() {
      const git = await startGitUpstream();
      const github = await startFakeGitHub({ spec: 'ghes-3.19', pathPrefix: '/api/v3', appId: APP_ID, publicKeyPem: keys.publicKey, gitUpstreamUrl: git.url });
      // No remotes in portcullis.yml: the default `github` remote must follow GHE_HOST.
      const gateway = await startGateway({
        config: { github: { appId: String(APP_ID), privateKeyPath: await writeKey() } },
        env: { GHE_HOST: github.host, GHE_PROTOCOL: 'http', WEBHOOK_SECRET },
      });
      return {
        github,
        gateway,
        git,
        remoteUrl: `http://${github.host}`,
        // The fake's own git endpoint answers 200 only to its unexpired tokens, scoped to the repository.
        gitAuth: () => github.gitRequests.map((r) => ({ status: r.status })),
        async close() {
          await gateway.stop();
          await github.close();
          await git.close();
        },
      };
    },
  },
];

afterAll(() => cleanupTempDirs());

describe.each(setups)('GitHub App, $name', ({ start }) => {
  let setup: Setup;
  let seeded: string[];
  const agentTokens: Record<string, string> = {};

  const repoUrl = (token: string, repo: string) => `${setup.gateway.url.replace('http://', `http://agent:${token}@`)}/git/github/${repo}.git`;
  const tokenRequests = () => setup.github.requests.filter((r) => r.operationId === 'apps/create-installation-access-token');

  beforeAll(async () => {
    setup = await start();
    seeded = await seedUpstreamRepo(setup.git, 'acme', 'app', [
      { message: 'first', files: { 'README.md': '# app\n' } },
      { message: 'second', files: { 'src/main.txt': 'hello\n' } },
    ]);
    await seedUpstreamRepo(setup.git, 'acme', 'lib', [{ message: 'first', files: { 'lib.txt': 'lib\n' } }]);
    await seedUpstreamRepo(setup.git, 'acme', 'unlisted', [{ message: 'first', files: { 'README.md': '# unlisted\n' } }]);
    setup.github.addInstallation({ id: INSTALLATION_ID, account: 'acme', repositories: ['app', 'lib'] });
    agentTokens.reader = await setup.gateway.addAgent('reader', { read: ['github/acme/*'] });
    agentTokens.writer = await setup.gateway.addAgent('writer', { write: ['github/acme/app'] });
  });

  afterAll(() => setup?.close());

  it('clones through the gateway with an installation token scoped to the repository and to contents: read', async () => {
    const work = await makeTempDir('github-clone');
    await gitOk(['clone', '-q', repoUrl(agentTokens.reader!, 'acme/app'), work.path]);
    expect((await gitOk(['rev-parse', 'HEAD'], { cwd: work.path })).stdout.trim()).toBe(seeded[1]);

    expect(setup.github.violations).toEqual([]);
    const lookups = setup.github.requests.filter((r) => r.operationId === 'apps/get-repo-installation');
    expect(lookups.map((r) => [r.method, r.path, r.auth])).toEqual([['GET', `${setup.github.baseUrl.replace(/^http:\/\/[^/]+/, '')}/repos/acme/app/installation`, 'jwt']]);
    // One token for the whole clone (several HTTP requests), asked for with the app's JWT.
    expect(tokenRequests().map((r) => [r.method, r.auth, r.status, r.body])).toEqual([
      ['POST', 'jwt', 201, { repositories: ['app'], permissions: { contents: 'read' } }],
    ]);
    expect(tokenRequests()[0]!.path).toMatch(new RegExp(`/app/installations/${INSTALLATION_ID}/access_tokens$`));
    expect(setup.github.tokens).toHaveLength(1);
    expect(setup.github.tokens[0]).toMatchObject({ installationId: INSTALLATION_ID, repositories: ['app'], permissions: { contents: 'read' } });
    expect(setup.gitAuth().length).toBeGreaterThanOrEqual(2);
    expect(setup.gitAuth().every((r) => (r.username ?? 'x-access-token') === 'x-access-token' && r.status === 200)).toBe(true);
    expect(setup.gateway.output()).toContain(`remote   github = ${setup.remoteUrl} `);
  });

  it('pushes with a separate contents: write token, and never shows a token to the agent or the logs', async () => {
    const work = await makeTempDir('github-push');
    await gitOk(['clone', '-q', repoUrl(agentTokens.writer!, 'acme/app'), work.path]);
    await createWorkRepo(work.path, [{ message: 'agent change', files: { 'src/feature.txt': 'new feature\n' } }]);
    const push = await gitOk(['push', 'origin', 'HEAD:refs/heads/agent/feature'], { cwd: work.path });
    expect(push.stderr).toContain('agent/feature');
    const pushed = await runGit(['--git-dir', path.join(setup.git.root, 'acme/app.git'), 'rev-parse', 'refs/heads/agent/feature']);
    expect(pushed.stdout.trim()).toBe((await gitOk(['rev-parse', 'HEAD'], { cwd: work.path })).stdout.trim());

    expect(setup.github.violations).toEqual([]);
    expect(tokenRequests().map((r) => r.body)).toContainEqual({ repositories: ['app'], permissions: { contents: 'write' } });
    const output = setup.gateway.output();
    for (const { token } of setup.github.tokens) {
      expect(output).not.toContain(token);
      expect(push.stderr + push.stdout).not.toContain(token);
    }
    expect(output).toContain('minted a GitHub installation token');
  });

  it('renews a token once fewer than 5 minutes are left before its expires_at', async () => {
    const libTokens = () => tokenRequests().filter((r) => (r.body as { repositories: string[] }).repositories[0] === 'lib');
    // The renewal window opens 3 s after each mint. A clone on a loaded machine can itself outlast that
    // (and mint again), so the test counts mints before and after the window rather than exact numbers;
    // the exact 5-minute edge is the token cache's unit test, on a manual clock.
    setup.github.tokenTtlMs = 5 * 60_000 + 3000;
    try {
      await gitOk(['clone', '-q', repoUrl(agentTokens.reader!, 'acme/lib'), (await makeTempDir('github-renew-1')).path]);
      const minted = libTokens().length;
      expect(minted).toBeGreaterThanOrEqual(1);
      // Still valid at GitHub for 5 minutes, but inside the renewal window: the next clone mints anew.
      await new Promise((resolve) => setTimeout(resolve, 3500));
      await gitOk(['clone', '-q', repoUrl(agentTokens.reader!, 'acme/lib'), (await makeTempDir('github-renew-2')).path]);
      expect(libTokens().length).toBeGreaterThan(minted);
      expect(setup.github.violations).toEqual([]);
    } finally {
      setup.github.tokenTtlMs = 60 * 60_000;
    }
  });

  it('refuses a repository the app is not installed on with a 403 git prints', async () => {
    const work = await makeTempDir('github-not-installed');
    const before = setup.github.tokens.length;
    const clone = await runGit(['clone', '-q', repoUrl(agentTokens.reader!, 'acme/unlisted'), work.path]);
    expect(clone.code).not.toBe(0);
    expect(clone.stderr).toContain(
      `remote: the portcullis GitHub App is not installed on acme/unlisted (or that repository does not exist); an org admin installs it at ${setup.github.url}/apps/portcullis/installations/new`,
    );
    expect(clone.stderr).toContain('403');
    expect(setup.github.tokens).toHaveLength(before);
    expect(setup.github.violations).toEqual([]);
  });

  it('keeps installations from signed installation webhooks, shown by `github status`', async () => {
    const payload = examplePayload<{ installation: { id: number; account: { login: string }; target_type: string }; repositories: Array<Record<string, unknown>> }>(
      'installation',
      'created',
    );
    payload.installation.id = INSTALLATION_ID;
    payload.installation.account.login = 'acme';
    payload.installation.target_type = 'Organization';
    payload.repositories = [{ ...payload.repositories[0], name: 'app', full_name: 'acme/app' }];
    const delivery = await deliverWebhook(`${setup.gateway.url}/github/webhooks`, 'installation', payload, WEBHOOK_SECRET, { appId: APP_ID });
    expect(delivery.status).toBe(200);

    // The REST API behind `github status` wants an admin token like the rest of /api/v1.
    const anonymous = await fetch(`${setup.gateway.url}/api/v1/github/installations`);
    expect(anonymous.status).toBe(401);
    const status = await setup.gateway.cli(['github', 'status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`GitHub App ${APP_ID}`);
    expect(status.stdout).toMatch(new RegExp(`${INSTALLATION_ID}\\s+acme\\s+Organization\\s+no\\s+acme/app`));

    const removed = examplePayload<Record<string, unknown>>('installation_repositories', 'removed');
    (removed.installation as { id: number }).id = INSTALLATION_ID;
    (removed.installation as { account: { login: string } }).account.login = 'acme';
    removed.repositories_removed = [{ id: 1, node_id: 'R_1', name: 'app', full_name: 'acme/app', private: true }];
    expect((await deliverWebhook(`${setup.gateway.url}/github/webhooks`, 'installation_repositories', removed, WEBHOOK_SECRET)).status).toBe(200);
    const json = JSON.parse((await setup.gateway.cli(['github', 'status', '--json'])).stdout) as {
      installations: Array<{ id: number; repositories: unknown[] }>;
      recentDeliveries: Array<{ deliveryId: string; event: string; action: string; installationId: number; outcome: string }>;
    };
    expect(json.installations).toMatchObject([{ id: INSTALLATION_ID, repositories: [] }]);
    expect(json.recentDeliveries.find((d) => d.deliveryId === delivery.deliveryId)).toMatchObject({
      event: 'installation',
      action: 'created',
      installationId: INSTALLATION_ID,
      outcome: 'processed',
    });
  });

  it('answers 401 to a bad or missing signature, changes nothing, and records the attempt', async () => {
    const payload = examplePayload<{ installation: { id: number } }>('installation', 'deleted');
    payload.installation.id = INSTALLATION_ID;
    const forged = await deliverWebhook(`${setup.gateway.url}/github/webhooks`, 'installation', payload, 'not-the-secret');
    expect(forged.status).toBe(401);
    expect(JSON.parse(forged.body)).toMatchObject({ error: { code: 'WEBHOOK_SIGNATURE_INVALID' } });
    const unsigned = await deliverWebhook(`${setup.gateway.url}/github/webhooks`, 'installation', payload, WEBHOOK_SECRET, { signature: null });
    expect(unsigned.status).toBe(401);

    const json = JSON.parse((await setup.gateway.cli(['github', 'status', '--json'])).stdout) as {
      installations: Array<{ id: number }>;
      recentDeliveries: Array<{ deliveryId: string; outcome: string; action: string | null; sourceAddress: string }>;
    };
    expect(json.installations.map((i) => i.id)).toEqual([INSTALLATION_ID]);
    for (const attempt of [forged, unsigned]) {
      expect(json.recentDeliveries.find((d) => d.deliveryId === attempt.deliveryId)).toMatchObject({ outcome: 'signature_invalid', action: null, sourceAddress: '127.0.0.1' });
    }
    // Forged deliveries are on the tamper-evident trail too, as received.
    const trail = (await setup.gateway.cli(['audit', 'export', '--format', 'jsonl'])).stdout.trim().split('\n').map((line) => JSON.parse(line) as { type?: string; subject?: string; data?: { outcome?: string } });
    for (const attempt of [forged, unsigned]) {
      expect(trail.find((event) => event.type === 'webhook.received' && event.subject === attempt.deliveryId)?.data?.outcome).toBe('signature_invalid');
    }
  });
});

describe('starting with the GitHub App half-configured', () => {
  it('exits 1 with a clear error when the webhook secret is missing', async () => {
    const dir = await makeTempDir('github-no-secret');
    const keyPath = await writeKey();
    const env = cleanPortcullisEnv({ APP_ID: String(APP_ID), PRIVATE_KEY_PATH: keyPath });
    delete env.WEBHOOK_SECRET;
    const failure = await startServe({ env, cwd: dir.path }).then(
      async (serve) => {
        await serve.stop();
        return new Error('portcullis serve started without a webhook secret');
      },
      (error: unknown) => error as Error,
    );
    expect(failure.message).toContain('exited with code 1');
    expect(failure.message).toContain('portcullis: the GitHub App is configured (APP_ID) but has no webhook secret');
    expect(failure.message).toContain('hint: set WEBHOOK_SECRET (or github.webhookSecret)');
  });
});
