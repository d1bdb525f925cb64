/**
 * Secret-scan check runs (`github.scanCheckRuns`), end to end: a real `portcullis serve` with the
 * GitHub App, a github.com-style git host in front of a real `git http-backend`, the fake GitHub
 * API validating every call against GitHub's OpenAPI description (annotations: at most 50 per
 * request, GitHub's levels and fields). A second gateway with the option off shares the fakes.
 *
 * Allowed findings: the scanner itself drops fingerprints allowed for every agent
 * (`git.secrets.allow`) and lines with `portcullis:allow-secret`, so the test allow-lists its keys
 * in the agent's own policy (`agents.coder.git.secrets.allow`), which the push pipeline applies
 * and now keeps (redacted) on the push record.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../helpers/gateway.ts';
import { gitOk, runGit } from '../../helpers/git-cli.ts';
import { startFakeGitHub, type FakeGitHub } from '../../helpers/github/fake-github.ts';
import { cleanupTempDirs, createWorkRepo, makeTempDir, seedUpstreamRepo } from '../../helpers/repos.ts';
import { startTokenCheckedUpstream, type TokenCheckedUpstream } from './token-checked-upstream.ts';

const APP_ID = 31339;
const INSTALLATION_ID = 6161;
const SCAN_CHECK = 'portcullis / secret scan';
const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

/** Fake AWS access key ids, built at run time (never a literal in the source). */
function fakeAwsKey(seed: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = createHash('sha256').update(seed).digest();
  return ['AK', 'IA', ...[...bytes.subarray(0, 16)].map((b) => alphabet[b % 32])].join('');
}
const fingerprint = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

const ALLOWED = Array.from({ length: 60 }, (_, i) => fakeAwsKey(`allowed-${i}`));
const BLOCKED = fakeAwsKey('blocked');

let github: FakeGitHub;
let front: TokenCheckedUpstream;
let on: RunningGateway;
let off: RunningGateway;
let onToken: string;
let offToken: string;

const repoUrl = (gateway: RunningGateway, token: string) => `${gateway.url.replace('http://', `http://agent:${token}@`)}/git/github/acme/app.git`;

async function pushBranch(gateway: RunningGateway, token: string, name: string, target: string, files: Record<string, string>) {
  const work = await makeTempDir(`gh-scan-${name}`);
  await gitOk(['clone', '-q', repoUrl(gateway, token), work.path]);
  const { shas } = await createWorkRepo(work.path, [{ message: `agent change ${name}`, files }]);
  const result = await runGit(['push', 'origin', `HEAD:${target}`], { cwd: work.path });
  return { sha: shas[0]!, result };
}

const scanRuns = (sha: string) => github.checkRuns.filter((r) => r.name === SCAN_CHECK && r.headSha === sha);
const checkRequests = () => github.requests.filter((r) => r.operationId?.startsWith('checks/'));

async function startWith(scanCheckRuns: boolean | undefined, policyPath: string, keyPath: string): Promise<{ gateway: RunningGateway; token: string }> {
  const gateway = await startGateway({
    config: {
      remotes: [{ name: 'github', url: front.url }],
      policy: policyPath,
      github: { appId: APP_ID, privateKeyPath: keyPath, webhookSecret: 'webhook-secret-FAKE-scan', apiUrl: github.baseUrl, ...(scanCheckRuns === undefined ? {} : { scanCheckRuns }) },
    },
  });
  const token = await gateway.addAgent('coder', { write: ['github/acme/app'] });
  return { gateway, token };
}

beforeAll(async () => {
  github = await startFakeGitHub({
    spec: 'api.github.com',
    appId: APP_ID,
    publicKeyPem: keys.publicKey,
    resolveBranch: async (owner, repo, branch) => {
      const result = await runGit(['--git-dir', path.join(front.git.root, `${owner}/${repo}.git`), 'rev-parse', '--verify', '-q', `refs/heads/${branch}`]);
      return result.code === 0 ? result.stdout.trim() : undefined;
    },
  });
  front = await startTokenCheckedUpstream(github);
  await seedUpstreamRepo(front.git, 'acme', 'app', [{ message: 'first', files: { 'README.md': '# app\n' } }]);
  github.addInstallation({ id: INSTALLATION_ID, account: 'acme', repositories: ['app'] });
  const dir = await makeTempDir('gh-scan-config');
  const keyPath = path.join(dir.path, 'app.private-key.pem');
  await writeFile(keyPath, keys.privateKey, { mode: 0o600 });
  const policyPath = path.join(dir.path, 'policy.yml');
  await writeFile(policyPath, stringify({ agents: { coder: { git: { secrets: { allow: ALLOWED.map(fingerprint) } } } } }));
  ({ gateway: on, token: onToken } = await startWith(true, policyPath, keyPath));
  ({ gateway: off, token: offToken } = await startWith(undefined, policyPath, keyPath));
});

afterAll(async () => {
  await on?.stop();
  await off?.stop();
  await front?.close();
  await github?.close();
  await cleanupTempDirs();
});

describe('secret scan check runs', () => {
  it('creates one summarising check run for a clean push to a feature branch', async () => {
    const { sha, result } = await pushBranch(on, onToken, 'clean', 'feature/clean', { 'src/clean.txt': 'hello\n', 'img/blob.bin': Buffer.from([0, 1, 2, 0, 255]).toString('latin1') });
    expect(result.code, result.stderr).toBe(0);
    const runs = scanRuns(sha);
    expect(runs).toHaveLength(1);
    const run = runs[0]!;
    expect(run).toMatchObject({ status: 'completed', annotations: [] });
    expect(run.output.summary).toContain('Commits scanned: **1**');
    expect(run.output.summary).toMatch(/Added text scanned: \*\*\d+\*\* bytes/);
    expect(run.output.summary).toContain('`refs/heads/feature/clean`');
    expect(run.output.summary).toContain('Findings let through: **0**');
    // The binary file is listed as not scanned, which makes the run neutral.
    expect(run.output.summary).toContain('`img/blob.bin`');
    expect(run.conclusion).toBe('neutral');
    expect(github.violations).toEqual([]);
  });

  it('shows allowed findings as annotations, at most 50 per request, redacted', async () => {
    const body = ALLOWED.map((key, i) => `key_${i} = ${key}`).join('\n') + '\n';
    const before = checkRequests().length;
    const { sha, result } = await pushBranch(on, onToken, 'allowed', 'feature/allowed', { 'config/keys.txt': body });
    expect(result.code, result.stderr).toBe(0);
    const run = scanRuns(sha)[0]!;
    expect(run).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect(run.annotations).toHaveLength(ALLOWED.length);
    expect(run.annotations.map((a: any) => a.start_line)).toEqual(ALLOWED.map((_, i) => i + 1));
    for (const a of run.annotations as any[]) expect(a).toMatchObject({ path: 'config/keys.txt', annotation_level: 'notice' });
    const sent = checkRequests().slice(before);
    expect(sent.map((r) => [r.operationId, (r.body as any).output.annotations.length])).toEqual([
      ['checks/create', 50],
      ['checks/update', 10],
    ]);
    expect(run.output.summary).toContain(`Findings let through: **${ALLOWED.length}** (${ALLOWED.length} allowed by fingerprint`);
    // Neither the secrets nor their fingerprints reach GitHub.
    const everything = JSON.stringify(github.requests);
    for (const key of ALLOWED) {
      expect(everything).not.toContain(key);
      expect(everything).not.toContain(fingerprint(key));
    }
    expect(github.violations).toEqual([]);
  });

  it('shows the scan of a held push on the held sha, next to the hold check', async () => {
    const { sha, result } = await pushBranch(on, onToken, 'held', 'main', { 'src/held.txt': 'held\n' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('held for approval');
    expect(scanRuns(sha)).toHaveLength(1);
    expect(scanRuns(sha)[0]!.output.summary).toMatch(/held for approval `[a-z0-9]+` on `refs\/heads\/portcullis\/held\//);
    expect(github.checkRuns.some((r) => r.name === 'portcullis' && r.headSha === sha)).toBe(true);
    expect(github.violations).toEqual([]);
  });

  it('creates nothing on GitHub for a blocked secret push', async () => {
    const apiBefore = github.requests.length;
    const { sha, result } = await pushBranch(on, onToken, 'blocked', 'feature/blocked', { 'config/leak.txt': `key = ${BLOCKED}\n` });
    expect(result.code).not.toBe(0);
    expect(scanRuns(sha)).toEqual([]);
    // The mirror may be fetched (with a cached token); nothing is sent to GitHub's API, nothing is pushed.
    expect(github.requests.slice(apiBefore).filter((r) => !r.path.includes('/access_tokens'))).toEqual([]);
    const upstream = path.join(front.git.root, 'acme/app.git');
    expect((await runGit(['--git-dir', upstream, 'rev-parse', '--verify', '-q', 'refs/heads/feature/blocked'])).code).not.toBe(0);
    expect((await runGit(['--git-dir', upstream, 'cat-file', '-e', sha])).code).not.toBe(0);
    expect(JSON.stringify(github.requests)).not.toContain(BLOCKED);
  });

  it('creates no check run when the option is off', async () => {
    const before = checkRequests().length;
    const { sha, result } = await pushBranch(off, offToken, 'off', 'feature/off', { 'src/off.txt': 'off\n' });
    expect(result.code, result.stderr).toBe(0);
    expect(scanRuns(sha)).toEqual([]);
    expect(checkRequests().length).toBe(before);
    expect(github.violations).toEqual([]);
  });
});
