/**
 * Step 4 of the push path (DESIGN.md "Write (push)"): the pushed PACK is indexed into an object
 * directory of its own whose alternates point at the mirror — the idea of git's own receive-pack
 * quarantine (https://git-scm.com/docs/git-receive-pack#_quarantine_environment). The mirror sees
 * the pushed objects only through `env`, and they vanish with `remove()`.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PortcullisError } from '../../errors.ts';
import { gitFailureReason, runGitCommand } from './git-command.ts';
import type { Mirror } from './mirror.ts';
import type { SpooledPack } from './spool.ts';

export interface Quarantine {
  id: string;
  /** The quarantine object directory, `${dataDir}/quarantine/<id>/objects`. */
  objectDir: string;
  /** For git commands run in the mirror: they then see the pushed objects and the mirror's. */
  env: Record<string, string>;
  /** Deletes the quarantine and everything in it; safe to call more than once. */
  remove(): Promise<void>;
}

export interface QuarantineOptions {
  dataDir: string;
}

export async function quarantinePack(mirror: Mirror, pack: SpooledPack, options: QuarantineOptions): Promise<Quarantine> {
  const id = randomUUID();
  const root = join(options.dataDir, 'quarantine', id);
  const objectDir = join(root, 'objects');
  const mirrorObjects = join(mirror.path, 'objects');
  const remove = () => rm(root, { recursive: true, force: true });

  await mkdir(join(objectDir, 'pack'), { recursive: true, mode: 0o700 });
  await mkdir(join(objectDir, 'info'), { recursive: true });
  await writeFile(join(objectDir, 'info', 'alternates'), `${mirrorObjects}\n`);
  const quarantine: Quarantine = {
    id,
    objectDir,
    env: {
      GIT_OBJECT_DIRECTORY: objectDir,
      GIT_ALTERNATE_OBJECT_DIRECTORIES: mirrorObjects,
      // git refuses to update refs while this is set: nothing can make a mirror ref point at an
      // object that is about to be deleted with the quarantine.
      GIT_QUARANTINE_PATH: objectDir,
    },
    remove,
  };
  // A delete-only push carries no PACK; the quarantine is then just the mirror.
  if (pack.bytes === 0) return quarantine;

  try {
    await indexPack(mirror, pack, quarantine);
  } catch (error) {
    await remove();
    throw error;
  }
  return quarantine;
}

async function indexPack(mirror: Mirror, pack: SpooledPack, quarantine: Quarantine): Promise<void> {
  const file = await open(pack.path, 'r');
  try {
    // --fix-thin: the agent's pack may delta against objects only the mirror has; index-pack copies
    // those bases in, so the quarantine's pack is complete, as receive-pack does with its own.
    const result = await runGitCommand(['index-pack', '--stdin', '--fix-thin'], {
      gitDir: mirror.path,
      env: quarantine.env,
      stdin: file.fd,
    });
    if (result.code !== 0) throw packInvalid(gitFailureReason(result.stderr));
  } finally {
    await file.close();
  }
}

function packInvalid(reason: string): PortcullisError {
  if (/unresolved delta/.test(reason)) {
    return new PortcullisError('PACK_INVALID', `the pushed pack builds on objects the upstream does not have (${reason})`, {
      hint: 'fetch through the gateway, rebase onto what upstream has, and push again',
    });
  }
  return new PortcullisError('PACK_INVALID', `the pushed pack is damaged: ${reason}`, {
    hint: 'push again; if it keeps failing, run `git fsck` in your repository',
  });
}
