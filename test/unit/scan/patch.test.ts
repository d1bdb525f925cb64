import { describe, expect, it } from 'vitest';
import { COMMIT_MARKER, createPatchReader, unquotePath, type AddedFile, type SkippedFile } from '../../../src/scan/inputs/patch.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

/** `git log -p --cc -M --format="portcullis-commit %H"` output, as git 2.39 prints it. */
const LOG = [
  `${COMMIT_MARKER} ${B}`,
  '',
  `diff --cc merged.txt`,
  'index 1111111,2222222..3333333',
  '--- a/merged.txt',
  '+++ b/merged.txt',
  '@@@ -1,2 -1,2 +1,3 @@@',
  '  common',
  '+ from first parent',
  '++resolution line',
  ` ${'-'}only in second`,
  `${COMMIT_MARKER} ${A}`,
  '',
  'diff --git a/old.env b/new.env',
  'similarity index 80%',
  'rename from old.env',
  'rename to new.env',
  'index 1111111..2222222 100644',
  '--- a/old.env',
  '+++ b/new.env',
  '@@ -1,3 +1,4 @@',
  ' KEPT=1',
  '-GONE=2',
  '+ADDED=3',
  '+ALSO=4',
  ' LAST=5',
  '\\ No newline at end of file',
  'diff --git a/logo.png b/logo.png',
  'new file mode 100644',
  'index 0000000..1234567',
  'Binary files /dev/null and b/logo.png differ',
  'diff --git a/gone.txt b/gone.txt',
  'deleted file mode 100644',
  '--- a/gone.txt',
  '+++ /dev/null',
  '@@ -1 +0,0 @@',
  '-bye',
  'diff --git "a/caf\\303\\251.txt" "b/caf\\303\\251.txt"',
  'new file mode 100644',
  '--- /dev/null',
  '+++ "b/caf\\303\\251.txt"',
  '@@ -0,0 +1 @@',
  '+menu',
];

function read(lines: string[], maxFileBytes = 1 << 20): Array<AddedFile | SkippedFile> {
  const reader = createPatchReader({ maxFileBytes });
  return [...lines.flatMap((line) => reader.push(line)), ...reader.end()];
}

describe('createPatchReader (git log -p --cc -M)', () => {
  it('hands out the added lines of each file of each commit, with new-file line numbers', () => {
    expect(read(LOG)).toEqual([
      { commit: B, path: 'merged.txt', lines: [{ line: 3, text: 'resolution line' }] },
      { commit: A, path: 'new.env', lines: [{ line: 2, text: 'ADDED=3' }, { line: 3, text: 'ALSO=4' }] },
      { commit: A, path: 'logo.png', skipped: 'binary' },
      { commit: A, path: 'café.txt', lines: [{ line: 1, text: 'menu' }] },
    ]);
  });

  it('reports a file whose added text passes the limit as too large, keeping none of it', () => {
    expect(read(LOG, 8).find((f) => f.path === 'new.env')).toEqual({ commit: A, path: 'new.env', skipped: 'too-large' });
  });

  it('undoes git quoting of unusual names', () => {
    expect(unquotePath('"a/tab\\there \\"q\\".txt"')).toBe('tab\there "q".txt');
    expect(unquotePath('plain/name.txt')).toBe('plain/name.txt');
  });
});
