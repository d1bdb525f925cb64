/**
 * Builds pushes the way `git push` does, without a gateway: a work clone of a real upstream repo,
 * commits made there, and the thin PACK git would send (`pack-objects --thin --revs` with the new
 * tips and `^` the upstream's), spooled and quarantined by the modules under test.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { quarantinePack, spoolPack, syncMirror, type Mirror, type Quarantine, type SpooledPack } from '../../../src/git/push/index.ts';
import { gitEnv, gitOk, runGit } from '../../helpers/git-cli.ts';
import type { GitUpstream } from '../../helpers/git-upstream.ts';
import { createWorkRepo, makeTempDir, type CommitSpec } from '../../helpers/repos.ts';

export const UPSTREAM_USER = 'forge-bot';
export const UPSTREAM_PASSWORD = 'upstream-password-FAKE-do-not-leak';
export const AUTHORIZATION = `Basic ${Buffer.from(`${UPSTREAM_USER}:${UPSTREAM_PASSWORD}`).toString('base64')}`;
export const MIB = 1024 * 1024;

/**
 * Writes `git pack-objects --stdout --revs [--thin]` for `revs` (e.g. `NEW`, `^OLD`) to `file`;
 * with `objects: true`, `revs` are object ids packed as listed, as no `git push` would.
 */
export async function buildPack(workDir: string, revs: string[], file: string, options: { thin?: boolean; objects?: boolean } = {}): Promise<string> {
  const args = options.objects
    ? ['pack-objects', '--stdout', '-q']
    : ['pack-objects', '--stdout', '--revs', '-q', ...(options.thin === false ? [] : ['--thin'])];
  const child = spawn('git', args, { cwd: workDir, env: gitEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  child.stdin.end(revs.map((rev) => `${rev}\n`).join(''));
  await pipeline(child.stdout, createWriteStream(file));
  const code = await exited;
  if (code !== 0) throw new Error(`pack-objects failed: ${Buffer.concat(stderr).toString('utf8')}`);
  return file;
}

export async function gitOut(args: string[], cwd: string): Promise<string> {
  return (await gitOk(args, { cwd })).stdout.trim();
}

/** A clone of `<owner>/<repo>.git` straight from the upstream's directory, with the test identity. */
export async function cloneUpstream(upstream: GitUpstream, owner: string, repo: string): Promise<string> {
  const work = await makeTempDir('push-work');
  await gitOk(['clone', '-q', join(upstream.root, owner, `${repo}.git`), work.path]);
  return work.path;
}

/** Commits on the work clone's current branch; dates continue after `offsetMinutes`. */
export async function commit(dir: string, commits: CommitSpec[], offsetMinutes = 100): Promise<string[]> {
  const dated = commits.map((spec, index) => ({ ...spec, date: spec.date ?? `${1_704_067_200 + (offsetMinutes + index) * 60} +0000` }));
  return (await createWorkRepo(dir, dated)).shas;
}

/** A merge that may conflict: `resolve` then holds the merged content of each conflicting file. */
export async function merge(dir: string, branch: string, resolve: CommitSpec['files'], message: string): Promise<string> {
  await runGit(['merge', '--no-ff', '--no-commit', branch], { cwd: dir });
  return (await commit(dir, [{ message, files: resolve }], 500))[0]!;
}

export interface PreparedPush {
  dataDir: string;
  pack: SpooledPack;
  mirror: Mirror;
  quarantine: Quarantine;
}

/** Everything the gateway does before scanning: spool, sync the mirror, quarantine. */
export async function preparePush(
  upstream: GitUpstream,
  owner: string,
  repo: string,
  workDir: string,
  revs: string[],
): Promise<PreparedPush> {
  const dataDir = (await makeTempDir('push-data')).path;
  const file = await buildPack(workDir, revs, join(dataDir, 'built.pack'));
  const pack = await spoolPack(createReadStream(file), { dataDir, maxBytes: 100 * MIB });
  const mirror = await syncMirror({
    dataDir,
    remote: 'local',
    owner,
    repo,
    upstreamUrl: `${upstream.url}/${owner}/${repo}.git`,
    authorization: AUTHORIZATION,
    timeoutMs: 20_000,
  });
  const quarantine = await quarantinePack(mirror, pack, { dataDir });
  return { dataDir, pack, mirror, quarantine };
}
