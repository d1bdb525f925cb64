/**
 * The added lines of each file of each commit in `git log -p --cc` output
 * (https://git-scm.com/docs/git-diff#_generating_patch_text_with_p and
 * https://git-scm.com/docs/git-diff#_combined_diff_format), read line by line.
 *
 * Each commit starts with a line `COMMIT_MARKER <sha>` (the --format we ask for); each file with
 * `diff --git a/X b/Y` or, for a merge, `diff --cc X`. Inside a hunk every line starts with one
 * marker column per parent; a line is added when every column is '+' (for a merge: found in no
 * parent). Renames count only their changed lines (-M). Binary files and files whose added text
 * passes `maxFileBytes` are reported as skipped, never silently dropped.
 */
export const COMMIT_MARKER = 'portcullis-commit';

export interface AddedFile {
  commit: string;
  path: string;
  lines: Array<{ line: number; text: string }>;
}

export interface SkippedFile {
  commit: string;
  path: string;
  skipped: 'binary' | 'too-large';
}

export interface PatchReader {
  push(line: string): Array<AddedFile | SkippedFile>;
  end(): Array<AddedFile | SkippedFile>;
}

interface FileState {
  columns: number;
  path?: string;
  deleted: boolean;
  binary: boolean;
  tooLarge: boolean;
  bytes: number;
  lines: Array<{ line: number; text: string }>;
}

export function createPatchReader(options: { maxFileBytes: number }): PatchReader {
  let commit = '';
  let file: FileState | undefined;
  let next: number | undefined; // next new-file line number while inside a hunk

  function finish(): Array<AddedFile | SkippedFile> {
    const done = file;
    file = undefined;
    next = undefined;
    if (!done || done.deleted || done.path === undefined) return [];
    if (done.binary) return [{ commit, path: done.path, skipped: 'binary' }];
    if (done.tooLarge) return [{ commit, path: done.path, skipped: 'too-large' }];
    return done.lines.length > 0 ? [{ commit, path: done.path, lines: done.lines }] : [];
  }

  function startFile(columns: number, path?: string): Array<AddedFile | SkippedFile> {
    const out = finish();
    file = { columns, deleted: false, binary: false, tooLarge: false, bytes: 0, lines: [], ...(path === undefined ? {} : { path }) };
    return out;
  }

  return {
    push(raw) {
      if (file && next !== undefined) {
        const first = raw[0];
        if (first === undefined || first === ' ' || first === '+' || first === '-') {
          const markers = raw.slice(0, file.columns).padEnd(file.columns, ' ');
          if (markers.includes('-')) return [];
          const number = next;
          next += 1;
          if (markers !== '+'.repeat(file.columns) || file.tooLarge) return [];
          const text = raw.slice(file.columns);
          file.bytes += text.length + 1;
          if (file.bytes > options.maxFileBytes) {
            file.tooLarge = true;
            file.lines = [];
          } else file.lines.push({ line: number, text });
          return [];
        }
        if (first === '\\') return []; // "\ No newline at end of file"
        next = undefined;
      }
      if (raw.startsWith(`${COMMIT_MARKER} `)) {
        const out = finish();
        commit = raw.slice(COMMIT_MARKER.length + 1).trim();
        return out;
      }
      if (raw.startsWith('diff --git ')) return startFile(1, pathFromDiffGit(raw.slice(11)));
      if (raw.startsWith('diff --cc ') || raw.startsWith('diff --combined ')) return startFile(0, unquotePath(raw.slice(raw.indexOf(' ', 5) + 1)));
      if (!file) return [];
      if (raw.startsWith('@@')) {
        const match = /^(@{2,}) (?:-\d+(?:,\d+)? )+\+(\d+)(?:,\d+)? \1/.exec(raw);
        if (match) {
          file.columns = match[1]!.length - 1;
          next = Number(match[2]);
        }
      } else if (raw.startsWith('+++ ')) {
        const target = raw.slice(4);
        if (target === '/dev/null') file.deleted = true;
        else file.path = unquotePath(target).replace(/^b\//, '');
      } else if (raw.startsWith('rename to ')) file.path = unquotePath(raw.slice(10));
      else if (raw.startsWith('deleted file mode ')) file.deleted = true;
      else if (raw.startsWith('Binary files ') || raw === 'GIT binary patch') file.binary = true;
      return [];
    },
    end: finish,
  };
}

/** `a/X b/Y` → Y (the new name), for files whose patch has no `+++` line (binary, mode-only). */
function pathFromDiffGit(names: string): string | undefined {
  if (names.startsWith('"')) {
    const second = names.lastIndexOf(' "');
    return second > 0 ? unquotePath(names.slice(second + 1)).replace(/^b\//, '') : undefined;
  }
  const at = names.lastIndexOf(' b/');
  return at === -1 ? undefined : names.slice(at + 3);
}

const C_ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, '\\': 92, a: 7, b: 8, f: 12, v: 11 };

/** Undoes git's C-style quoting of unusual file names: `"a/caf\303\251.txt"`. */
export function unquotePath(field: string): string {
  if (!field.startsWith('"') || !field.endsWith('"')) return field.replace(/^a\//, '');
  const bytes: number[] = [];
  const body = field.slice(1, -1);
  for (let i = 0; i < body.length; i += 1) {
    const ch = body[i]!;
    if (ch !== '\\') {
      bytes.push(...Buffer.from(ch, 'utf8'));
      continue;
    }
    const octal = /^[0-7]{3}/.exec(body.slice(i + 1));
    if (octal) {
      bytes.push(Number.parseInt(octal[0], 8));
      i += 3;
    } else {
      bytes.push(C_ESCAPES[body[i + 1]!] ?? body.charCodeAt(i + 1));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8').replace(/^a\//, '');
}
