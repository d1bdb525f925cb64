import type { StoredApproval } from '../approvals/index.ts';
import type { GitHubHoldRefusal } from '../store/schema.ts';

/** The check run's name: admins require it in branch protection, pinned to this app. */
export const CHECK_NAME = 'portcullis';
export const APPROVE_ACTION = 'approve';
export const REJECT_ACTION = 'reject';

/** GitHub's limits: ≤3 actions, label ≤20, description ≤40, identifier ≤20 characters. */
export const HOLD_ACTIONS = [
  { label: 'Approve push', description: 'Apply the held push upstream', identifier: APPROVE_ACTION },
  { label: 'Reject', description: 'Deny the push, close the pull request', identifier: REJECT_ACTION },
] as const;

const MAX_COMMITS_SHOWN = 20;
const MAX_PATHS_SHOWN = 50;
/** Check run summaries and pull request bodies are capped at 65,535 characters; stay well below. */
const MAX_TEXT = 60_000;

export interface HoldSummary {
  commits: string[];
  changedPaths: string[];
  findings: number;
}

/** The reviewer-facing facts of a hold, read defensively from its stored summary. */
export function holdSummary(approval: StoredApproval): HoldSummary {
  const summary = approval.summary;
  const strings = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  return {
    commits: strings(summary.commits),
    changedPaths: strings(summary.changedPaths),
    findings: typeof summary.findings === 'number' ? summary.findings : 0,
  };
}

export function branchName(ref: string): string {
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : ref;
}

/** A path or name shown as code: backticks cannot close the span, newlines cannot start markdown. */
function code(text: string): string {
  return `\`${text.replace(/[`\r\n]/g, '?')}\``;
}

export function pullTitle(approval: StoredApproval): string {
  const commits = holdSummary(approval).commits.length;
  return `portcullis: ${approval.agent} wants to push ${commits === 1 ? '1 commit' : `${commits} commits`} to ${branchName(approval.ref)} (held ${approval.id})`;
}

function facts(approval: StoredApproval): string[] {
  const summary = holdSummary(approval);
  const lines = [
    `- **Agent:** ${code(approval.agent)}`,
    `- **Branch:** ${code(branchName(approval.ref))} (${code(approval.oldOid.slice(0, 12))} → ${code(approval.newOid.slice(0, 12))})`,
    `- **Why it is held:** ${approval.reasons.map((reason) => reason.replace(/[\r\n]+/g, ' ')).join('; ') || 'protected ref'}`,
    `- **Secret scan:** ${summary.findings === 0 ? 'no secrets found' : `${summary.findings} finding(s), see \`portcullis sessions\``}`,
    `- **Approval id:** ${code(approval.id)} (expires ${approval.expiresAt.toISOString()})`,
    '',
    `**Commits (${summary.commits.length}):**`,
    ...summary.commits.slice(0, MAX_COMMITS_SHOWN).map((sha) => `- ${code(sha)}`),
  ];
  if (summary.commits.length > MAX_COMMITS_SHOWN) lines.push(`- … and ${summary.commits.length - MAX_COMMITS_SHOWN} more`);
  lines.push('', `**Files changed (${summary.changedPaths.length}${summary.changedPaths.length >= 200 ? '+' : ''}):**`);
  lines.push(...summary.changedPaths.slice(0, MAX_PATHS_SHOWN).map((p) => `- ${code(p)}`));
  if (summary.changedPaths.length > MAX_PATHS_SHOWN) lines.push(`- … and ${summary.changedPaths.length - MAX_PATHS_SHOWN} more`);
  return lines;
}

function howToDecide(approval: StoredApproval): string[] {
  return [
    '**To approve**, someone with write access (not the agent) either presses **Approve push** on the `portcullis` check, approves this pull request with a review, or runs',
    '```',
    `npx portcullis approvals approve ${approval.id}`,
    '```',
    `**To reject**, press **Reject** on the check or run \`npx portcullis approvals deny ${approval.id}\`.`,
    '',
    `An approval applies exactly ${code(approval.newOid)}: portcullis fast-forwards ${code(branchName(approval.ref))} to it and closes this pull request. Do not merge it yourself; a new push to the held branch needs a new approval.`,
  ];
}

export function pullBody(approval: StoredApproval): string {
  const text = [
    `A push by agent ${code(approval.agent)} to ${code(branchName(approval.ref))} is held by portcullis for a human decision.`,
    '',
    ...facts(approval),
    '',
    ...howToDecide(approval),
  ].join('\n');
  return cap(text);
}

export interface CheckOutput {
  title: string;
  summary: string;
}

export function heldCheckOutput(approval: StoredApproval, refusals: readonly GitHubHoldRefusal[] = []): CheckOutput {
  const lines = [`Held for approval ${code(approval.id)}: ${approval.reasons.join('; ') || 'protected ref'}.`, '', ...facts(approval)];
  if (refusals.length > 0) {
    lines.push('', '**Refused from GitHub:**');
    lines.push(...refusals.slice(-10).map((r) => `- ${r.at}: ${code(r.login)} (${r.via}): ${r.reason.replace(/[\r\n]+/g, ' ')}`));
  }
  lines.push('', ...howToDecide(approval));
  const last = refusals.at(-1);
  return { title: last ? `Waiting for approval (refused ${last.login})` : 'Waiting for approval', summary: cap(lines.join('\n')) };
}

/** The check run's end and the pull request's closing comment for a decided hold. */
export function decidedOutcome(approval: StoredApproval): { conclusion: 'success' | 'failure'; output: CheckOutput; comment: string } | null {
  const by = approval.decidedBy ? code(approval.decidedBy) : 'someone';
  const comment = approval.comment ? `\n\n> ${approval.comment.replace(/[\r\n]+/g, ' ')}` : '';
  const ref = code(branchName(approval.ref));
  const sha = code(approval.newOid.slice(0, 12));
  switch (approval.status) {
    case 'applied':
      return {
        conclusion: 'success',
        output: { title: `Approved by ${approval.decidedBy ?? 'a reviewer'}`, summary: cap([`Approved by ${by}; ${ref} now points to ${sha}.${comment}`, '', ...facts(approval)].join('\n')) },
        comment: `portcullis: approved by ${by}. ${ref} was fast-forwarded to ${sha}; this pull request is closed and the held branch removed.${comment}`,
      };
    case 'denied':
      return {
        conclusion: 'failure',
        output: { title: `Rejected by ${approval.decidedBy ?? 'a reviewer'}`, summary: cap([`Rejected by ${by}; ${ref} was not changed.${comment}`, '', ...facts(approval)].join('\n')) },
        comment: `portcullis: rejected by ${by}. ${ref} was not changed; this pull request is closed and the held branch removed.${comment}`,
      };
    case 'expired':
      return {
        conclusion: 'failure',
        output: { title: 'Expired', summary: cap([`Nobody decided before ${approval.expiresAt.toISOString()}; ${ref} was not changed.`, '', ...facts(approval)].join('\n')) },
        comment: `portcullis: approval ${code(approval.id)} expired at ${approval.expiresAt.toISOString()}. ${ref} was not changed; the agent must push again.`,
      };
    case 'stale': {
      const reason = approval.staleReason ?? 'the protected branch moved';
      return {
        conclusion: 'failure',
        output: { title: 'Stale: not applied', summary: cap([`Not applied: ${reason}.`, '', ...facts(approval)].join('\n')) },
        comment: `portcullis: the held push was not applied: ${reason}. This pull request is closed.`,
      };
    }
    default:
      return null;
  }
}

function cap(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT)}\n\n… (truncated)`;
}
