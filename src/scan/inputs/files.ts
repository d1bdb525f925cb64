/**
 * `portcullis scan PATH...`: files, and directories walked recursively. Skipped, and reported as
 * such: `.git` and `node_modules` directories, symbolic links (not followed), binary files (a NUL
 * byte in the first 8000 bytes, git's own test) and files over MAX_FILE_BYTES.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ScanInput } from '../types.ts';

export const MAX_FILE_BYTES = 20 * 1024 * 1024;
const SKIPPED_DIRECTORIES = new Set(['.git', 'node_modules']);

export type FileSkipReason = 'directory excluded' | 'symbolic link' | 'binary' | 'too large' | 'not a regular file';

export type FileInput = { kind: 'file'; input: ScanInput; bytes: number } | { kind: 'skipped'; path: string; reason: FileSkipReason };

export async function* readFileInputs(paths: readonly string[]): AsyncGenerator<FileInput> {
  for (const start of paths) yield* visit(start, true);
}

async function* visit(target: string, explicit: boolean): AsyncGenerator<FileInput> {
  const stat = await lstat(target);
  const shown = path.normalize(target);
  if (stat.isSymbolicLink()) {
    yield { kind: 'skipped', path: shown, reason: 'symbolic link' };
    return;
  }
  if (stat.isDirectory()) {
    if (!explicit && SKIPPED_DIRECTORIES.has(path.basename(target))) {
      yield { kind: 'skipped', path: `${shown}${path.sep}`, reason: 'directory excluded' };
      return;
    }
    const entries = (await readdir(target)).sort();
    for (const name of entries) yield* visit(path.join(target, name), false);
    return;
  }
  if (!stat.isFile()) {
    yield { kind: 'skipped', path: shown, reason: 'not a regular file' };
    return;
  }
  if (stat.size > MAX_FILE_BYTES) {
    yield { kind: 'skipped', path: shown, reason: 'too large' };
    return;
  }
  const bytes = await readFile(target);
  if (bytes.subarray(0, 8000).includes(0)) {
    yield { kind: 'skipped', path: shown, reason: 'binary' };
    return;
  }
  const text = bytes.toString('utf8');
  const lines = text.split('\n').map((line, i) => ({ line: i + 1, text: line.endsWith('\r') ? line.slice(0, -1) : line }));
  if (lines.length > 1 && lines[lines.length - 1]!.text === '') lines.pop();
  yield { kind: 'file', input: { path: shown.split(path.sep).join('/'), lines }, bytes: bytes.length };
}
