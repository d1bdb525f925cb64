/**
 * The approval state machine (DESIGN.md "approvals/"), pure: the store loads an approval, asks
 * `transition`, and persists what comes back (or renders the refusal). Time arrives in the event.
 *
 *   pending ──approve──> approved ──applied──> applied
 *      │                    └──────stale────> stale     (the protected ref moved; the agent rebases)
 *      ├──stale──> stale                                (the held update never reached the upstream)
 *      ├──deny───> denied
 *      └──expire─> expired                              (at or after expiresAt)
 *
 * denied, expired, applied and stale are final. The agent that pushed never decides its own hold.
 */

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'applied' | 'stale';

export const FINAL_STATUSES: readonly ApprovalStatus[] = ['denied', 'expired', 'applied', 'stale'];

export interface Approval {
  id: string;
  /** The agent whose push is held; it may not approve or deny it. */
  agent: string;
  remote: string;
  owner: string;
  repo: string;
  /** The ref the agent pushed, e.g. refs/heads/main. */
  ref: string;
  /** Where the pushed commit waits upstream: refs/heads/portcullis/held/<id>. */
  heldRef: string;
  /** The value `ref` had when the push was held: applying leases on it. */
  oldOid: string;
  newOid: string;
  status: ApprovalStatus;
  /** Why it was held, for people (policy's holdReasons). */
  reasons: string[];
  createdAt: Date;
  expiresAt: Date;
  /** Reviewer who approved or denied. */
  decidedBy?: string;
  /** When it was approved, denied or expired. */
  decidedAt?: Date;
  comment?: string;
  appliedAt?: Date;
  staleAt?: Date;
  staleReason?: string;
}

export type ApprovalEvent =
  | { type: 'approve'; reviewer: string; at: Date; comment?: string }
  | { type: 'deny'; reviewer: string; at: Date; comment?: string }
  | { type: 'expire'; at: Date }
  | { type: 'applied'; at: Date }
  | { type: 'stale'; at: Date; reason: string };

/**
 * Why a transition was refused: `self-review` (the pushing agent as reviewer), `expired` (a decision
 * at or after expiresAt), `closed` (the approval is in a final state), `conflict` (the event does not
 * apply to the current state), `invalid` (the event itself is malformed).
 */
export type ApprovalRefusalKind = 'self-review' | 'expired' | 'closed' | 'conflict' | 'invalid';

/** `code` is an ErrorCode, so a refusal becomes `new PortcullisError(code, message)`. */
export type TransitionResult =
  | { ok: true; approval: Approval }
  | { ok: false; code: 'APPROVAL_REFUSED'; kind: ApprovalRefusalKind; message: string };

export function isFinal(status: ApprovalStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

export function transition(approval: Approval, event: ApprovalEvent): TransitionResult {
  if (Number.isNaN(event.at.getTime())) return refuse('invalid', `${event.type} of approval ${approval.id}: the event has no valid time`);
  if (isFinal(approval.status)) return refuse('closed', `cannot ${verb(event)} approval ${approval.id}: it ${describeFinal(approval)}; nothing more can happen to it`);

  switch (event.type) {
    case 'approve':
    case 'deny':
      return decide(approval, event);
    case 'expire':
      if (approval.status !== 'pending') return refuse('conflict', `cannot expire approval ${approval.id}: it was approved by ${approval.decidedBy ?? 'a reviewer'} at ${iso(approval.decidedAt)} and is being applied`);
      if (event.at.getTime() < approval.expiresAt.getTime()) {
        return refuse('conflict', `cannot expire approval ${approval.id} at ${iso(event.at)}: it is valid until ${iso(approval.expiresAt)}`);
      }
      return accept({ ...approval, status: 'expired', decidedAt: event.at });
    case 'applied':
      if (approval.status !== 'approved') return refuse('conflict', `cannot apply approval ${approval.id}: it is still pending; a reviewer must approve it first`);
      return accept({ ...approval, status: 'applied', appliedAt: event.at });
    case 'stale': {
      // Final states were refused above. A pending hold goes stale when it can no longer be applied as
      // pushed (its held branch never reached the upstream); an approved one when the ref moved meanwhile.
      const reason = event.reason.trim();
      if (reason === '') return refuse('invalid', `cannot mark approval ${approval.id} stale without saying why`);
      return accept({ ...approval, status: 'stale', staleAt: event.at, staleReason: reason });
    }
  }
}

function decide(approval: Approval, event: Extract<ApprovalEvent, { type: 'approve' | 'deny' }>): TransitionResult {
  const reviewer = event.reviewer.trim();
  const action = event.type === 'approve' ? 'approve' : 'deny';
  if (reviewer === '') return refuse('invalid', `cannot ${action} approval ${approval.id}: no reviewer given`);
  // Names compare without case: refusing a look-alike reviewer is the safe side of the mistake.
  if (reviewer.toLowerCase() === approval.agent.trim().toLowerCase()) {
    return refuse('self-review', `${reviewer} pushed this change and cannot ${action} its own hold (approval ${approval.id}); a maintainer must review it`);
  }
  if (approval.status === 'approved') {
    return refuse('conflict', `cannot ${action} approval ${approval.id}: it was already approved by ${approval.decidedBy ?? 'a reviewer'} at ${iso(approval.decidedAt)} and is being applied`);
  }
  if (event.at.getTime() >= approval.expiresAt.getTime()) {
    return refuse('expired', `approval ${approval.id} expired at ${iso(approval.expiresAt)} and can no longer be decided; the agent must push again to ask anew`);
  }
  const decided: Approval = { ...approval, status: event.type === 'approve' ? 'approved' : 'denied', decidedBy: reviewer, decidedAt: event.at };
  delete decided.comment;
  const comment = event.comment?.trim();
  if (comment) decided.comment = comment;
  return accept(decided);
}

function describeFinal(approval: Approval): string {
  switch (approval.status) {
    case 'denied':
      return `was denied by ${approval.decidedBy ?? 'a reviewer'} at ${iso(approval.decidedAt)}`;
    case 'expired':
      return `expired at ${iso(approval.expiresAt)}`;
    case 'applied':
      return `was applied at ${iso(approval.appliedAt)} (approved by ${approval.decidedBy ?? 'a reviewer'})`;
    case 'stale':
      return `went stale${approval.staleAt ? ` at ${iso(approval.staleAt)}` : ''}: ${approval.staleReason ?? 'the ref moved'}`;
    default:
      return `is ${approval.status}`;
  }
}

function verb(event: ApprovalEvent): string {
  return { approve: 'approve', deny: 'deny', expire: 'expire', applied: 'apply', stale: 'mark stale' }[event.type];
}

function iso(date: Date | undefined): string {
  return date && !Number.isNaN(date.getTime()) ? date.toISOString() : '(unknown time)';
}

function accept(approval: Approval): TransitionResult {
  return { ok: true, approval };
}

function refuse(kind: ApprovalRefusalKind, message: string): TransitionResult {
  return { ok: false, code: 'APPROVAL_REFUSED', kind, message };
}
