/**
 * `portcullis scan --range A..B`: the added lines of every commit in A..B of a local repository,
 * renames detected and merges included (combined diff), as `git log -p` prints them.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { PortcullisError } from '../../errors.ts';
import { COMMIT_MARKER, createPatchReader, type AddedFile, type SkippedFile } from './patch.ts';

export const MAX_ADDED_BYTES_PER_FILE = 5 * 1024 * 1024;

const LOG_ARGS = [
  '-c', 'core.quotePath=true',
  'log',
  '-p',
  '--cc', // merges too: lines found in none of the parents
  '-M', // renames: only what the rename changed is added
  '--no-color',
  '--no-ext-diff',
  '--no-textconv',
  '--src-prefix=a/',
  '--dst-prefix=b/',
  `--format=${COMMIT_MARKER} %H`,
];

export async function* readRangeAddedLines(range: string, cwd = process.cwd()): AsyncGenerator<AddedFile | SkippedFile> {
  if (!/^[^\s-][^\s]*\.\.\.?[^\s]+$/.test(range)) {
    throw new PortcullisError('SCAN_FAILED', `"${range}" is not a commit range`, { hint: 'write it as A..B, e.g. origin/main..HEAD' });
  }
  const child = spawn('git', [...LOG_ARGS, range, '--'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk.slice(0, 4000)));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  const reader = createPatchReader({ maxFileBytes: MAX_ADDED_BYTES_PER_FILE });
  try {
    for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) yield* reader.push(line);
    yield* reader.end();
  } finally {
    if (child.exitCode === null) child.kill();
  }
  const code = await exited.catch((error: unknown) => {
    throw new PortcullisError('SCAN_FAILED', 'cannot run git', { hint: 'install git, or scan files instead of a range', cause: error });
  });
  if (code !== 0) {
    throw new PortcullisError('SCAN_FAILED', `git log ${range} failed: ${stderr.trim().split('\n')[0] ?? `exit ${code}`}`, {
      hint: 'run it inside the repository, with both ends of the range fetched',
    });
  }
}
