/**
 * Objects a PACK carries that no pushed ref reaches. `git push` never sends any (pack-objects
 * packs what the new tips reach), but a hand-made pack can: a blob holding a secret, referenced by
 * no commit, is never scanned, and forwarding the PACK as is would store it upstream, where forges
 * serve objects by id. A push with stray objects should be refused.
 */
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { isZeroOid } from '../codec/index.ts';
import { collectStderr, killGitCommand, spawnGitCommand, waitForExit } from './git-command.ts';
import { inspectionFailed, revisionFailure } from './inspection-errors.ts';
import type { Mirror } from './mirror.ts';
import { ACCEPTED_REFS_ARGS, checkOids } from './new-commits.ts';
import type { Quarantine } from './quarantine.ts';

/** Ids of objects in the quarantined pack that neither `newOids` reach nor the mirror already has. */
export async function listStrayObjects(mirror: Mirror, quarantine: Quarantine, newOids: string[]): Promise<string[]> {
  const tips = checkOids(newOids).filter((oid) => !isZeroOid(oid));
  const candidates = await packedObjects(quarantine);
  if (candidates.size === 0) return [];

  if (tips.length > 0) {
    // Everything the tips reach that the mirror's refs do not: what the push legitimately brings.
    const reached = await eachOutputLine(
      ['rev-list', '--objects', '--stdin', '--not', ...ACCEPTED_REFS_ARGS],
      { gitDir: mirror.path, env: quarantine.env, stdin: tips.map((oid) => `${oid}\n`).join('') },
      (line) => {
        // `<oid>` for commits, `<oid> <path>` for trees and blobs.
        const space = line.indexOf(' ');
        candidates.delete(space < 0 ? line : line.slice(0, space));
      },
    );
    if (reached !== 0) throw reached;
  }
  if (candidates.size === 0) return [];

  // The rest is harmless when the mirror (so the upstream) has it already: --fix-thin copies delta
  // bases in, and a client may resend objects the upstream has.
  const stray: string[] = [];
  const checked = await eachOutputLine(
    ['cat-file', '--batch-check=%(objectname) %(objecttype)'],
    { gitDir: mirror.path, stdin: [...candidates].map((oid) => `${oid}\n`).join('') },
    (line) => {
      if (line.endsWith(' missing')) stray.push(line.slice(0, line.indexOf(' ')));
    },
  );
  if (checked !== 0) throw checked;
  return stray.sort();
}

/** The ids listed in the quarantine's pack indexes (`git show-index`). */
async function packedObjects(quarantine: Quarantine): Promise<Set<string>> {
  const packDir = join(quarantine.objectDir, 'pack');
  const indexes = (await readdir(packDir).catch(() => [])).filter((name) => name.endsWith('.idx'));
  const oids = new Set<string>();
  for (const index of indexes) {
    const file = await open(join(packDir, index), 'r');
    try {
      // Lines are `<offset> <oid> (<crc>)`.
      const result = await eachOutputLine(['show-index'], { stdin: file.fd }, (line) => {
        const oid = line.split(' ')[1];
        if (oid) oids.add(oid);
      });
      if (result !== 0) throw result;
    } finally {
      await file.close();
    }
  }
  return oids;
}

/** Runs git, hands each stdout line to `onLine`; resolves 0, or the error to throw. */
async function eachOutputLine(
  args: string[],
  options: { gitDir?: string; env?: Record<string, string>; stdin: string | number },
  onLine: (line: string) => void,
): Promise<0 | Error> {
  const child = spawnGitCommand(args, options);
  const stderr = collectStderr(child);
  const exited = waitForExit(child);
  let complete = false;
  try {
    for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) onLine(line);
    complete = true;
  } finally {
    if (!complete) killGitCommand(child);
  }
  const code = await exited;
  if (code === 0) return 0;
  return args[0] === 'show-index' ? inspectionFailed(`cannot read the quarantined pack's index`) : revisionFailure(stderr(), 'check the pack for stray objects');
}
