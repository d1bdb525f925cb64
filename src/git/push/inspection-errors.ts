/** The two ways inspecting a push with git can fail: the push is at fault, or the gateway is. */
import { PortcullisError } from '../../errors.ts';
import { gitFailureReason } from './git-command.ts';

/** The gateway could not finish looking at a push; it fails closed, so nothing goes upstream. */
export function inspectionFailed(reason: string): PortcullisError {
  return new PortcullisError('PUSH_INSPECTION_FAILED', `the gateway could not inspect this push: ${reason}`, {
    hint: 'nothing was sent upstream; try again, and if it persists tell a portcullis admin',
  });
}

/** A failed rev-list/diff-tree/merge-base: objects the push names but does not carry, or anything else. */
export function revisionFailure(stderr: string, doing: string): PortcullisError {
  const reason = gitFailureReason(stderr);
  if (/bad object|unknown revision|not a valid|missing|could not (read|parse)|bad revision/i.test(reason)) {
    return new PortcullisError('PACK_INVALID', `the push refers to objects that neither its pack nor the upstream has (${reason})`, {
      hint: 'fetch through the gateway and push again',
    });
  }
  return inspectionFailed(`cannot ${doing}: ${reason}`);
}
