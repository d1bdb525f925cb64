/**
 * Step 5 of the push path (DESIGN.md "Write (push)"): which commits a push brings that upstream does
 * not already have, whether a ref update only moves forward, and which paths the new commits touch.
 */
import { createInterface } from 'node:readline';
import { PortcullisError } from '../../errors.ts';
import { isOid, isZeroOid } from '../codec/index.ts';
import { collectStderr, killGitCommand, runGitCommand, spawnGitCommand, waitForExit } from './git-command.ts';
import { inspectionFailed, revisionFailure } from './inspection-errors.ts';
import type { Mirror } from './mirror.ts';
import type { Quarantine } from './quarantine.ts';

export interface NewCommit {
  sha: string;
  parents: string[];
  author: string;
  authorEmail: string;
  committedAt: Date;
  subject: string;
}

/**
 * Held pushes wait upstream on these refs (approvals' HELD_REF_PREFIX). Their commits are not
 * approved, so they do not count as "already upstream": a held commit pushed again to another ref
 * is listed, scanned and judged again.
 */
export const UNAPPROVED_REFS_GLOB = 'refs/heads/portcullis/held/*';
/** rev-list arguments for "what upstream has accepted": every ref but the unapproved ones. */
export const ACCEPTED_REFS_ARGS = [`--exclude=${UNAPPROVED_REFS_GLOB}`, '--all'];


/**
 * Every commit reachable from `newOids` and from no mirror ref, children before parents
 * (`rev-list --topo-order`). Side branches merged in are included; zero ids (deletes) are ignored.
 */
export async function listNewCommits(mirror: Mirror, quarantine: Quarantine, newOids: string[]): Promise<NewCommit[]> {
  const tips = checkOids(newOids).filter((oid) => !isZeroOid(oid));
  if (tips.length === 0) return [];
  // --stdin before --not: the tips are read as they are met, so they stay positive.
  const child = spawnGitCommand(
    ['rev-list', '--topo-order', '--format=%P%x00%an%x00%ae%x00%ct%x00%s', '--stdin', '--not', ...ACCEPTED_REFS_ARGS],
    { gitDir: mirror.path, env: quarantine.env, stdin: tips.map((oid) => `${oid}\n`).join('') },
  );
  const stderr = collectStderr(child);
  const exited = waitForExit(child);
  const commits: NewCommit[] = [];
  let sha: string | undefined;
  let complete = false;
  try {
    // rev-list --format prints `commit <sha>` and then the formatted line.
    for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
      if (sha === undefined) {
        if (!line.startsWith('commit ')) throw inspectionFailed(`unexpected rev-list output "${line.slice(0, 80)}"`);
        sha = line.slice('commit '.length);
        continue;
      }
      const [parents = '', author = '', authorEmail = '', committed = '0', subject = ''] = line.split('\0');
      commits.push({
        sha,
        parents: parents === '' ? [] : parents.split(' '),
        author,
        authorEmail,
        committedAt: new Date(Number(committed) * 1000),
        subject,
      });
      sha = undefined;
    }
    complete = true;
  } finally {
    if (!complete) killGitCommand(child); // stop git when parsing failed; otherwise let it exit
  }
  const code = await exited;
  if (code !== 0) throw revisionFailure(stderr(), 'list the pushed commits');
  return commits;
}

/**
 * True when `newOid` descends from `oldOid`, i.e. the update loses no upstream history. Creating a
 * ref counts as fast-forward and deleting one does not; an old value the mirror does not know
 * cannot be shown to be an ancestor, so it is not.
 */
export async function isFastForward(mirror: Mirror, quarantine: Quarantine, oldOid: string, newOid: string): Promise<boolean> {
  checkOids([oldOid, newOid]);
  if (isZeroOid(oldOid)) return true;
  if (isZeroOid(newOid)) return false;
  const result = await runGitCommand(['merge-base', '--is-ancestor', oldOid, newOid], { gitDir: mirror.path, env: quarantine.env });
  if (result.code === 0) return true;
  if (result.code === 1) return false;
  const known = await runGitCommand(['cat-file', '-e', `${oldOid}^{commit}`], { gitDir: mirror.path, env: quarantine.env });
  if (known.code !== 0) return false;
  throw revisionFailure(result.stderr, 'check for a fast-forward');
}

/**
 * Every path the given commits change (both names of a rename). A merge counts with the paths
 * whose result differs from all of its parents (`diff-tree -c`): what it brings from a parent is
 * already counted with that parent's commits, or was upstream before.
 */
export async function changedPaths(mirror: Mirror, quarantine: Quarantine, commits: string[]): Promise<string[]> {
  const shas = checkOids(commits);
  if (shas.length === 0) return [];
  const child = spawnGitCommand(
    ['diff-tree', '--stdin', '-r', '-z', '--name-status', '-M', '--root', '-c', '--combined-all-paths', '--no-ext-diff'],
    { gitDir: mirror.path, env: quarantine.env, stdin: shas.map((sha) => `${sha}\n`).join('') },
  );
  const stderr = collectStderr(child);
  const exited = waitForExit(child);
  const paths = new Set<string>();
  let complete = false;
  try {
    await collectNameStatusPaths(child.stdout, paths);
    complete = true;
  } finally {
    if (!complete) killGitCommand(child);
  }
  const code = await exited;
  if (code !== 0) throw revisionFailure(stderr(), 'list the changed paths');
  return [...paths].sort();
}

/**
 * `-z --name-status` output is NUL-separated fields: a commit id, then per file a status and its
 * paths — two for a rename or copy (`R085`), one per parent plus the result for a merge (`MM`),
 * else one.
 */
async function collectNameStatusPaths(stdout: AsyncIterable<Buffer>, paths: Set<string>): Promise<void> {
  let pending = 0;
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of stdout) {
    const data = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let end = data.indexOf(0, start); end >= 0; end = data.indexOf(0, start)) {
      const field = data.subarray(start, end).toString('utf8');
      start = end + 1;
      if (pending > 0) {
        paths.add(field);
        pending -= 1;
      } else if (isOid(field)) {
        continue; // the next commit
      } else if (/^[RC]\d*$/.test(field)) {
        pending = 2;
      } else if (/^[A-Z]$/.test(field)) {
        pending = 1;
      } else if (/^[A-Z]{2,}$/.test(field)) {
        pending = field.length + 1;
      } else {
        throw inspectionFailed(`unexpected diff-tree field "${field.slice(0, 80)}"`);
      }
    }
    rest = data.subarray(start);
  }
  if (pending > 0 || rest.length > 0) throw inspectionFailed('diff-tree output ended in the middle of a record');
}

export function checkOids(oids: string[]): string[] {
  for (const oid of oids) {
    if (!isOid(oid)) throw new PortcullisError('PACK_INVALID', `"${oid.slice(0, 80)}" is not an object id`);
  }
  return oids;
}
