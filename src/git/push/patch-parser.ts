/**
 * Reads `git diff-tree --stdin -p --cc` output line by line and hands out the added lines of each
 * file of each commit. Formats: https://git-scm.com/docs/git-diff#_generating_patch_text_with_p and
 * https://git-scm.com/docs/git-diff#_combined_diff_format.
 *
 * Output shape, per commit: its id on a line of its own, then per file a `diff --git a/X b/Y` (or
 * `diff --cc X` for a merge) line, extended headers, and hunks. Inside a hunk every line starts with
 * one marker column per parent (' ', '+', '-'), so a hunk ends at the first line that does not.
 * A line is in the new file unless some column is '-'; it is added by this commit when every column
 * is '+' — for a merge, that is a line found in none of its parents (a conflict resolution or an
 * "evil" change); lines taken from a parent are counted with that parent's own commits.
 */
import { isOid } from '../codec/index.ts';
import { inspectionFailed } from './inspection-errors.ts';
import { parseDiffGitNames, parsePathField } from './quoted-path.ts';
import type { SplitLine } from './split-lines.ts';

export interface AddedLine {
  /** 1-based line number in the file as the commit leaves it. */
  line: number;
  text: string;
}

export interface AddedFile {
  commit: string;
  path: string;
  /** Set when the commit renamed the file. */
  previousPath?: string;
  lines: AddedLine[];
}

export interface SkippedFile {
  commit: string;
  path: string;
  previousPath?: string;
  /** Not scanned: git sees binary content, or the added text is over the per-file limit. */
  skipped: 'binary' | 'too-large';
}

export type PatchEntry = AddedFile | SkippedFile;

export interface PatchParser {
  push(line: SplitLine): readonly PatchEntry[];
  end(): readonly PatchEntry[];
}

interface FileState {
  columns: number;
  combinedPath?: string;
  gitNames?: { from: string; to: string };
  renameFrom?: string;
  renameTo?: string;
  /** From `+++ b/Y`; null for /dev/null. */
  plusPath?: string | null;
  deleted: boolean;
  binary: boolean;
  submodule: boolean;
  tooLarge: boolean;
  addedBytes: number;
  lines: AddedLine[];
}

const PLUS = 0x2b;
const MINUS = 0x2d;
const SPACE = 0x20;
const BACKSLASH = 0x5c;
const GITLINK_MODE = / 160000$/;
const NONE: readonly PatchEntry[] = Object.freeze([]);
/**
 * Each kept line costs an object besides its text; a file of millions of one-character lines would
 * cost far more memory than its bytes suggest, so the line count is bounded too.
 */
const MIN_BYTES_PER_LINE = 8;

export function createPatchParser(options: { maxFileBytes: number }): PatchParser {
  let commit: string | undefined;
  let file: FileState | undefined;
  /** The next new-file line number while inside a hunk. */
  let hunkLine: number | undefined;

  const maxLines = Math.ceil(options.maxFileBytes / MIN_BYTES_PER_LINE);

  function finish(): readonly PatchEntry[] {
    const done = file;
    file = undefined;
    hunkLine = undefined;
    if (done === undefined || done.deleted || done.submodule) return NONE;
    if (!done.binary && !done.tooLarge && done.lines.length === 0) return NONE;
    if (commit === undefined) throw inspectionFailed('diff-tree printed a file before any commit');
    const path = done.combinedPath ?? done.plusPath ?? done.renameTo ?? done.gitNames?.to;
    if (path === undefined) throw inspectionFailed(`cannot tell the name of a file changed in ${commit}`);
    const previousPath = done.combinedPath === undefined ? done.renameFrom : undefined;
    const where = previousPath === undefined ? { commit, path } : { commit, path, previousPath };
    if (done.binary) return [{ ...where, skipped: 'binary' }];
    if (done.tooLarge) return [{ ...where, skipped: 'too-large' }];
    return [{ ...where, lines: done.lines }];
  }

  function startFile(columns: number): readonly PatchEntry[] {
    const entries = finish();
    file = { columns, deleted: false, binary: false, submodule: false, tooLarge: false, addedBytes: 0, lines: [] };
    return entries;
  }

  function markTooLarge(state: FileState): void {
    state.tooLarge = true;
    state.lines = []; // the limit is also a memory bound
  }

  function readHunkLine(state: FileState, line: SplitLine): void {
    const { bytes } = line;
    let removed = false;
    let added = true;
    for (let i = 0; i < state.columns; i += 1) {
      const marker = bytes[i] ?? SPACE; // an empty context line may come without its space
      if (marker === MINUS) removed = true;
      if (marker !== PLUS) added = false;
    }
    if (removed) return;
    const number = hunkLine!;
    hunkLine = number + 1;
    if (!added || state.tooLarge) return;
    state.addedBytes += bytes.length - state.columns + 1;
    if (line.truncated || state.addedBytes > options.maxFileBytes || state.lines.length >= maxLines) markTooLarge(state);
    else state.lines.push({ line: number, text: bytes.toString('utf8', state.columns) });
  }

  function readHeader(state: FileState, text: string): void {
    if (text.startsWith('rename from ')) state.renameFrom = parsePathField(text.slice('rename from '.length));
    else if (text.startsWith('rename to ')) state.renameTo = parsePathField(text.slice('rename to '.length));
    else if (text.startsWith('deleted file mode ')) state.deleted = true;
    else if (text.startsWith('new file mode ') || text.startsWith('index ')) state.submodule ||= GITLINK_MODE.test(text);
    else if (text.startsWith('+++ ')) {
      state.plusPath = devNullOr(text.slice(4), 'b/');
      if (state.plusPath === null) state.deleted = true;
    } else if (text.startsWith('Binary files ') || text === 'GIT binary patch') state.binary = true;
    // Other headers (similarity index, old/new mode, mode, copy from/to) change no lines.
  }

  return {
    push(line) {
      const { bytes } = line;
      if (file !== undefined && hunkLine !== undefined) {
        const first = bytes[0];
        if (first === undefined || first === SPACE || first === PLUS || first === MINUS) {
          readHunkLine(file, line);
          return NONE;
        }
        if (first === BACKSLASH) return NONE; // "\ No newline at end of file"
        hunkLine = undefined;
      }
      const text = bytes.toString('utf8');
      if (text.startsWith('@@')) {
        if (file === undefined) throw inspectionFailed('diff-tree printed a hunk outside a file');
        hunkLine = parseHunkStart(text, file.columns);
        return NONE;
      }
      if (text.startsWith('diff --git ')) {
        const entries = startFile(1);
        file!.gitNames = parseDiffGitNames(text.slice('diff --git '.length));
        return entries;
      }
      if (text.startsWith('diff --cc ') || text.startsWith('diff --combined ')) {
        const entries = startFile(0); // the hunk header tells how many parents
        file!.combinedPath = parsePathField(text.slice(text.indexOf(' ', 5) + 1));
        return entries;
      }
      if (isOid(text)) {
        const entries = finish();
        commit = text;
        return entries;
      }
      if (file === undefined) throw inspectionFailed(`unexpected diff-tree output "${text.slice(0, 80)}"`);
      readHeader(file, text);
      return NONE;
    },
    end() {
      return finish();
    },
  };

  function parseHunkStart(header: string, columns: number): number {
    // `@@ -a,b +c,d @@` or, for n parents, n+1 `@` with n `-` ranges and one `+` range.
    const match = /^(@{2,}) ((?:-\d+(?:,\d+)? )+)\+(\d+)(?:,\d+)? \1/.exec(header);
    if (match === null) throw inspectionFailed(`unexpected hunk header "${header.slice(0, 80)}"`);
    const parents = match[1]!.length - 1;
    if (columns === 0) file!.columns = parents;
    else if (columns !== parents) throw inspectionFailed(`hunk header "${header.slice(0, 80)}" does not match its file`);
    return Number(match[3]);
  }
}

function devNullOr(field: string, prefix: string): string | null {
  return field === '/dev/null' ? null : parsePathField(field, prefix);
}

