import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ApprovalStore, HoldEvents, StoredApproval } from '../approvals/index.ts';
import type { Clock } from '../clock.ts';
import type { RemoteConfig } from '../config/index.ts';
import { PortcullisError } from '../errors.ts';
import { isZeroOid } from './codec/index.ts';
import { runGitCommand, syncMirror, type Mirror } from './push/index.ts';
import { heldObjectsDir } from './receive-pack.ts';
import { upstreamRepoUrl, type RemoteCredentials } from './upstream.ts';

export interface HoldDecisions {
  /** Approves, then moves the protected ref upstream to the held commit (lease on its old value). */
  approve(id: string, reviewer: string, comment?: string): Promise<StoredApproval>;
  deny(id: string, reviewer: string, comment?: string): Promise<StoredApproval>;
  /** Expires holds past their time and removes their held branches. */
  expireDue(): Promise<StoredApproval[]>;
}

export interface HoldDecisionDeps {
  remotes: readonly RemoteConfig[];
  holdEvents: HoldEvents;
  credentials: RemoteCredentials;
  approvals: ApprovalStore;
  dataDir: string;
  mirrorTimeoutMs: number;
  clock: Clock;
  log: Logger;
}

export function createHoldDecisions(deps: HoldDecisionDeps): HoldDecisions {
  const target = async (approval: StoredApproval) => {
    const remote = deps.remotes.find((r) => r.name === approval.remote);
    if (!remote) {
      throw new PortcullisError('APPLY_FAILED', `remote ${approval.remote} of approval ${approval.id} is no longer configured`);
    }
    const address = { remote, owner: approval.owner, repo: approval.repo };
    return { url: upstreamRepoUrl(address), authorization: await deps.credentials.authorizationFor(address, 'write') };
  };

  const mirrorOf = async (approval: StoredApproval) => {
    const { url, authorization } = await target(approval);
    return syncMirror({
      dataDir: deps.dataDir,
      remote: approval.remote,
      owner: approval.owner,
      repo: approval.repo,
      upstreamUrl: url,
      authorization,
      timeoutMs: deps.mirrorTimeoutMs,
    });
  };

  /** Drops what the hold left behind: its objects kept in the gateway, its held branch upstream. */
  const removeHeldBranch = async (approval: StoredApproval, known?: Mirror) => {
    // Held SQL statements share the approval store (and its expiry) but have no branch upstream.
    if (approval.kind !== 'git') return;
    await rm(path.dirname(heldObjectsDir(deps.dataDir, approval.id)), { recursive: true, force: true });
    const mirror = known ?? (await mirrorOf(approval));
    if (!(await mirror.refs()).has(approval.heldRef)) return;
    const { url, authorization } = await target(approval);
    const result = await pushFromMirror(mirror, ['push', '--porcelain', url, `:${approval.heldRef}`], authorization);
    if (result.code !== 0) {
      deps.log.warn({ approval: approval.id, stderr: result.stderr.slice(0, 500) }, 'could not delete a held branch');
    }
  };

  /** Forge surfaces follow the store; their failure never undoes a decision. */
  const notify = async (approval: StoredApproval) => {
    await deps.holdEvents.decided(approval).catch((error: unknown) => deps.log.warn({ err: error, approval: approval.id }, 'a hold listener failed'));
    return approval;
  };

  return {
    async approve(id, reviewer, comment) {
      const current = await deps.approvals.get(id);
      // Approved but not applied (the upstream was down): approving again retries the application.
      const approved = current.status === 'approved' ? current : await deps.approvals.apply(id, { type: 'approve', reviewer, at: deps.clock.now(), comment });
      const { url, authorization } = await target(approved);
      const mirror = await mirrorOf(approved);
      // The lease: the ref must still be where it was when the push was held, else the approval is stale.
      const lease = `--force-with-lease=${approved.ref}:${isZeroOid(approved.oldOid) ? '' : approved.oldOid}`;
      const refspec = isZeroOid(approved.newOid) ? `:${approved.ref}` : `${approved.newOid}:${approved.ref}`;
      const kept = heldObjectsDir(deps.dataDir, approved.id);
      const env = existsSync(kept) ? { GIT_ALTERNATE_OBJECT_DIRECTORIES: kept } : undefined;
      const result = await pushFromMirror(mirror, ['push', '--porcelain', lease, url, refspec], authorization, env);
      if (result.code !== 0) {
        // Only a refused lease or a non-fast-forward means the ref moved; a hook's refusal is not staleness.
        if (/^!\s.*\[rejected\].*\((stale info|fetch first|non-fast-forward)\)/m.test(result.stdout)) {
          const moved = (await (await mirrorOf(approved)).refs()).get(approved.ref);
          const reason = `${approved.ref} moved to ${moved?.slice(0, 12) ?? 'nothing'} since the push was held (expected ${approved.oldOid.slice(0, 12)}); the agent must rebase and push again`;
          const stale = await deps.approvals.apply(id, { type: 'stale', at: deps.clock.now(), reason });
          await removeHeldBranch(stale).catch((error: unknown) => deps.log.warn({ err: error, approval: id }, 'held branch not removed'));
          return notify(stale);
        }
        throw new PortcullisError('APPLY_FAILED', `approval ${id} is approved but could not be applied upstream: ${refusalOf(result.stdout, result.stderr)}`, {
          hint: 'check that the upstream is reachable and the gateway credential may push to this ref; approving again retries',
        });
      }
      const applied = await deps.approvals.apply(id, { type: 'applied', at: deps.clock.now() });
      await removeHeldBranch(applied, mirror).catch((error: unknown) => deps.log.warn({ err: error, approval: id }, 'held branch not removed'));
      return notify(applied);
    },

    async deny(id, reviewer, comment) {
      const denied = await deps.approvals.apply(id, { type: 'deny', reviewer, at: deps.clock.now(), comment });
      await removeHeldBranch(denied).catch((error: unknown) => deps.log.warn({ err: error, approval: id }, 'held branch not removed'));
      return notify(denied);
    },

    async expireDue() {
      const expired = await deps.approvals.expireDue();
      for (const approval of expired) {
        await removeHeldBranch(approval).catch((error: unknown) => deps.log.warn({ err: error, approval: approval.id }, 'held branch not removed'));
        await notify(approval);
      }
      return expired;
    },
  };
}

/** The credential travels in this process's config only (GIT_CONFIG_*), never argv or a file. */
function pushFromMirror(mirror: Mirror, args: string[], authorization: string | undefined, env?: Record<string, string>) {
  const config: Array<readonly [string, string]> = [['http.extraHeader', '']];
  if (authorization) config.push(['http.extraHeader', `Authorization: ${authorization}`]);
  return runGitCommand(args, { gitDir: mirror.path, config, env, timeoutMs: 10 * 60_000 });
}

/** The porcelain `!` line names the ref and the upstream's reason (a hook's refusal, say); else git's last word. */
function refusalOf(stdout: string, stderr: string): string {
  const refused = stdout.split('\n').find((line) => line.startsWith('!'));
  if (refused) return refused.split('\t').slice(1).join(' ').trim();
  return stderr.trim().split('\n').filter(Boolean).at(-1) ?? 'git push failed';
}
