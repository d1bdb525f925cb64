/**
 * Pushes around the gateway: a real `portcullis serve` with the GitHub App and `github.flagBypass`,
 * a github.com-style git host in front of a real `git http-backend`, the fake GitHub API validating
 * every call against GitHub's OpenAPI description, and `push` webhooks signed with the webhook secret.
 *
 * Fixture patches (beyond test/helpers/github/webhooks.ts): the push example is a tag push by
 * Codertocat to another repository without an installation; each delivery gets our repository
 * (acme/app), our installation id, a branch ref, the before/after shas of the push, and the pushing
 * login as both `sender.login` and `pusher.name`. Checked against GitHub's webhook schema before delivery.
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../helpers/gateway.ts';
import { gitOk, runGit } from '../../helpers/git-cli.ts';
import { startFakeGitHub, type FakeGitHub } from '../../helpers/github/fake-github.ts';
import { deliverWebhook, examplePayload } from '../../helpers/github/webhooks.ts';
import { cleanupTempDirs, createWorkRepo, makeTempDir, seedUpstreamRepo } from '../../helpers/repos.ts';
import { startTokenCheckedUpstream, type TokenCheckedUpstream } from './token-checked-upstream.ts';

const APP_ID = 31339;
const INSTALLATION_ID = 6161;
const WEBHOOK_SECRET = 'webhook-secret-FAKE-for-bypass-tests';
const AGENT_LOGIN = 'acme-coder-bot';
const ZERO = '0'.repeat(40);
const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

let github: FakeGitHub;
let front: TokenCheckedUpstream;
let gateway: RunningGateway;
let agentToken: string;

const bareRepo = () => path.join(front.git.root, 'acme/app.git');
const gatewayUrl = () => `${gateway.url.replace('http://', `http://agent:${agentToken}@`)}/git/github/acme/app.git`;
const webhooks = () => `${gateway.url}/github/webhooks`;

interface Pushed {
  ref: string;
  before: string;
  after: string;
}

/** A fresh clone from `url`, one commit, pushed to `branch` there. */
async function pushCommit(url: string, name: string, branch: string): Promise<Pushed> {
  const work = await makeTempDir(`gh-bypass-${name}`);
  await gitOk(['clone', '-q', url, work.path]);
  const before = (await gitOk(['rev-parse', 'HEAD'], { cwd: work.path })).stdout.trim();
  const { shas } = await createWorkRepo(work.path, [{ message: `change ${name}`, files: { [`src/${name}.txt`]: `${name}\n` } }]);
  const push = await runGit(['push', 'origin', `HEAD:refs/heads/${branch}`], { cwd: work.path });
  if (push.code !== 0) throw new Error(`push to ${branch} failed:\n${push.stderr}`);
  // A new branch: GitHub reports before as zeros.
  return { ref: `refs/heads/${branch}`, before: before && branch === 'main' ? before : ZERO, after: shas[0]! };
}

function pushPayload(pushed: Pushed, login: string): Record<string, unknown> {
  const payload = examplePayload<Record<string, any>>('push');
  payload.ref = pushed.ref;
  payload.before = pushed.before;
  payload.after = pushed.after;
  payload.created = pushed.before === ZERO;
  payload.deleted = pushed.after === ZERO;
  payload.base_ref = null;
  payload.pusher = { name: login, email: `${login}@users.noreply.github.com` };
  payload.sender.login = login;
  payload.installation = { id: INSTALLATION_ID, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNjE2MQ==' };
  Object.assign(payload.repository, { name: 'app', full_name: 'acme/app' });
  Object.assign(payload.repository.owner, { login: 'acme', name: 'acme' });
  github.validator.validateWebhook('push', undefined, payload);
  return payload;
}

interface Status {
  recentBypasses: Array<{ agent: string; pusherLogin: string; owner: string; repo: string; ref: string; before: string; after: string; remote: string }>;
}

async function status(): Promise<Status> {
  const shown = await gateway.cli(['github', 'status', '--json']);
  if (shown.code !== 0) throw new Error(`github status failed: ${shown.stderr}`);
  return JSON.parse(shown.stdout) as Status;
}

beforeAll(async () => {
  github = await startFakeGitHub({ spec: 'api.github.com', appId: APP_ID, publicKeyPem: keys.publicKey });
  front = await startTokenCheckedUpstream(github);
  await seedUpstreamRepo(front.git, 'acme', 'app', [{ message: 'first', files: { 'README.md': '# app\n' } }]);
  github.addInstallation({ id: INSTALLATION_ID, account: 'acme', repositories: ['app'] });
  const keyDir = await makeTempDir('gh-bypass-key');
  const keyPath = path.join(keyDir.path, 'app.private-key.pem');
  await writeFile(keyPath, keys.privateKey, { mode: 0o600 });
  gateway = await startGateway({
    config: {
      remotes: [{ name: 'github', url: front.url }],
      github: { appId: APP_ID, privateKeyPath: keyPath, webhookSecret: 'env:PCL_TEST_WEBHOOK_SECRET', apiUrl: github.baseUrl, flagBypass: true },
    },
    env: { PCL_TEST_WEBHOOK_SECRET: WEBHOOK_SECRET },
  });
  const added = await gateway.cli(['agent', 'add', 'coder', '--write', 'github/acme/app', '--github-login', AGENT_LOGIN, '--json']);
  if (added.code !== 0) throw new Error(`agent add failed: ${added.stderr}`);
  agentToken = (JSON.parse(added.stdout) as { token: string }).token;
});

afterAll(async () => {
  await gateway?.stop();
  await front?.close();
  await github?.close();
  await cleanupTempDirs();
});

describe('pushes around the gateway', () => {
  it("records an agent login's direct push as a bypass and flags its sha with a failing portcullis check run", async () => {
    const pushed = await pushCommit(bareRepo(), 'direct', 'main');
    // The login as GitHub spells it may differ in case from the one linked to the agent.
    const delivery = await deliverWebhook(webhooks(), 'push', pushPayload(pushed, 'Acme-Coder-Bot'), WEBHOOK_SECRET, { appId: APP_ID });
    expect(delivery.status).toBe(200);

    const bypass = (await status()).recentBypasses.find((b) => b.after === pushed.after);
    expect(bypass).toMatchObject({ agent: 'coder', pusherLogin: 'Acme-Coder-Bot', remote: 'github', owner: 'acme', repo: 'app', ref: 'refs/heads/main', before: pushed.before });
    const table = await gateway.cli(['github', 'status']);
    expect(table.stdout).toContain('pushes around portcullis');
    expect(table.stdout).toContain(pushed.after.slice(0, 12));

    const run = github.checkRuns.find((r) => r.headSha === pushed.after);
    expect(run).toMatchObject({ owner: 'acme', repo: 'app', name: 'portcullis', status: 'completed', conclusion: 'failure' });
    expect(run!.output.title).toBe('pushed around portcullis');
    for (const text of ['`coder`', 'refs/heads/main', `${pushed.before}\`..\`${pushed.after}`]) expect(run!.output.summary).toContain(text);
    // The token it used: one repository, checks write.
    expect(github.tokens.find((t) => t.permissions.checks === 'write')).toMatchObject({ repositories: ['app'] });
    expect(github.violations).toEqual([]);

    // A redelivery of the same webhook records nothing new and flags nothing twice.
    const again = await deliverWebhook(webhooks(), 'push', pushPayload(pushed, 'Acme-Coder-Bot'), WEBHOOK_SECRET, { deliveryId: delivery.deliveryId });
    expect(again.status).toBe(200);
    expect((await status()).recentBypasses.filter((b) => b.after === pushed.after)).toHaveLength(1);
    expect(github.checkRuns.filter((r) => r.headSha === pushed.after)).toHaveLength(1);
  });

  it('is no bypass when the same sha went through the gateway first', async () => {
    const pushed = await pushCommit(gatewayUrl(), 'via-gateway', 'agent/feature');
    const delivery = await deliverWebhook(webhooks(), 'push', pushPayload(pushed, AGENT_LOGIN), WEBHOOK_SECRET, { appId: APP_ID });
    expect(delivery.status).toBe(200);
    expect((await status()).recentBypasses.find((b) => b.after === pushed.after)).toBeUndefined();
    expect(github.checkRuns.find((r) => r.headSha === pushed.after)).toBeUndefined();
    expect(github.violations).toEqual([]);
  });

  it("records nothing for a human's push or an agent's branch deletion", async () => {
    const human = await pushCommit(bareRepo(), 'human', 'human/feature');
    expect((await deliverWebhook(webhooks(), 'push', pushPayload(human, 'maintainer-mia'), WEBHOOK_SECRET, { appId: APP_ID })).status).toBe(200);
    const deletion: Pushed = { ref: 'refs/heads/human/feature', before: human.after, after: ZERO };
    expect((await deliverWebhook(webhooks(), 'push', pushPayload(deletion, AGENT_LOGIN), WEBHOOK_SECRET, { appId: APP_ID })).status).toBe(200);

    const shas = new Set([human.after, ZERO]);
    expect((await status()).recentBypasses.filter((b) => shas.has(b.after))).toEqual([]);
    expect(github.checkRuns.filter((r) => shas.has(r.headSha))).toEqual([]);
    expect(github.violations).toEqual([]);
  });
});
