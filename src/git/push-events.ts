import { isZeroOid, type ReportStatus } from './codec/index.ts';
import type { StoredApproval } from '../approvals/index.ts';

/** A secret finding as the push record keeps it: where, which rule, the redacted preview; never the secret. */
export interface PushFinding {
  ruleId: string;
  path: string;
  line: number;
  commit: string;
  preview: string;
}

/** `details.scan` of a push: what the secret scan looked at. */
export interface PushScanSummary {
  commits: number;
  scannedBytes: number;
  skipped: Array<{ commit: string; path: string; reason: string }>;
  skippedCount: number;
}

/** One ref of a push that reached the upstream: allowed as pushed, or held on its held branch. */
export interface ForwardedRef {
  /** The ref the agent pushed. */
  ref: string;
  /** The ref the upstream received: `ref`, or the hold's held branch. */
  sentAs: string;
  newOid: string;
  /** The hold's approval id when the ref was held. */
  approvalId: string | null;
  /** The commits the push brought for this ref (new to the upstream). */
  commits: string[];
}

/** What a forge integration hears about a push that (at least partly) reached the upstream. */
export interface ForwardedPush {
  agent: string;
  sessionId: string;
  remote: string;
  owner: string;
  repo: string;
  refs: ForwardedRef[];
  scan: PushScanSummary | null;
  /** Findings that were reported (a push carrying one is never forwarded, so normally none). */
  findings: PushFinding[];
  /** Findings the agent's policy allowed by fingerprint (the scanner itself drops globally allowed and inline-allowed ones). */
  allowedFindings: PushFinding[];
  /** How many were allowed by fingerprint in the pipeline (`allowedFindings` may be capped). */
  allowedCount: number;
}

/** Listeners on pushes that reached the upstream. A failure is logged by the caller, never fatal. */
export interface PushEvents {
  forwarded(push: ForwardedPush): Promise<void>;
}

/** At most this many allowed findings are kept on a push's record (and so shown anywhere). */
export const MAX_ALLOWED_FINDINGS_KEPT = 1000;

/**
 * The refs of a push that the upstream accepted, from what the gateway forwarded and upstream's own
 * report: deletes and anything upstream refused are left out.
 */
export function forwardedPush(
  base: Pick<ForwardedPush, 'agent' | 'sessionId' | 'remote' | 'owner' | 'repo'>,
  details: Record<string, unknown>,
  holds: ReadonlyMap<string, StoredApproval>,
  upstream: ReportStatus | null,
): ForwardedPush | null {
  if (!upstream || !upstream.unpack.ok) return null;
  const forwarded = (details.forwarded as Array<{ ref: string; newOid: string }> | undefined) ?? [];
  const byRef = (details.commitsByRef as Record<string, { commits?: string[] }> | undefined) ?? {};
  const refs: ForwardedRef[] = [];
  for (const command of forwarded) {
    if (isZeroOid(command.newOid) || !upstream.refs.some((r) => r.ref === command.ref && r.ok)) continue;
    const hold = [...holds.values()].find((h) => h.heldRef === command.ref);
    const ref = hold ? hold.ref : command.ref;
    refs.push({ ref, sentAs: command.ref, newOid: command.newOid, approvalId: hold?.id ?? null, commits: [...(byRef[ref]?.commits ?? [])] });
  }
  if (refs.length === 0) return null;
  const findings = (details.findings as PushFinding[] | undefined) ?? [];
  const allowed = (details.allowedFindings as PushFinding[] | undefined) ?? [];
  return {
    ...base,
    refs,
    scan: (details.scan as PushScanSummary | undefined) ?? null,
    findings: findings.map(pick),
    allowedFindings: allowed.map(pick),
    allowedCount: typeof details.allowedFindingsCount === 'number' ? details.allowedFindingsCount : allowed.length,
  };
}

/** Only the redacted fields travel on: a fingerprint or anything else never leaves the record. */
function pick(f: PushFinding): PushFinding {
  return { ruleId: f.ruleId, path: f.path, line: f.line, commit: f.commit, preview: f.preview };
}
