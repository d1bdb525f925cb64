/**
 * The push guardrails changed by the "Review fixes" commit, each as a plain `git push` prints it AND as
 * the upstream bare repository shows it afterwards: held deletes kept in the gateway, push options
 * dropped next to a held branch, a ref named twice refused, approving again to retry an approval the
 * upstream refused to apply (a hook's refusal is not staleness), and held objects kept apart from the
 * gateway's mirror until approval.
 */
import { existsSync } from 'node:fs';
import { chmod, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../helpers/gateway.ts';
import { gitDate, gitOk, runGit } from '../../helpers/git-cli.ts';
import { startGitUpstream, type GitUpstream } from '../../helpers/git-upstream.ts';
import { cleanupTempDirs, createWorkRepo, makeTempDir, seedUpstreamRepo } from '../../helpers/repos.ts';

// FAKE test credential, assembled at run time so this file holds nothing a scanner takes for a secret.
const FAKE_AWS_KEY_ID = ['AKIA', 'RVQ4HZT7MXKB2NLW'].join(''); // FAKE test credential
const ZERO = '0'.repeat(40);

let upstream: GitUpstream;
/** Policy: deleting a protected ref is held (forbidDelete: none); secrets are held (secrets.action: hold). */
let gateway: RunningGateway;
let token: string;

// ---------------------------------------------------------------------------------------------
// helpers

function url(repo: string): string {
  return `${gateway.url.replace('http://', `http://agent:${token}@`)}/git/local/acme/${repo}.git`;
}

function bare(repo: string): string {
  return path.join(upstream.root, 'acme', `${repo}.git`);
}

async function upstreamRef(repo: string, ref: string): Promise<string | null> {
  const result = await runGit(['--git-dir', bare(repo), 'rev-parse', '--verify', '-q', ref]);
  return result.code === 0 ? result.stdout.trim() : null;
}

async function upstreamRefs(repo: string): Promise<string> {
  return (await gitOk(['--git-dir', bare(repo), 'for-each-ref', '--format=%(objectname) %(refname)'])).stdout;
}

async function upstreamHasObject(repo: string, sha: string): Promise<boolean> {
  return (await runGit(['--git-dir', bare(repo), 'cat-file', '-e', sha])).code === 0;
}

/** receive-pack POSTs the upstream got for `repo` (the gateway's mirror fetches are upload-pack). */
function upstreamPushes(repo: string): number {
  return upstream.requests.filter((r) => r.method === 'POST' && r.url === `/acme/${repo}.git/git-receive-pack`).length;
}

async function clone(name: string, repo: string, branch?: string): Promise<string> {
  const work = await makeTempDir(name);
  await gitOk(['clone', '-q', url(repo), work.path]);
  if (branch) await gitOk(['checkout', '-q', '-b', branch], { cwd: work.path });
  return work.path;
}

async function head(work: string, rev = 'HEAD'): Promise<string> {
  return (await gitOk(['rev-parse', rev], { cwd: work })).stdout.trim();
}

function heldId(stderr: string, ref: string, pushed = `${ref} -> ${ref}`): string {
  const match = new RegExp(`! \\[remote rejected\\] +${pushed} \\(held for approval: ([a-z0-9]+)\\)`).exec(stderr);
  if (!match) throw new Error(`no hold for ${ref} in:\n${stderr}`);
  return match[1]!;
}

async function approvalStatus(id: string): Promise<Record<string, any>> {
  const listed = JSON.parse((await gateway.cli(['approvals', 'list', '--json'])).stdout) as Array<Record<string, any>>;
  const approval = listed.find((a) => a.id === id);
  if (!approval) throw new Error(`approval ${id} not listed`);
  return approval;
}

/** What the gateway recorded for the newest push to `repo` that named `ref`. */
async function pushRecord(repo: string, ref: string): Promise<Record<string, any>> {
  const sessions = JSON.parse((await gateway.cli(['sessions', 'list', '--json', '--repo', `local/acme/${repo}`, '--limit', '500'])).stdout) as Array<{
    id: string;
    refUpdates: Array<{ ref: string }>;
  }>;
  const session = sessions.find((s) => s.refUpdates.some((u) => u.ref === ref));
  if (!session) throw new Error(`no recorded push of ${ref} to ${repo}`);
  const shown = JSON.parse((await gateway.cli(['sessions', 'show', session.id, '--json'])).stdout) as {
    requests: Array<{ endpoint: string; details: Record<string, any> }>;
  };
  const post = shown.requests.filter((r) => r.endpoint === 'git-receive-pack').at(-1);
  if (!post) throw new Error(`session ${session.id} has no git-receive-pack request`);
  return post.details;
}

async function installHook(repo: string, name: 'pre-receive' | 'post-receive', script: string): Promise<void> {
  const file = path.join(bare(repo), 'hooks', name);
  await writeFile(file, script);
  await chmod(file, 0o755);
}

/**
 * Gives the bare repository a default branch `develop` (at main's commit): git refuses to delete the
 * branch HEAD names (receive.denyDeleteCurrent), as forges refuse to delete the default branch.
 */
async function defaultToDevelop(repo: string): Promise<void> {
  await gitOk(['--git-dir', bare(repo), 'branch', 'develop', 'main']);
  await gitOk(['--git-dir', bare(repo), 'symbolic-ref', 'HEAD', 'refs/heads/develop']);
}

/** Moves an upstream ref directly in the bare repository, as another person's push would. */
async function moveUpstream(repo: string, ref: string, files: Record<string, string>, offset: number): Promise<string> {
  const work = await makeTempDir('elsewhere');
  await gitOk(['clone', '-q', bare(repo), work.path]);
  const { shas: [sha] } = await createWorkRepo(work.path, [{ message: 'moved elsewhere', files, date: gitDate(offset) }]);
  await gitOk(['push', '-q', bare(repo), `HEAD:${ref}`], { cwd: work.path });
  return sha!;
}

function pktLine(text: string): Buffer {
  const data = Buffer.from(text);
  return Buffer.concat([Buffer.from((data.length + 4).toString(16).padStart(4, '0')), data]);
}

/** `git pack-objects --revs` of what `revs` select: the PACK git push would send. */
async function buildPack(work: string, revs: string[]): Promise<Buffer> {
  const dir = await makeTempDir('pack');
  const base = path.join(dir.path, 'push');
  const { stdout } = await gitOk(['pack-objects', '--revs', '-q', base], { cwd: work, input: `${revs.join('\n')}\n` });
  return readFile(`${base}-${stdout.trim()}.pack`);
}

// ---------------------------------------------------------------------------------------------
// setup

beforeAll(async () => {
  upstream = await startGitUpstream();
  const policy = path.join((await makeTempDir('review-policy')).path, 'policy.yml');
  // JSON is YAML.
  await writeFile(policy, JSON.stringify({ git: { forbidDelete: 'none', secrets: { action: 'hold' } } }, null, 2));
  gateway = await startGateway({ config: { remotes: [{ name: 'local', url: upstream.url }], policy } });
  token = await gateway.addAgent('review-coder', { write: ['local/acme/*'] });
});

afterAll(async () => {
  await gateway?.stop();
  await upstream?.close();
  await cleanupTempDirs();
});

// ---------------------------------------------------------------------------------------------

describe('held deletes (forbidDelete: none)', () => {
  it('holds `git push --delete main` in the gateway, forwards nothing, and deletes main upstream only when approved', async () => {
    const [, tip] = await seedUpstreamRepo(upstream, 'acme', 'del', [
      { message: 'first', files: { 'README.md': '# del\n' } },
      { message: 'second', files: { 'src/main.txt': 'hello\n' } },
    ]);
    await defaultToDevelop('del');
    const work = await clone('del', 'del');
    const before = await upstreamRefs('del');
    const pushesBefore = upstreamPushes('del');

    const push = await runGit(['push', 'origin', '--delete', 'main'], { cwd: work });
    expect(push.code).not.toBe(0);
    const id = heldId(push.stderr, 'main', 'main');
    expect(push.stderr).toContain(`remote: portcullis: main is held for approval ${id}: `);
    expect(push.stderr).toContain(`remote: portcullis:   a maintainer approves with: portcullis approvals approve ${id} --as <reviewer>`);
    // A delete has no commit to park: nothing waits upstream.
    expect(push.stderr).not.toContain('waits upstream');

    // Nothing forwarded: no receive-pack request upstream, main unchanged, no held branch.
    expect(upstreamPushes('del')).toBe(pushesBefore);
    expect(await upstreamRef('del', 'refs/heads/main')).toBe(tip);
    expect(await upstreamRef('del', `refs/heads/portcullis/held/${id}`)).toBeNull();
    expect(await upstreamRefs('del')).toBe(before);
    expect(await approvalStatus(id)).toMatchObject({ status: 'pending', ref: 'refs/heads/main', oldOid: tip, newOid: ZERO });

    const approve = await gateway.cli(['approvals', 'approve', id, '--as', 'maintainer']);
    expect(approve.stderr).toBe('');
    expect(approve.code).toBe(0);
    expect(approve.stdout).toContain(`approved ${id}: refs/heads/main of local/acme/del was deleted`);
    expect(await upstreamRef('del', 'refs/heads/main')).toBeNull();
    expect(await upstreamRefs('del')).toBe(`${tip} refs/heads/develop\n`);
    expect(await approvalStatus(id)).toMatchObject({ status: 'applied', decidedBy: 'maintainer' });
  });

  it('makes an approved delete stale when main moved meanwhile (the lease), leaving main where it moved', async () => {
    await seedUpstreamRepo(upstream, 'acme', 'del-lease', [{ message: 'first', files: { 'README.md': '# lease\n' } }]);
    await defaultToDevelop('del-lease');
    const work = await clone('del-lease', 'del-lease');
    const id = heldId((await runGit(['push', 'origin', '--delete', 'main'], { cwd: work })).stderr, 'main', 'main');

    const moved = await moveUpstream('del-lease', 'refs/heads/main', { 'other.txt': 'someone else\n' }, 500);
    const approve = await gateway.cli(['approvals', 'approve', id, '--as', 'maintainer']);
    expect(approve.code).toBe(0);
    expect(approve.stdout).toContain(`approval ${id} is stale: refs/heads/main moved to ${moved.slice(0, 12)} since the push was held`);
    expect(await upstreamRef('del-lease', 'refs/heads/main')).toBe(moved);
    expect(await approvalStatus(id)).toMatchObject({ status: 'stale', staleReason: expect.stringContaining('rebase') });
  });
});

// ---------------------------------------------------------------------------------------------

describe('push options next to a held branch', () => {
  let log: string;

  beforeAll(async () => {
    await seedUpstreamRepo(upstream, 'acme', 'opts', [{ message: 'first', files: { 'README.md': '# opts\n' } }]);
    await gitOk(['--git-dir', bare('opts'), 'config', 'receive.advertisePushOptions', 'true']);
    // The upstream's own hook writes down every push it sees: the refs and the push options.
    log = path.join((await makeTempDir('opts-log')).path, 'pushes.log');
    await installHook(
      'opts',
      'pre-receive',
      [
        '#!/bin/sh',
        'refs=""',
        'while read old new ref; do refs="$refs $ref"; done',
        'opts=""',
        'i=0',
        'while [ "$i" -lt "${GIT_PUSH_OPTION_COUNT:-0}" ]; do',
        '  eval "opts=\\"\\$opts \\$GIT_PUSH_OPTION_$i\\""',
        '  i=$((i + 1))',
        'done',
        `echo "refs:$refs options:$opts" >> '${log}'`,
        '',
      ].join('\n'),
    );
  });

  const pushes = async () => (existsSync(log) ? (await readFile(log, 'utf8')).trim().split('\n') : []);

  it('drops `-o ci.skip` when the push to main is held and forwarded as a held branch, and records that', async () => {
    const work = await clone('opts-held', 'opts');
    const { shas: [commit] } = await createWorkRepo(work, [{ message: 'to main', files: { 'main.txt': 'main\n' }, date: gitDate(1000) }]);
    const seen = (await pushes()).length;

    const push = await runGit(['push', '-o', 'ci.skip', 'origin', 'HEAD:main'], { cwd: work });
    expect(push.code).not.toBe(0);
    const id = heldId(push.stderr, 'main', 'HEAD -> main');
    expect(push.stderr).toContain(`remote: portcullis:   meanwhile the commit waits upstream as portcullis/held/${id}`);
    expect(await upstreamRef('opts', `refs/heads/portcullis/held/${id}`)).toBe(commit);

    // The upstream saw the held branch, without the push option.
    const after = (await pushes()).slice(seen);
    expect(after).toEqual([`refs: refs/heads/portcullis/held/${id} options:`]);
    expect(after.join('\n')).not.toContain('ci.skip');
    const details = await pushRecord('opts', 'refs/heads/main');
    expect(details.pushOptions).toEqual(['ci.skip']);
    expect(details.droppedPushOptions).toEqual(['ci.skip']);
    expect(details.forwarded).toEqual([{ oldOid: ZERO, newOid: commit, ref: `refs/heads/portcullis/held/${id}` }]);
  });

  it('keeps the push options of an allowed feature-branch push', async () => {
    const work = await clone('opts-allowed', 'opts', 'feature/opts');
    const { shas: [commit] } = await createWorkRepo(work, [{ message: 'feature', files: { 'feature.txt': 'f\n' }, date: gitDate(1100) }]);
    const seen = (await pushes()).length;

    const push = await gitOk(['push', '-o', 'ci.skip', '-o', 'reviewer=maintainer', 'origin', 'feature/opts'], { cwd: work });
    expect(push.stderr).toContain('* [new branch]      feature/opts -> feature/opts');
    expect(await upstreamRef('opts', 'refs/heads/feature/opts')).toBe(commit);
    expect((await pushes()).slice(seen)).toEqual(['refs: refs/heads/feature/opts options: ci.skip reviewer=maintainer']);
    const details = await pushRecord('opts', 'refs/heads/feature/opts');
    expect(details.pushOptions).toEqual(['ci.skip', 'reviewer=maintainer']);
    expect(details.droppedPushOptions).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------

describe('a ref named twice', () => {
  it('refuses a push with two commands for refs/heads/feature/x and changes nothing upstream', async () => {
    const [base] = await seedUpstreamRepo(upstream, 'acme', 'twice', [{ message: 'first', files: { 'README.md': '# twice\n' } }]);
    const work = await clone('twice', 'twice');
    const { shas: [first, second] } = await createWorkRepo(work, [
      { message: 'x one', files: { 'x.txt': 'one\n' }, date: gitDate(2000) },
      { message: 'x two', files: { 'x.txt': 'two\n' }, date: gitDate(2060) },
    ]);
    const pack = await buildPack(work, [second!, `^${base}`]);
    const before = await upstreamRefs('twice');
    const pushesBefore = upstreamPushes('twice');

    // The second command would otherwise ride on the first's verdict.
    const body = Buffer.concat([
      pktLine(`${ZERO} ${first} refs/heads/feature/x\0report-status side-band-64k agent=git/portcullis-test\n`),
      pktLine(`${first} ${second} refs/heads/feature/x\n`),
      Buffer.from('0000'),
      pack,
    ]);
    const response = await fetch(`${gateway.url}/git/local/acme/twice.git/git-receive-pack`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-git-receive-pack-request' },
      body: new Uint8Array(body),
    });
    const text = await response.text();
    expect(response.status).toBe(400);
    expect(text).toContain('the push names the same ref more than once');
    expect(text).toContain('hint: push each ref once');

    expect(upstreamPushes('twice')).toBe(pushesBefore);
    expect(await upstreamRefs('twice')).toBe(before);
    expect(await upstreamHasObject('twice', first!)).toBe(false);
    expect(await upstreamHasObject('twice', second!)).toBe(false);
    // Still serving.
    await gitOk(['ls-remote', url('twice')]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('approving again retries an approval the upstream refused to apply', () => {
  it('stays approved (not stale) when an upstream hook refuses main, and lands on the second approve', async () => {
    const [, tip] = await seedUpstreamRepo(upstream, 'acme', 'retry', [
      { message: 'first', files: { 'README.md': '# retry\n' } },
      { message: 'second', files: { 'src/main.txt': 'hello\n' } },
    ]);
    // While the marker exists the upstream refuses any update of main (held branches still pass).
    const marker = path.join((await makeTempDir('retry-marker')).path, 'frozen');
    await installHook(
      'retry',
      'pre-receive',
      ['#!/bin/sh', 'while read old new ref; do', `  if [ "$ref" = refs/heads/main ] && [ -e '${marker}' ]; then echo "main is frozen" >&2; exit 1; fi`, 'done', 'exit 0', ''].join('\n'),
    );
    const work = await clone('retry', 'retry');
    const { shas: [commit] } = await createWorkRepo(work, [{ message: 'to main', files: { 'src/main.txt': 'hello, main\n' }, date: gitDate(3000) }]);
    const id = heldId((await runGit(['push', 'origin', 'main'], { cwd: work })).stderr, 'main');
    expect(await upstreamRef('retry', `refs/heads/portcullis/held/${id}`)).toBe(commit);

    await writeFile(marker, '');
    const refused = await gateway.cli(['approvals', 'approve', id, '--as', 'maintainer']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`approval ${id} is approved but could not be applied upstream`);
    expect(refused.stderr).toContain('approving again retries');
    expect(`${refused.stdout}${refused.stderr}`).not.toMatch(/stale/);
    expect(await approvalStatus(id)).toMatchObject({ status: 'approved', decidedBy: 'maintainer' });
    expect(await upstreamRef('retry', 'refs/heads/main')).toBe(tip);
    // The held branch stays until the approval is applied.
    expect(await upstreamRef('retry', `refs/heads/portcullis/held/${id}`)).toBe(commit);

    await rm(marker);
    const retried = await gateway.cli(['approvals', 'approve', id, '--as', 'another-maintainer']);
    expect(retried.stderr).toBe('');
    expect(retried.code).toBe(0);
    expect(retried.stdout).toContain(`approved ${id}: refs/heads/main of local/acme/retry is now ${commit!.slice(0, 12)}`);
    expect(await upstreamRef('retry', 'refs/heads/main')).toBe(commit);
    expect(await upstreamRef('retry', `refs/heads/portcullis/held/${id}`)).toBeNull();
    // The first reviewer's decision stands; the retry only applied it.
    expect(await approvalStatus(id)).toMatchObject({ status: 'applied', decidedBy: 'maintainer' });
  });
});

// ---------------------------------------------------------------------------------------------

describe('a held secret (secrets.action: hold) waits apart from the mirror', () => {
  it('keeps its objects under <dataDir>/holds/<id>, never in the mirror; approving lands it and removes them', async () => {
    await seedUpstreamRepo(upstream, 'acme', 'vault', [{ message: 'first', files: { 'README.md': '# vault\n' } }]);
    const work = await clone('vault', 'vault', 'feature/aws');
    const { shas: [commit] } = await createWorkRepo(work, [
      { message: 'aws access', files: { 'ops/aws.ini': `[default]\naws_access_key_id = ${FAKE_AWS_KEY_ID}\n` }, date: gitDate(4000) },
    ]);
    const blob = await head(work, `${commit}:ops/aws.ini`);
    const before = await upstreamRefs('vault');

    const push = await runGit(['push', 'origin', 'feature/aws'], { cwd: work });
    expect(push.code).not.toBe(0);
    const id = heldId(push.stderr, 'feature/aws');
    expect(push.stderr).toMatch(new RegExp(`remote: portcullis: feature/aws is held for approval ${id}: secret detected: aws-access-key in ops/aws\\.ini:2 @ ${commit!.slice(0, 7)}`));
    expect(await upstreamRefs('vault')).toBe(before);
    expect(await upstreamHasObject('vault', blob)).toBe(false);

    // The mirror never holds the secret; the hold's own object directory does.
    const mirror = path.join(gateway.dataDir, 'mirrors', 'local', 'acme', 'vault.git');
    const kept = path.join(gateway.dataDir, 'holds', id, 'objects');
    expect(existsSync(mirror)).toBe(true);
    expect((await runGit(['--git-dir', mirror, 'cat-file', '-e', blob])).code).not.toBe(0);
    expect((await runGit(['--git-dir', mirror, 'cat-file', '-e', commit!])).code).not.toBe(0);
    expect((await readdir(path.join(kept, 'pack'))).sort()).toEqual([expect.stringMatching(/^pack-[0-9a-f]+\.idx$/), expect.stringMatching(/^pack-[0-9a-f]+\.pack$/)]);
    expect((await runGit(['--git-dir', mirror, 'cat-file', '-e', blob], { env: { GIT_ALTERNATE_OBJECT_DIRECTORIES: kept } })).code).toBe(0);

    // Since nothing unapproved counts as known, the same commit pushed to another branch is scanned (and held) again.
    const again = await runGit(['push', 'origin', 'feature/aws:feature/aws-again'], { cwd: work });
    const againId = heldId(again.stderr, 'feature/aws-again', 'feature/aws -> feature/aws-again');
    expect(again.stderr).toMatch(/held for approval [a-z0-9]+: secret detected: aws-access-key in ops\/aws\.ini:2/);
    expect(againId).not.toBe(id);
    expect(await upstreamRefs('vault')).toBe(before);

    const approve = await gateway.cli(['approvals', 'approve', id, '--as', 'maintainer', '--comment', 'a documented fake key']);
    expect(approve.stderr).toBe('');
    expect(approve.stdout).toContain(`approved ${id}: refs/heads/feature/aws of local/acme/vault is now ${commit!.slice(0, 12)}`);
    expect(await upstreamRef('vault', 'refs/heads/feature/aws')).toBe(commit);
    expect(await upstreamHasObject('vault', blob)).toBe(true);
    expect(existsSync(path.join(gateway.dataDir, 'holds', id))).toBe(false);
    // The other hold keeps its own objects until it is decided.
    expect(existsSync(path.join(gateway.dataDir, 'holds', againId, 'objects'))).toBe(true);
    const deny = await gateway.cli(['approvals', 'deny', againId, '--as', 'maintainer']);
    expect(deny.stdout).toContain(`denied ${againId}`);
    expect(existsSync(path.join(gateway.dataDir, 'holds', againId))).toBe(false);
    expect(await upstreamRef('vault', 'refs/heads/feature/aws-again')).toBeNull();
  });
});
