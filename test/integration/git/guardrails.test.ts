import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../helpers/gateway.ts';
import { gitOk, runGit } from '../../helpers/git-cli.ts';
import { startGitUpstream, type GitUpstream } from '../../helpers/git-upstream.ts';
import { cleanupTempDirs, createWorkRepo, makeTempDir, seedUpstreamRepo } from '../../helpers/repos.ts';

// FAKE test credential built at run time so this file never holds a scannable key.
const FAKE_AWS_KEY = ['AKIA', 'QYLPMN5HHHFPZAM2'].join('');
const FAKE_AWS_SECRET = ['wJalrXUtnFEMI', 'K7MDENG', 'bPxRfiCYzq9Q2tX7v8wKp'].join('/');

let upstream: GitUpstream;
let gateway: RunningGateway;
let token: string;
let seeded: string[];

function url(repo = 'acme/app'): string {
  return `${gateway.url.replace('http://', `http://agent:${token}@`)}/git/local/${repo}.git`;
}

async function upstreamRef(ref: string, repo = 'acme/app'): Promise<string | null> {
  const result = await runGit(['--git-dir', path.join(upstream.root, `${repo}.git`), 'rev-parse', '--verify', '-q', ref]);
  return result.code === 0 ? result.stdout.trim() : null;
}

async function upstreamHasObject(sha: string, repo = 'acme/app'): Promise<boolean> {
  return (await runGit(['--git-dir', path.join(upstream.root, `${repo}.git`), 'cat-file', '-e', sha])).code === 0;
}

async function freshClone(name: string, repo = 'acme/app'): Promise<string> {
  const work = await makeTempDir(name);
  await gitOk(['clone', '-q', url(repo), work.path]);
  return work.path;
}

function heldId(stderr: string, ref = 'main'): string {
  const match = new RegExp(`! \\[remote rejected\\] +${ref} -> ${ref} \\(held for approval: ([a-z0-9]+)\\)`).exec(stderr);
  if (!match) throw new Error(`no hold for ${ref} in:\n${stderr}`);
  return match[1]!;
}

beforeAll(async () => {
  upstream = await startGitUpstream();
  seeded = await seedUpstreamRepo(upstream, 'acme', 'app', [
    { message: 'first', files: { 'README.md': '# app\n' } },
    { message: 'second', files: { 'src/main.txt': 'hello\n' } },
  ]);
  gateway = await startGateway({ config: { remotes: [{ name: 'local', url: upstream.url }] } });
  token = await gateway.addAgent('coder', { write: ['local/acme/*'] });
});

afterAll(async () => {
  await gateway?.stop();
  await upstream?.close();
  await cleanupTempDirs();
});

describe('allowed pushes', () => {
  it('forwards a clean push to a feature branch unchanged', async () => {
    const work = await freshClone('clean');
    await gitOk(['checkout', '-q', '-b', 'feature/clean'], { cwd: work });
    const { shas } = await createWorkRepo(work, [{ message: 'clean work', files: { 'src/a.txt': 'a\n' } }]);
    const push = await gitOk(['push', 'origin', 'feature/clean'], { cwd: work });
    expect(push.stderr).toContain('* [new branch]      feature/clean -> feature/clean');
    expect(await upstreamRef('refs/heads/feature/clean')).toBe(shas[0]);
  });
});

describe('holds and approvals', () => {
  it('holds a push to main, parks it upstream, and applies it exactly when a maintainer approves', async () => {
    const work = await freshClone('hold');
    const { shas } = await createWorkRepo(work, [{ message: 'to main', files: { 'src/main.txt': 'hello, main\n' } }]);
    const push = await runGit(['push', 'origin', 'main'], { cwd: work });
    expect(push.code).not.toBe(0);
    const id = heldId(push.stderr);
    expect(push.stderr).toContain(`remote: portcullis: main is held for approval ${id}: protected ref`);
    expect(await upstreamRef('refs/heads/main')).toBe(seeded[1]);
    expect(await upstreamRef(`refs/heads/portcullis/held/${id}`)).toBe(shas[0]);

    const self = await gateway.cli(['approvals', 'approve', id, '--as', 'coder']);
    expect(self.code).toBe(1);
    expect(self.stderr).toMatch(/coder/);

    const listed = JSON.parse((await gateway.cli(['approvals', 'list', '--json', '--status', 'pending'])).stdout) as Array<{ id: string; agent: string }>;
    expect(listed.map((a) => a.id)).toContain(id);

    const approve = await gateway.cli(['approvals', 'approve', id, '--as', 'maintainer', '--comment', 'looks right']);
    expect(approve.stdout).toContain(`approved ${id}`);
    expect(await upstreamRef('refs/heads/main')).toBe(shas[0]);
    expect(await upstreamRef(`refs/heads/portcullis/held/${id}`)).toBeNull();
    const shown = JSON.parse((await gateway.cli(['approvals', 'list', '--json'])).stdout) as Array<{ id: string; status: string; decidedBy: string }>;
    expect(shown.find((a) => a.id === id)).toMatchObject({ status: 'applied', decidedBy: 'maintainer' });
  });

  it('makes an approval stale when main moved meanwhile, and denies cleanly', async () => {
    const work = await freshClone('stale');
    await createWorkRepo(work, [{ message: 'will go stale', files: { 'stale.txt': 'x\n' } }]);
    const id = heldId((await runGit(['push', 'origin', 'main'], { cwd: work })).stderr);

    const other = await freshClone('mover');
    await createWorkRepo(other, [{ message: 'someone else', files: { 'other.txt': 'y\n' }, date: '1704200000 +0000' }]);
    const moved = await runGit(['push', 'origin', 'main'], { cwd: other });
    const otherId = heldId(moved.stderr);
    await gitOk(['-C', other, 'rev-parse', 'HEAD']);
    expect((await gateway.cli(['approvals', 'approve', otherId, '--as', 'maintainer'])).code).toBe(0);

    const stale = await gateway.cli(['approvals', 'approve', id, '--as', 'maintainer']);
    expect(stale.stdout).toContain(`approval ${id} is stale`);
    expect(stale.stdout).toContain('rebase');

    const third = await freshClone('deny');
    await createWorkRepo(third, [{ message: 'to be denied', files: { 'denied.txt': 'z\n' }, date: '1704300000 +0000' }]);
    const denyId = heldId((await runGit(['push', 'origin', 'main'], { cwd: third })).stderr);
    const deny = await gateway.cli(['approvals', 'deny', denyId, '--as', 'maintainer', '--comment', 'no']);
    expect(deny.stdout).toContain(`denied ${denyId}`);
    expect(await upstreamRef(`refs/heads/portcullis/held/${denyId}`)).toBeNull();
  });

  it('holds a change to CI workflows on any branch, and a grant lets main through', async () => {
    const work = await freshClone('workflow');
    await gitOk(['checkout', '-q', '-b', 'feature/ci'], { cwd: work });
    await createWorkRepo(work, [{ message: 'ci', files: { '.github/workflows/ci.yml': 'on: push\n' } }]);
    const push = await runGit(['push', 'origin', 'feature/ci'], { cwd: work });
    heldId(push.stderr, 'feature/ci');
    expect(push.stderr).toContain('changes .github/workflows/ci.yml');
    expect(await upstreamRef('refs/heads/feature/ci')).toBeNull();

    // A separate agent, so the window does not leak into the other tests' pushes to main.
    const grantee = await gateway.addAgent('busy-bot', { write: ['local/acme/*'] });
    const grant = await gateway.cli(['approvals', 'grant', '--agent', 'busy-bot', '--ref', 'refs/heads/main', '--for', '30m', '--as', 'maintainer']);
    expect(grant.code).toBe(0);
    const granted = (await makeTempDir('granted')).path;
    await gitOk(['clone', '-q', url().replace(token, grantee), granted]);
    const { shas } = await createWorkRepo(granted, [{ message: 'granted', files: { 'g.txt': 'g\n' }, date: '1704400000 +0000' }]);
    const ok = await gitOk(['push', 'origin', 'main'], { cwd: granted });
    expect(ok.stderr).toMatch(/main -> main/);
    expect(await upstreamRef('refs/heads/main')).toBe(shas[0]);
  });
});

describe('blocks', () => {
  it('blocks a secret added in an earlier commit and removed later; none of its objects reach upstream', async () => {
    const work = await freshClone('secret');
    await gitOk(['checkout', '-q', '-b', 'feature/leak'], { cwd: work });
    const { shas } = await createWorkRepo(work, [
      { message: 'add config', files: { 'config/app.env': `AWS_ACCESS_KEY_ID=${FAKE_AWS_KEY}\nAWS_SECRET_ACCESS_KEY=${FAKE_AWS_SECRET}\n` } },
      { message: 'oops remove', files: { 'config/app.env': 'AWS_ACCESS_KEY_ID=\n' } },
    ]);
    const push = await runGit(['push', 'origin', 'feature/leak'], { cwd: work });
    expect(push.code).not.toBe(0);
    expect(push.stderr).toMatch(new RegExp(`! \\[remote rejected\\] +feature/leak -> feature/leak \\(secret detected: [\\w.-]+ in config/app.env:\\d @ ${shas[0]!.slice(0, 7)}`));
    expect(push.stderr).toContain('rotate the credential');
    expect(await upstreamRef('refs/heads/feature/leak')).toBeNull();
    expect(await upstreamHasObject(shas[0]!)).toBe(false);
    expect(gateway.output()).not.toContain(FAKE_AWS_SECRET);

    const sessions = JSON.parse((await gateway.cli(['sessions', 'list', '--json', '--agent', 'coder', '--limit', '500'])).stdout) as Array<{ id: string; refUpdates: Array<{ ref: string }> }>;
    const session = sessions.find((s) => s.refUpdates.some((u) => u.ref === 'refs/heads/feature/leak'))!;
    const shown = await gateway.cli(['sessions', 'show', session.id, '--json']);
    expect(shown.stdout).toContain('"ruleId"');
    expect(shown.stdout).not.toContain(FAKE_AWS_SECRET);
    expect(shown.stdout).not.toContain(FAKE_AWS_KEY);
    const replay = await gateway.cli(['sessions', 'show', session.id]);
    expect(replay.stdout).toMatch(/refs\/heads\/feature\/leak: BLOCKED \(git\.secrets\)/);
    expect(replay.stdout).toMatch(new RegExp(`commits +${shas[1]!.slice(0, 12)} ${shas[0]!.slice(0, 12)}|commits +${shas[0]!.slice(0, 12)} ${shas[1]!.slice(0, 12)}`));
    expect(replay.stdout).toMatch(/secret +[\w.-]+ in config\/app\.env:\d @ /);
    expect(replay.stdout).not.toContain(FAKE_AWS_SECRET);
    expect(replay.stdout).not.toContain(FAKE_AWS_KEY);
  });

  it('blocks force-push and deletion of main, allows both on a feature branch', async () => {
    const work = await freshClone('force');
    await gitOk(['reset', '-q', '--hard', 'HEAD~1'], { cwd: work });
    const { shas } = await createWorkRepo(work, [{ message: 'rewrite', files: { 'rewrite.txt': 'r\n' }, date: '1704500000 +0000' }]);
    const force = await runGit(['push', '--force', 'origin', 'main'], { cwd: work });
    expect(force.stderr).toMatch(/! \[remote rejected\] +main -> main \(blocked: force-push to protected ref\)/);
    const del = await runGit(['push', 'origin', '--delete', 'main'], { cwd: work });
    expect(del.stderr).toMatch(/! \[remote rejected\] +main \(blocked: deletion of protected ref\)/);
    expect(await upstreamRef('refs/heads/main')).not.toBe(shas[0]);

    await gitOk(['push', 'origin', 'HEAD:refs/heads/feature/force'], { cwd: work });
    await gitOk(['reset', '-q', '--hard', 'HEAD~1'], { cwd: work });
    await gitOk(['push', '--force', 'origin', 'HEAD:refs/heads/feature/force'], { cwd: work });
    expect(await upstreamRef('refs/heads/feature/force')).toBe((await gitOk(['rev-parse', 'HEAD'], { cwd: work })).stdout.trim());
    await gitOk(['push', 'origin', '--delete', 'feature/force'], { cwd: work });
    expect(await upstreamRef('refs/heads/feature/force')).toBeNull();
  });

  it('decides each ref of a multi-ref push on its own, and an atomic push as a whole', async () => {
    const work = await freshClone('multi');
    const { shas } = await createWorkRepo(work, [{ message: 'multi', files: { 'm.txt': 'm\n' }, date: '1704600000 +0000' }]);
    await gitOk(['branch', 'feature/multi'], { cwd: work });
    const push = await runGit(['push', 'origin', 'feature/multi', 'main'], { cwd: work });
    expect(push.stderr).toContain('* [new branch]      feature/multi -> feature/multi');
    heldId(push.stderr);
    expect(await upstreamRef('refs/heads/feature/multi')).toBe(shas[0]);

    await gitOk(['branch', 'feature/atomic'], { cwd: work });
    const atomic = await runGit(['push', '--atomic', 'origin', 'feature/atomic', 'main'], { cwd: work });
    expect(atomic.code).not.toBe(0);
    expect(atomic.stderr).toContain('atomic push: another ref was refused');
    expect(await upstreamRef('refs/heads/feature/atomic')).toBeNull();
  });
});

describe('bad input', () => {
  it('answers a garbage pack with a clean refusal and keeps serving', async () => {
    const info = await fetch(`${gateway.url}/git/local/acme/app.git/info/refs?service=git-receive-pack`, { headers: { authorization: `Bearer ${token}` } });
    expect(info.status).toBe(200);
    const head = await upstreamRef('refs/heads/main');
    const command = `${head} ${'1'.repeat(40)} refs/heads/feature/garbage\0 report-status side-band-64k`;
    const pkt = `${(command.length + 4).toString(16).padStart(4, '0')}${command}0000`;
    const response = await fetch(`${gateway.url}/git/local/acme/app.git/git-receive-pack`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-git-receive-pack-request' },
      body: Buffer.concat([Buffer.from(pkt), Buffer.from('PACK'), Buffer.from([0, 0, 0, 2, 0, 0, 0, 5]), Buffer.from('garbage-not-a-pack')]),
    });
    const text = Buffer.from(await response.arrayBuffer()).toString('latin1');
    expect(text).toContain('ng refs/heads/feature/garbage');
    expect(text).toMatch(/damaged|pack/i);
    expect(await upstreamRef('refs/heads/feature/garbage')).toBeNull();
    await gitOk(['ls-remote', url()]);
  });
});
