import type { Logger } from 'pino';
import type { HoldEvents, StoredApproval } from '../approvals/index.ts';
import { isZeroOid } from '../git/codec/index.ts';
import type { GitHubHoldRefusal } from '../store/schema.ts';
import { statusOf, type GitHubAppApi } from './app-api.ts';
import { branchName, CHECK_NAME, decidedOutcome, heldCheckOutput, HOLD_ACTIONS, pullBody, pullTitle } from './hold-messages.ts';
import type { GitHubHoldRecord, GitHubHoldRecords } from './hold-records.ts';
import type { RepoClients } from './repo-clients.ts';
import { GITHUB_REMOTE } from './settings.ts';

export interface GitHubHoldsDeps {
  api: Pick<GitHubAppApi, 'findRepoInstallation'>;
  clients: RepoClients;
  records: GitHubHoldRecords;
  log: Logger;
}

export interface GitHubHolds extends HoldEvents {
  /** A refused approval or rejection from GitHub: recorded, and shown on the check run while the hold waits. */
  refused(approval: StoredApproval, record: GitHubHoldRecord, refusal: GitHubHoldRefusal): Promise<void>;
}

/**
 * Holds on the `github` remote as GitHub shows them: a pull request from the held branch into the
 * protected branch, and a `portcullis` check run on the held sha asking for Approve / Reject. Every
 * decision (from GitHub, the CLI, REST, or expiry) completes the check run and closes the pull
 * request. GitHub is a surface here: the approval store stays the truth, failures are logged.
 */
export function createGitHubHolds(deps: GitHubHoldsDeps): GitHubHolds {
  const log = deps.log.child({ component: 'github-holds' });
  const { clients } = deps;

  return {
    async held(approval) {
      if (approval.remote !== GITHUB_REMOTE || isZeroOid(approval.newOid)) return;
      const { owner, repo } = approval;
      const installationId = await deps.api.findRepoInstallation(owner, repo);
      if (installationId === null) {
        log.warn({ approval: approval.id, repo: `${owner}/${repo}` }, 'the GitHub App is not installed on the repository of a hold; no pull request opened');
        return;
      }
      const octokit = await clients.forRepo(installationId, owner, repo);
      let pullNumber: number | null = null;
      if (approval.ref.startsWith('refs/heads/')) {
        try {
          const { data } = await octokit.rest.pulls.create({
            owner,
            repo,
            title: pullTitle(approval),
            head: branchName(approval.heldRef),
            base: branchName(approval.ref),
            body: pullBody(approval),
            maintainer_can_modify: false,
            request: clients.request(),
          });
          pullNumber = data.number;
        } catch (error) {
          log.warn({ err: error, status: statusOf(error), approval: approval.id }, 'could not open the pull request of a hold');
        }
      }
      let checkRunId: number | null = null;
      try {
        const { data } = await octokit.rest.checks.create({
          owner,
          repo,
          name: CHECK_NAME,
          head_sha: approval.newOid,
          external_id: approval.id,
          status: 'completed',
          conclusion: 'action_required',
          output: heldCheckOutput(approval),
          actions: HOLD_ACTIONS.map((action) => ({ ...action })),
          request: clients.request(),
        });
        checkRunId = data.id;
      } catch (error) {
        log.warn({ err: error, status: statusOf(error), approval: approval.id }, 'could not create the check run of a hold');
      }
      await deps.records.save({ approvalId: approval.id, installationId, owner, repo, headSha: approval.newOid, pullNumber, checkRunId });
      log.info({ approval: approval.id, repo: `${owner}/${repo}`, pullNumber, checkRunId }, 'hold shown on GitHub');
    },

    async decided(approval) {
      const record = await deps.records.byApproval(approval.id);
      const outcome = decidedOutcome(approval);
      if (!record || !outcome) return;
      const octokit = await clients.forRepo(record.installationId, record.owner, record.repo);
      const failures: unknown[] = [];
      if (record.checkRunId !== null) {
        await octokit.rest.checks
          .update({
            owner: record.owner,
            repo: record.repo,
            check_run_id: record.checkRunId,
            status: 'completed',
            conclusion: outcome.conclusion,
            output: outcome.output,
            // The buttons go: the hold is decided.
            actions: [],
            request: clients.request(),
          })
          .catch((error: unknown) => failures.push(error));
      }
      if (record.pullNumber !== null) {
        const pull = { owner: record.owner, repo: record.repo };
        await octokit.rest.issues
          .createComment({ ...pull, issue_number: record.pullNumber, body: outcome.comment, request: clients.request() })
          .catch((error: unknown) => failures.push(error));
        await octokit.rest.pulls
          .update({ ...pull, pull_number: record.pullNumber, state: 'closed', request: clients.request() })
          .catch((error: unknown) => failures.push(error));
      }
      if (failures.length > 0) {
        throw new AggregateError(failures, `GitHub was not fully updated for decided hold ${approval.id} (${failures.map((e) => statusOf(e) ?? 'no answer').join(', ')})`);
      }
      log.info({ approval: approval.id, status: approval.status, pullNumber: record.pullNumber, checkRunId: record.checkRunId }, 'decided hold shown on GitHub');
    },

    async refused(approval, record, refusal) {
      const refusals = await deps.records.recordRefusal(record.approvalId, refusal);
      log.warn({ approval: approval.id, login: refusal.login, via: refusal.via, reason: refusal.reason }, 'refused an approval from GitHub');
      // A decided hold's check run shows its decision; only a waiting (or approved, not yet applied) one lists refusals.
      if ((approval.status !== 'pending' && approval.status !== 'approved') || record.checkRunId === null) return;
      const octokit = await clients.forRepo(record.installationId, record.owner, record.repo);
      await octokit.rest.checks.update({
        owner: record.owner,
        repo: record.repo,
        check_run_id: record.checkRunId,
        output: heldCheckOutput(approval, refusals),
        request: clients.request(),
      });
    },
  };
}
