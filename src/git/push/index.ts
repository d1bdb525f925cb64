// The receive-pack pipeline's git plumbing (DESIGN.md "Write (push)", steps 2–5): spool the PACK,
// sync the mirror, quarantine the pack, list new commits and their added lines.
export { spoolPack } from './spool.ts';
export type { SpooledPack, SpoolOptions } from './spool.ts';
export { mirrorPath, openMirror, syncMirror } from './mirror.ts';
export type { Mirror, SyncMirrorOptions } from './mirror.ts';
export { quarantinePack } from './quarantine.ts';
export type { Quarantine, QuarantineOptions } from './quarantine.ts';
export { UNAPPROVED_REFS_GLOB, changedPaths, isFastForward, listNewCommits } from './new-commits.ts';
export type { NewCommit } from './new-commits.ts';
export { listStrayObjects } from './stray-objects.ts';
export { DEFAULT_MAX_FILE_BYTES, addedLines } from './added-lines.ts';
export type { AddedFile, AddedLine, AddedLinesOptions, SkippedFile } from './added-lines.ts';
export { runGitCommand } from './git-command.ts';
