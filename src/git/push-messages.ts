import type { StoredApproval } from '../approvals/index.ts';
import type { RefDecision } from '../policy/index.ts';
import { isZeroOid } from './codec/index.ts';

/**
 * The `remote:` lines under a guarded push: for each refused ref, what happened and what to do next.
 * The per-ref reason itself is on the `! [remote rejected]` line git prints.
 */
export function explainDecisions(
  decisions: RefDecision[],
  holds: Map<string, StoredApproval>,
  updates: Array<{ ref: string; newOid: string }>,
  /** `nothingForwarded`: the push carried a secret, so every hold waits in the gateway, none upstream. */
  options: { nothingForwarded?: boolean } = {},
): string[] {
  const lines: string[] = [];
  for (const decision of decisions) {
    const short = decision.ref.replace(/^refs\/(heads|tags)\//, '');
    const hold = holds.get(decision.ref);
    if (decision.verdict === 'hold' && hold) {
      lines.push(`portcullis: ${short} is held for approval ${hold.id}: ${(decision.holdReasons ?? [decision.reason]).map(stripHeld).join('; ')}`);
      lines.push(`portcullis:   a maintainer approves with: portcullis approvals approve ${hold.id} --as <reviewer>`);
      // A held delete has no commit to park upstream: it waits in the gateway, like a held secret.
      const deletes = isZeroOid(updates.find((u) => u.ref === decision.ref)?.newOid ?? '');
      if (decision.rule !== 'git.secrets' && !options.nothingForwarded && !deletes) {
        lines.push(`portcullis:   meanwhile the commit waits upstream as ${hold.heldRef.replace('refs/heads/', '')}`);
      }
    } else if (decision.verdict === 'block' && decision.rule === 'git.secrets') {
      const sha = updates.find((u) => u.ref === decision.ref)?.newOid.slice(0, 7) ?? '';
      lines.push(`portcullis: ${short} (${sha}) carries a secret; nothing from this push was sent upstream`);
      lines.push('portcullis:   remove it from every commit of the push (git rebase -i), rotate the credential, then push again');
      lines.push('portcullis:   a false positive? add `portcullis:allow-secret` to that line, or ask an admin to allow its fingerprint');
    } else if (decision.verdict === 'block') {
      lines.push(`portcullis: ${short}: ${decision.reason}`);
      if (decision.rule === 'git.forbidForcePush') lines.push('portcullis:   fetch, rebase onto the current branch and push without --force');
      if (decision.rule === 'git.forbidDelete') lines.push('portcullis:   protected refs can only be deleted by a maintainer on the forge');
    }
  }
  return lines;
}

function stripHeld(reason: string): string {
  return reason.replace(/^held for approval: /, '');
}
