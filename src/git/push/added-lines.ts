/**
 * Step 5 of the push path (DESIGN.md "Write (push)"), the part the secret scanner reads: the lines
 * each new commit adds, file by file, for EVERY commit of the push — a secret added in one commit
 * and removed in the next is still a leak. One `git diff-tree --stdin` process for all commits,
 * read as it streams; at most one file's added text (bounded by `maxFileBytes`) is held at a time.
 */
import { PortcullisError } from '../../errors.ts';
import { collectStderr, killGitCommand, spawnGitCommand, waitForExit } from './git-command.ts';
import { revisionFailure } from './inspection-errors.ts';
import type { Mirror } from './mirror.ts';
import { checkOids } from './new-commits.ts';
import { createPatchParser, type AddedFile, type SkippedFile } from './patch-parser.ts';
import type { Quarantine } from './quarantine.ts';
import { splitLines } from './split-lines.ts';

export interface AddedLinesOptions {
  /** Added text per file above this is not handed out: the file comes back as `too-large`. */
  maxFileBytes?: number;
  /** Stops git and ends the iteration with the signal's reason (e.g. the scan timeout). */
  signal?: AbortSignal;
}

export const DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024;
/** Room for the marker columns of a merge's combined diff in front of a full-size line. */
const MARKER_ROOM = 256;

const DIFF_TREE_ARGS = [
  'diff-tree',
  '--stdin', // one commit id per line, answered in the same order
  '-r',
  '-p',
  '--cc', // merges: combined diff against all parents
  '-M', // renames: only the lines the rename changed count as added
  '--root', // root commits: everything, against the empty tree
  '--no-color',
  '--no-ext-diff',
  '--no-textconv',
  '--src-prefix=a/',
  '--dst-prefix=b/',
];

export async function* addedLines(
  mirror: Mirror,
  quarantine: Quarantine,
  commits: string[],
  options: AddedLinesOptions = {},
): AsyncGenerator<AddedFile | SkippedFile> {
  const shas = checkOids(commits);
  if (shas.length === 0) return;
  const { signal } = options;
  signal?.throwIfAborted();
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const child = spawnGitCommand(DIFF_TREE_ARGS, {
    gitDir: mirror.path,
    env: quarantine.env,
    stdin: shas.map((sha) => `${sha}\n`).join(''),
  });
  const stderr = collectStderr(child);
  const exited = waitForExit(child);
  const stop = () => killGitCommand(child);
  signal?.addEventListener('abort', stop, { once: true });
  const parser = createPatchParser({ maxFileBytes });
  let complete = false;
  try {
    // Reading pauses while the caller works on a yielded file, and git pauses with it.
    for await (const lines of splitLines(child.stdout, maxFileBytes + MARKER_ROOM)) {
      for (const line of lines) {
        for (const entry of parser.push(line)) yield entry;
      }
    }
    const code = await exited;
    signal?.throwIfAborted();
    if (code !== 0) throw revisionFailure(stderr(), 'read the pushed changes');
    for (const entry of parser.end()) yield entry;
    complete = true;
  } finally {
    signal?.removeEventListener('abort', stop);
    if (!complete) stop(); // the caller stopped early, or something failed
  }
}

export type { AddedFile, AddedLine, SkippedFile } from './patch-parser.ts';
