import type { Probot } from 'probot';
import type { Logger } from 'pino';
import type { ApprovalStore } from '../approvals/index.ts';
import type { Clock } from '../clock.ts';
import { isPortcullisError, PortcullisError } from '../errors.ts';
import type { HoldDecisions } from '../git/index.ts';
import { agentGitHubLogins } from '../identity/agents.ts';
import type { Database } from '../store/index.ts';
import { statusOf } from './app-api.ts';
import { APPROVE_ACTION, CHECK_NAME, REJECT_ACTION } from './hold-messages.ts';
import type { GitHubHoldRecord, GitHubHoldRecords } from './hold-records.ts';
import type { GitHubHolds } from './holds-on-github.ts';
import type { RepoClients } from './repo-clients.ts';
import type { ApproverRole } from './settings.ts';

/** Repository roles from least to most; custom roles fall back to their base `permission`. */
const ROLE_RANK: Record<string, number> = { none: 0, read: 1, triage: 2, write: 3, maintain: 4, admin: 5 };

/**
 * Whether a collaborator may decide a hold: `role_name` (read, triage, write, maintain, admin, or a
 * custom role's name) at least `required`; a custom role counts as its base `permission`
 * (admin, write, read, none), which never exceeds what the role really grants.
 */
export function roleMeets(roleName: string | undefined, permission: string | undefined, required: ApproverRole): boolean {
  const rank = (roleName !== undefined ? ROLE_RANK[roleName.toLowerCase()] : undefined) ?? ROLE_RANK[(permission ?? 'none').toLowerCase()] ?? 0;
  return rank >= ROLE_RANK[required]!;
}

export interface HoldActionDeps {
  approvals: ApprovalStore;
  /** Set once the gateway has built them (they need the hold events this module feeds). */
  decisions(): HoldDecisions | null;
  holds: GitHubHolds;
  records: GitHubHoldRecords;
  clients: RepoClients;
  db: Database;
  clock: Clock;
  log: Logger;
  approverRole: ApproverRole;
}

interface Repository {
  name: string;
  owner: { login: string };
}
interface Sender {
  login: string;
}
interface CheckRunActionPayload {
  check_run: { id: number; head_sha: string; name: string };
  requested_action?: { identifier: string } | null;
  repository: Repository;
  sender: Sender;
}
interface ReviewPayload {
  review: { state: string; commit_id: string | null; body: string | null; user: Sender | null };
  pull_request: { number: number };
  repository: Repository;
  sender: Sender;
}
interface MergeGroupPayload {
  merge_group: { head_sha: string; head_ref: string; base_ref: string };
  repository: Repository;
  installation?: { id: number };
}

/**
 * The decisions GitHub users make on a hold: `Approve push` / `Reject` on the `portcullis` check
 * run (`check_run.requested_action`) and an approving pull request review. Each goes through the
 * same HoldDecisions as the CLI and REST, as `github:<login>`, only if the login has the approver
 * role on the repository, is not the agent's own GitHub identity, and names exactly the held sha.
 * A refusal still answers the webhook 200; it is recorded and shown on the check run.
 * `merge_group.checks_requested` is answered with a passing `portcullis` check so a merge queue
 * that requires it never waits forever (held pushes never go through a merge queue).
 */
export function registerHoldActionHandlers(probot: Probot, deps: HoldActionDeps): void {
  const log = deps.log.child({ component: 'github-holds' });

  probot.on('check_run.requested_action', async ({ payload }) => {
    const event = payload as unknown as CheckRunActionPayload;
    const identifier = event.requested_action?.identifier;
    const record = await deps.records.byCheckRun(event.check_run.id);
    if (!record || !sameRepository(record, event.repository)) return;
    if (identifier !== APPROVE_ACTION && identifier !== REJECT_ACTION) {
      log.warn({ identifier, checkRun: event.check_run.id }, 'unknown check run action ignored');
      return;
    }
    await decide(record, {
      login: event.sender.login,
      via: `check_run.requested_action (${identifier})`,
      action: identifier === APPROVE_ACTION ? 'approve' : 'reject',
      sha: event.check_run.head_sha,
      comment: identifier === APPROVE_ACTION ? 'approved on the portcullis check run' : 'rejected on the portcullis check run',
    });
  });

  probot.on('pull_request_review.submitted', async ({ payload }) => {
    const event = payload as unknown as ReviewPayload;
    if (event.review.state.toLowerCase() !== 'approved') return;
    const record = await deps.records.byPull(event.repository.owner.login, event.repository.name, event.pull_request.number);
    if (!record) return;
    await decide(record, {
      login: event.review.user?.login ?? event.sender.login,
      via: 'pull_request_review (approved)',
      action: 'approve',
      sha: event.review.commit_id ?? '',
      comment: event.review.body?.trim() ? `approved by pull request review: ${event.review.body.trim().slice(0, 500)}` : 'approved by pull request review',
    });
  });

  probot.on('merge_group.checks_requested', async ({ payload }) => {
    const event = payload as unknown as MergeGroupPayload;
    if (!event.installation) return;
    const owner = event.repository.owner.login;
    const repo = event.repository.name;
    const octokit = await deps.clients.forRepo(event.installation.id, owner, repo);
    await octokit.rest.checks.create({
      owner,
      repo,
      name: CHECK_NAME,
      head_sha: event.merge_group.head_sha,
      status: 'completed',
      conclusion: 'success',
      output: {
        title: 'Nothing held',
        summary: `portcullis holds agents' pushes before they reach ${event.merge_group.base_ref.replace(/^refs\/heads\//, '')}; a merge queue group carries no held push.`,
      },
      request: deps.clients.request(),
    });
  });

  async function decide(
    record: GitHubHoldRecord,
    input: { login: string; via: string; action: 'approve' | 'reject'; sha: string; comment: string },
  ): Promise<void> {
    const approval = await deps.approvals.get(record.approvalId);
    const refuse = (reason: string, current = approval) =>
      deps.holds.refused(current, record, { at: deps.clock.now().toISOString(), login: input.login, via: input.via, reason });
    const retry = approval.status === 'approved' && input.action === 'approve';
    if (approval.status !== 'pending' && !retry) return refuse(`approval ${approval.id} is already ${approval.status}`);
    if (input.sha !== approval.newOid) {
      return refuse(
        `it is for commit ${input.sha.slice(0, 12) || '(none)'}, but the held commit is ${approval.newOid.slice(0, 12)}; an approval is bound to the exact held commit`,
      );
    }
    const agentLogins = await agentGitHubLogins(deps.db, approval.agent);
    if (agentLogins.some((login) => login.toLowerCase() === input.login.toLowerCase())) {
      return refuse(`${input.login} is the GitHub identity of agent ${approval.agent}, which cannot decide on its own push`);
    }
    const octokit = await deps.clients.forRepo(record.installationId, record.owner, record.repo);
    let role: { roleName?: string; permission?: string };
    try {
      const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({
        owner: record.owner,
        repo: record.repo,
        username: input.login,
        request: deps.clients.request(),
      });
      role = { roleName: data.role_name, permission: data.permission };
    } catch (error) {
      // 404: not a collaborator at all.
      if (statusOf(error) !== 404) {
        log.warn({ err: error, login: input.login }, 'could not read a reviewer permission');
        return refuse(`portcullis could not check ${input.login}'s permission on ${record.owner}/${record.repo} (${statusOf(error) ?? 'no answer'}); try again`);
      }
      role = { roleName: 'none' };
    }
    if (!roleMeets(role.roleName, role.permission, deps.approverRole)) {
      return refuse(
        `${input.login} has the ${role.roleName ?? role.permission ?? 'none'} role on ${record.owner}/${record.repo}; deciding on a held push needs ${deps.approverRole} or higher`,
      );
    }
    const decisions = deps.decisions();
    if (!decisions) throw new PortcullisError('GITHUB_APP_NOT_CONFIGURED', 'hold decisions are not wired to the GitHub App');
    const reviewer = `github:${input.login}`;
    try {
      if (input.action === 'approve') await decisions.approve(approval.id, reviewer, input.comment);
      else await decisions.deny(approval.id, reviewer, input.comment);
      log.info({ approval: approval.id, reviewer, action: input.action, via: input.via }, 'hold decided from GitHub');
    } catch (error) {
      if (!isPortcullisError(error)) throw error;
      await refuse(error.userMessage, await deps.approvals.get(approval.id));
    }
  }
}

function sameRepository(record: GitHubHoldRecord, repository: Repository): boolean {
  return record.owner.toLowerCase() === repository.owner.login.toLowerCase() && record.repo.toLowerCase() === repository.name.toLowerCase();
}
