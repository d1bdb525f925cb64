import type { RecordedRequest, RecordedSession } from '../audit/index.ts';
import type { RequestOutcome } from '../store/index.ts';

export type GitOperation = 'clone' | 'fetch' | 'ls-remote' | 'push';

export interface GitSessionSummary {
  kind: 'git';
  id: string;
  agent: string;
  authMethod: string;
  sourceAddress: string;
  userAgent: string | null;
  repo: string;
  service: string;
  protocolVersion: number;
  operation: GitOperation;
  startedAt: string;
  durationMs: number;
  outcome: RequestOutcome;
  httpStatus: number;
  bytesIn: number;
  bytesOut: number;
  requests: number;
  refsWanted: string[];
  refPrefixes: string[];
  refUpdates: Array<{ oldOid: string; newOid: string; ref: string }>;
}

/** Worst first: a session is as bad as its worst request. */
const OUTCOME_RANK: RequestOutcome[] = ['denied', 'upstream_error', 'client_error', 'aborted', 'in_progress', 'ok'];

/** Session totals and the operation are derived from the recorded requests, never stored twice. */
export function summarizeGitSession(session: RecordedSession, requests: RecordedRequest[]): GitSessionSummary {
  const posts = requests.filter((r) => r.endpoint !== 'info/refs');
  const details = posts.map((r) => r.details as GitRequestDetails);
  const last = requests.at(-1);
  const ends = requests.map((r) => r.startedAt.getTime() + r.durationMs);
  return {
    kind: 'git',
    id: session.id,
    agent: session.agent,
    authMethod: session.authMethod,
    sourceAddress: session.sourceAddress,
    userAgent: session.userAgent,
    repo: `${session.remote}/${session.owner}/${session.repo}`,
    service: session.service,
    protocolVersion: session.protocolVersion,
    operation: operationOf(session.service, details),
    startedAt: session.startedAt.toISOString(),
    durationMs: ends.length ? Math.max(...ends) - session.startedAt.getTime() : 0,
    outcome: OUTCOME_RANK.find((outcome) => requests.some((r) => r.outcome === outcome)) ?? 'in_progress',
    httpStatus: last?.httpStatus ?? 0,
    bytesIn: sum(requests.map((r) => r.bytesIn)),
    bytesOut: sum(requests.map((r) => r.bytesOut)),
    requests: requests.length,
    refsWanted: unique(details.flatMap((d) => d.wantRefs ?? [])),
    refPrefixes: unique(details.flatMap((d) => d.refPrefixes ?? [])),
    refUpdates: details.flatMap((d) => d.refUpdates ?? []),
  };
}

interface GitRequestDetails {
  command?: string;
  wantCount?: number;
  haveCount?: number;
  wantRefs?: string[];
  refPrefixes?: string[];
  refUpdates?: Array<{ oldOid: string; newOid: string; ref: string }>;
}

function operationOf(service: string, details: GitRequestDetails[]): GitOperation {
  if (service === 'git-receive-pack') return 'push';
  const fetches = details.filter((d) => (d.wantCount ?? 0) > 0);
  if (fetches.length === 0) return 'ls-remote';
  return fetches.some((d) => (d.haveCount ?? 0) > 0) ? 'fetch' : 'clone';
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
