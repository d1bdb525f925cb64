/**
 * Repositories built with real git instead of committed `.git` fixtures (STYLE.md point 13):
 * fixed identities and dates make every sha the same on every run.
 */
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gitDate, gitOk } from './git-cli.ts';
import type { GitUpstream } from './git-upstream.ts';

export interface CommitSpec {
  message: string;
  /** Path → content; `null` deletes the file. */
  files: Record<string, string | Buffer | null>;
  /** Author and committer date in any format git accepts; defaults to a fixed date per position. */
  date?: string;
}

export interface TempDir {
  path: string;
  cleanup(): Promise<void>;
}

const tempDirs = new Set<string>();

/** A fresh directory; remove it with `cleanup()` or all at once with `cleanupTempDirs()` in afterAll. */
export async function makeTempDir(prefix: string): Promise<TempDir> {
  // realpath: git reports resolved paths, so tests comparing paths need the resolved form too.
  const path = await realpath(await mkdtemp(join(tmpdir(), `portcullis-${prefix}-`)));
  tempDirs.add(path);
  return {
    path,
    async cleanup() {
      tempDirs.delete(path);
      await rm(path, { recursive: true, force: true });
    },
  };
}

export async function cleanupTempDirs(): Promise<void> {
  const paths = [...tempDirs];
  tempDirs.clear();
  await Promise.all(paths.map((path) => rm(path, { recursive: true, force: true })));
}

/**
 * Makes `dir` a work-tree repository (branch main) and adds one commit per spec, returning their
 * shas in order. On an existing repository it appends to the current branch.
 */
export async function createWorkRepo(dir: string, commits: CommitSpec[]): Promise<{ dir: string; shas: string[] }> {
  await mkdir(dir, { recursive: true });
  await gitOk(['init', '-q'], { cwd: dir });
  const shas: string[] = [];
  for (const [index, commit] of commits.entries()) {
    await applyFiles(dir, commit.files);
    await gitOk(['add', '-A'], { cwd: dir });
    // One minute apart by default, so `git log` order is the order given here.
    const date = commit.date ?? gitDate(index * 60);
    await gitOk(['commit', '-q', '--allow-empty', '-m', commit.message], {
      cwd: dir,
      env: { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
    });
    shas.push((await gitOk(['rev-parse', 'HEAD'], { cwd: dir })).stdout.trim());
  }
  return { dir, shas };
}

async function applyFiles(dir: string, files: CommitSpec['files']): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    if (content === null) {
      await rm(path, { force: true });
    } else {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
    }
  }
}

/**
 * Creates `<owner>/<repo>.git` on the upstream and pushes the commits to its main branch through
 * the file system, so no gateway, credentials or recorded requests are involved.
 * Each call builds a new history: to add to an existing one, clone and push instead.
 */
export async function seedUpstreamRepo(
  upstream: Pick<GitUpstream, 'createBareRepo'>,
  owner: string,
  repo: string,
  commits: CommitSpec[],
): Promise<string[]> {
  const bare = await upstream.createBareRepo(owner, repo);
  if (commits.length === 0) return [];
  const work = await makeTempDir('seed');
  try {
    const { shas } = await createWorkRepo(work.path, commits);
    await gitOk(['push', '-q', bare, 'HEAD:refs/heads/main'], { cwd: work.path });
    return shas;
  } finally {
    await work.cleanup();
  }
}
