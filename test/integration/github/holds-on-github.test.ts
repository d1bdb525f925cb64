/**
 * Holds on GitHub end to end: a real `portcullis serve` with the GitHub App, a github.com-style
 * git host in front of a real `git http-backend`, the fake GitHub API validating every call
 * against GitHub's OpenAPI description, and webhooks from @octokit/webhooks-examples signed with
 * the webhook secret and delivered over HTTP.
 *
 * Fixture patches (beyond test/helpers/github/webhooks.ts): the examples are from other
 * repositories and apps, so each gets our repository (acme/app), our installation id, our check
 * run id and head sha (or review commit_id / pull request number), and the clicking or reviewing
 * login. The patched payloads are checked against GitHub's webhook schema before delivery.
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../helpers/gateway.ts';
import { gitOk, runGit } from '../../helpers/git-cli.ts';
import { startFakeGitHub, type FakeCheckRun, type FakeGitHub, type FakePull } from '../../helpers/github/fake-github.ts';
import { deliverWebhook, examplePayload } from '../../helpers/github/webhooks.ts';
import { cleanupTempDirs, createWorkRepo, makeTempDir, seedUpstreamRepo } from '../../helpers/repos.ts';
import { startTokenCheckedUpstream, type TokenCheckedUpstream } from './token-checked-upstream.ts';

const APP_ID = 31338;
const INSTALLATION_ID = 5151;
const WEBHOOK_SECRET = 'webhook-secret-FAKE-for-hold-tests';
const AGENT_LOGIN = 'acme-coder-bot';
const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

let github: FakeGitHub;
let front: TokenCheckedUpstream;
let gateway: RunningGateway;
let agentToken: string;

const repoUrl = () => `${gateway.url.replace('http://', `http://agent:${agentToken}@`)}/git/github/acme/app.git`;
const webhooks = () => `${gateway.url}/github/webhooks`;

async function upstreamRef(ref: string): Promise<string | null> {
  const result = await runGit(['--git-dir', path.join(front.git.root, 'acme/app.git'), 'rev-parse', '--verify', '-q', ref]);
  return result.code === 0 ? result.stdout.trim() : null;
}

interface Hold {
  id: string;
  sha: string;
  mainBefore: string;
  pull: FakePull;
  run: FakeCheckRun;
}

/** A fresh clone, one commit touching `file`, pushed to main: held. */
async function pushHeld(name: string, file: string): Promise<Hold> {
  const work = await makeTempDir(`gh-hold-${name}`);
  await gitOk(['clone', '-q', repoUrl(), work.path]);
  const mainBefore = (await gitOk(['rev-parse', 'HEAD'], { cwd: work.path })).stdout.trim();
  const { shas } = await createWorkRepo(work.path, [{ message: `agent change ${name}`, files: { [file]: `${name}\n` } }]);
  const push = await runGit(['push', 'origin', 'HEAD:main'], { cwd: work.path });
  expect(push.code).not.toBe(0);
  const id = /held for approval: ([a-z0-9]+)\)/.exec(push.stderr)?.[1];
  if (!id) throw new Error(`no hold in:\n${push.stderr}`);
  const pull = github.pulls.find((p) => p.head.ref === `portcullis/held/${id}`);
  const run = github.checkRuns.find((r) => r.externalId === id);
  if (!pull || !run) throw new Error(`hold ${id} has no pull request or check run on GitHub:\n${gateway.output().slice(-3000)}`);
  return { id, sha: shas[0]!, mainBefore, pull, run };
}

function clickPayload(hold: Hold, login: string, identifier: 'approve' | 'reject', headSha = hold.sha): Record<string, unknown> {
  const payload = examplePayload<Record<string, any>>('check_run', 'requested_action');
  payload.check_run.id = hold.run.id;
  payload.check_run.name = 'portcullis';
  payload.check_run.head_sha = headSha;
  payload.check_run.external_id = hold.id;
  payload.requested_action = { identifier };
  payload.installation.id = INSTALLATION_ID;
  Object.assign(payload.repository, { name: 'app', full_name: 'acme/app' });
  payload.repository.owner.login = 'acme';
  payload.sender.login = login;
  github.validator.validateWebhook('check_run', 'requested_action', payload);
  return payload;
}

function reviewPayload(hold: Hold, login: string, commitId = hold.sha): Record<string, unknown> {
  const payload = examplePayload<Record<string, any>>('pull_request_review', 'submitted');
  payload.review.state = 'approved';
  payload.review.commit_id = commitId;
  payload.review.body = 'ship it';
  payload.review.user.login = login;
  payload.pull_request.number = hold.pull.number;
  payload.pull_request.head.sha = hold.sha;
  payload.installation = { id: INSTALLATION_ID, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNTE1MQ==' };
  Object.assign(payload.repository, { name: 'app', full_name: 'acme/app' });
  payload.repository.owner.login = 'acme';
  payload.sender.login = login;
  github.validator.validateWebhook('pull_request_review', 'submitted', payload);
  return payload;
}

async function approval(id: string): Promise<{ status: string; decidedBy?: string }> {
  const shown = await gateway.cli(['approvals', 'list', '--json']);
  const found = (JSON.parse(shown.stdout) as Array<{ id: string; status: string; decidedBy?: string }>).find((a) => a.id === id);
  if (!found) throw new Error(`approval ${id} not listed: ${shown.stdout} ${shown.stderr}`);
  return found;
}

beforeAll(async () => {
  github = await startFakeGitHub({
    spec: 'api.github.com',
    appId: APP_ID,
    publicKeyPem: keys.publicKey,
    // Pull request heads and bases as the git host has them.
    resolveBranch: async (owner, repo, branch) => {
      const result = await runGit(['--git-dir', path.join(front.git.root, `${owner}/${repo}.git`), 'rev-parse', '--verify', '-q', `refs/heads/${branch}`]);
      return result.code === 0 ? result.stdout.trim() : undefined;
    },
  });
  front = await startTokenCheckedUpstream(github);
  await seedUpstreamRepo(front.git, 'acme', 'app', [
    { message: 'first', files: { 'README.md': '# app\n' } },
    { message: 'second', files: { 'src/main.txt': 'hello\n' } },
  ]);
  github.addInstallation({ id: INSTALLATION_ID, account: 'acme', repositories: ['app'] });
  github.setPermission('acme', 'app', 'maintainer-mia', 'maintain');
  github.setPermission('acme', 'app', 'reader-rui', 'read');
  // The agent's own account may even be an admin: it still cannot approve its own push.
  github.setPermission('acme', 'app', AGENT_LOGIN, 'admin');
  const keyDir = await makeTempDir('gh-hold-key');
  const keyPath = path.join(keyDir.path, 'app.private-key.pem');
  await writeFile(keyPath, keys.privateKey, { mode: 0o600 });
  gateway = await startGateway({
    config: {
      remotes: [{ name: 'github', url: front.url }],
      github: { appId: APP_ID, privateKeyPath: keyPath, webhookSecret: 'env:PCL_TEST_WEBHOOK_SECRET', apiUrl: github.baseUrl },
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

describe('holds on GitHub', () => {
  it('opens a pull request and an action_required check run, refuses a reader and the agent itself, and applies a maintainer click', async () => {
    const hold = await pushHeld('click', 'src/feature.txt');
    expect(await upstreamRef(`refs/heads/portcullis/held/${hold.id}`)).toBe(hold.sha);

    // The pull request: held branch into main, saying who, what and how to approve.
    expect(hold.pull).toMatchObject({ owner: 'acme', repo: 'app', state: 'open', base: { ref: 'main' }, head: { ref: `portcullis/held/${hold.id}`, sha: hold.sha } });
    expect(hold.pull.title).toContain(hold.id);
    expect(hold.pull.title).toContain('coder');
    for (const text of [hold.id, '`coder`', '`src/feature.txt`', hold.sha, 'no secrets found', `npx portcullis approvals approve ${hold.id}`, 'Approve push']) {
      expect(hold.pull.body).toContain(text);
    }
    // The check run: on the held sha, waiting, with the two buttons.
    expect(hold.run).toMatchObject({ name: 'portcullis', headSha: hold.sha, status: 'completed', conclusion: 'action_required', externalId: hold.id });
    expect(hold.run.actions.map((a) => [a.label, a.identifier])).toEqual([
      ['Approve push', 'approve'],
      ['Reject', 'reject'],
    ]);
    expect(hold.run.output.summary).toContain('`src/feature.txt`');
    // Tokens for holds: one repository, only what they need.
    const holdToken = github.tokens.find((t) => t.permissions.checks === 'write');
    expect(holdToken).toMatchObject({ repositories: ['app'], permissions: { contents: 'read', pull_requests: 'write', checks: 'write', metadata: 'read' } });

    // A reader's click: 200, but refused, recorded on the check run; nothing moves.
    const reader = await deliverWebhook(webhooks(), 'check_run', clickPayload(hold, 'reader-rui', 'approve'), WEBHOOK_SECRET, { appId: APP_ID });
    expect(reader.status).toBe(200);
    expect(await upstreamRef('refs/heads/main')).toBe(hold.mainBefore);
    expect((await approval(hold.id)).status).toBe('pending');
    expect(hold.run.conclusion).toBe('action_required');
    expect(hold.run.output.summary).toContain('`reader-rui`');
    expect(hold.run.output.summary).toContain('has the read role on acme/app; deciding on a held push needs write or higher');

    // The agent's own GitHub login (an admin, even): refused.
    const self = await deliverWebhook(webhooks(), 'check_run', clickPayload(hold, AGENT_LOGIN, 'approve'), WEBHOOK_SECRET, { appId: APP_ID });
    expect(self.status).toBe(200);
    expect((await approval(hold.id)).status).toBe('pending');
    expect(hold.run.output.summary).toContain(`${AGENT_LOGIN} is the GitHub identity of agent coder, which cannot decide on its own push`);

    // A click naming another commit than the held one: refused.
    const otherSha = 'f'.repeat(40);
    expect((await deliverWebhook(webhooks(), 'check_run', clickPayload(hold, 'maintainer-mia', 'approve', otherSha), WEBHOOK_SECRET)).status).toBe(200);
    expect((await approval(hold.id)).status).toBe('pending');
    expect(hold.run.output.summary).toContain('an approval is bound to the exact held commit');
    expect(hold.run.output.title).toBe('Waiting for approval (refused maintainer-mia)');

    // A maintainer's click: main fast-forwarded to the held sha, check run success, pull request closed.
    const click = await deliverWebhook(webhooks(), 'check_run', clickPayload(hold, 'maintainer-mia', 'approve'), WEBHOOK_SECRET, { appId: APP_ID });
    expect(click.status).toBe(200);
    expect(await upstreamRef('refs/heads/main')).toBe(hold.sha);
    expect(await upstreamRef(`refs/heads/portcullis/held/${hold.id}`)).toBeNull();
    expect(await approval(hold.id)).toMatchObject({ status: 'applied', decidedBy: 'github:maintainer-mia' });
    expect(hold.run).toMatchObject({ status: 'completed', conclusion: 'success', actions: [] });
    expect(hold.run.output.title).toBe('Approved by github:maintainer-mia');
    expect(hold.pull.state).toBe('closed');
    expect(hold.pull.merged).toBe(false);
    expect(github.comments.filter((c) => c.issueNumber === hold.pull.number).map((c) => c.body)).toEqual([
      expect.stringContaining('portcullis: approved by `github:maintainer-mia`'),
    ]);

    // A second click after the fact changes nothing and leaves the result alone.
    expect((await deliverWebhook(webhooks(), 'check_run', clickPayload(hold, 'maintainer-mia', 'approve'), WEBHOOK_SECRET)).status).toBe(200);
    expect(hold.run.conclusion).toBe('success');
    expect(github.violations).toEqual([]);
  });

  it('approves through an approving pull request review on the held commit', async () => {
    const hold = await pushHeld('review', 'src/reviewed.txt');
    // A review of another commit does not count.
    expect((await deliverWebhook(webhooks(), 'pull_request_review', reviewPayload(hold, 'maintainer-mia', 'e'.repeat(40)), WEBHOOK_SECRET)).status).toBe(200);
    expect((await approval(hold.id)).status).toBe('pending');
    // Neither does the agent approving its own pull request.
    expect((await deliverWebhook(webhooks(), 'pull_request_review', reviewPayload(hold, AGENT_LOGIN), WEBHOOK_SECRET)).status).toBe(200);
    expect((await approval(hold.id)).status).toBe('pending');
    expect(await upstreamRef('refs/heads/main')).toBe(hold.mainBefore);

    const review = await deliverWebhook(webhooks(), 'pull_request_review', reviewPayload(hold, 'maintainer-mia'), WEBHOOK_SECRET, { appId: APP_ID });
    expect(review.status).toBe(200);
    expect(await approval(hold.id)).toMatchObject({ status: 'applied', decidedBy: 'github:maintainer-mia' });
    expect(await upstreamRef('refs/heads/main')).toBe(hold.sha);
    expect(hold.run.conclusion).toBe('success');
    expect(hold.pull.state).toBe('closed');
    expect(github.violations).toEqual([]);
  });

  it('rejects from the check run: main unchanged, check run failure, pull request closed', async () => {
    const hold = await pushHeld('reject', 'src/rejected.txt');
    expect((await deliverWebhook(webhooks(), 'check_run', clickPayload(hold, 'maintainer-mia', 'reject'), WEBHOOK_SECRET)).status).toBe(200);
    expect(await approval(hold.id)).toMatchObject({ status: 'denied', decidedBy: 'github:maintainer-mia' });
    expect(await upstreamRef('refs/heads/main')).toBe(hold.mainBefore);
    expect(await upstreamRef(`refs/heads/portcullis/held/${hold.id}`)).toBeNull();
    expect(hold.run).toMatchObject({ conclusion: 'failure', actions: [] });
    expect(hold.run.output.title).toBe('Rejected by github:maintainer-mia');
    expect(hold.pull.state).toBe('closed');
    expect(github.violations).toEqual([]);
  });

  it('shows a denial from the CLI on GitHub too: check run failure with the reason, pull request closed with a comment', async () => {
    const hold = await pushHeld('cli-deny', 'src/denied.txt');
    const denied = await gateway.cli(['approvals', 'deny', hold.id, '--as', 'ops-olga', '--comment', 'not this week']);
    expect(denied.code).toBe(0);
    expect(await upstreamRef('refs/heads/main')).toBe(hold.mainBefore);
    expect(hold.run).toMatchObject({ status: 'completed', conclusion: 'failure', actions: [] });
    expect(hold.run.output.title).toBe('Rejected by ops-olga');
    expect(hold.run.output.summary).toContain('not this week');
    expect(hold.pull.state).toBe('closed');
    const comments = github.comments.filter((c) => c.issueNumber === hold.pull.number).map((c) => c.body);
    expect(comments).toEqual([expect.stringContaining('portcullis: rejected by `ops-olga`')]);
    expect(comments[0]).toContain('not this week');
    expect(github.violations).toEqual([]);
  });

  it('answers merge_group.checks_requested with a passing portcullis check on the group head', async () => {
    const payload = examplePayload<Record<string, any>>('merge_group', 'checks_requested');
    const headSha = '2'.repeat(40);
    payload.merge_group.head_sha = headSha;
    payload.merge_group.base_ref = 'refs/heads/main';
    payload.installation = { id: INSTALLATION_ID, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNTE1MQ==' };
    Object.assign(payload.repository, { name: 'app', full_name: 'acme/app' });
    payload.repository.owner.login = 'acme';
    const delivery = await deliverWebhook(webhooks(), 'merge_group', payload, WEBHOOK_SECRET, { appId: APP_ID });
    expect(delivery.status).toBe(200);
    const run = github.checkRuns.find((r) => r.headSha === headSha);
    expect(run).toMatchObject({ name: 'portcullis', status: 'completed', conclusion: 'success' });
    expect(github.violations).toEqual([]);
  });
});
