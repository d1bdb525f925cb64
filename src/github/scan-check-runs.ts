import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { ForwardedPush, ForwardedRef, PushEvents, PushFinding } from '../git/push-events.ts';
import type { GitHubApp } from './app.ts';
import { statusOf, type GitHubAppApi } from './app-api.ts';
import { createRepoClients, type RepoClients } from './repo-clients.ts';
import { GITHUB_REMOTE } from './settings.ts';

/** Not `portcullis`: that name is the hold's required check, pinned to this app by branch protection. */
export const SCAN_CHECK_NAME = 'portcullis / secret scan';
/** GitHub takes at most 50 annotations per create or update request. */
export const MAX_ANNOTATIONS_PER_REQUEST = 50;
/** A check run shows at most this many (20 requests); the summary counts the rest. */
export const MAX_ANNOTATIONS = 1000;
const MAX_SKIPPED_LISTED = 50;
const MAX_SUMMARY = 60_000;

export interface CheckAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: 'notice' | 'warning' | 'failure';
  title: string;
  message: string;
}

export interface ScanCheckOutput {
  conclusion: 'success' | 'neutral';
  title: string;
  summary: string;
  /** All of them, in order; sent in batches of MAX_ANNOTATIONS_PER_REQUEST. */
  annotations: CheckAnnotation[];
}

export interface ScanCheckRunsDeps {
  api: Pick<GitHubAppApi, 'findRepoInstallation'>;
  clients: RepoClients;
  log: Logger;
}

/**
 * Opt-in (`github.scanCheckRuns`): for each sha the gateway pushed to the `github` remote (allowed
 * refs and held branches), a completed `portcullis / secret scan` check run summarising the scan,
 * with the findings that were let through as annotations (path, line, redacted preview only). A
 * blocked secret push never reaches GitHub, so it is never called for one. Failures are the
 * caller's to log: the push already happened.
 */
export function createScanCheckRuns(deps: ScanCheckRunsDeps): PushEvents {
  const log = deps.log.child({ component: 'github-scan-checks' });
  const { clients } = deps;
  return {
    async forwarded(push) {
      if (push.remote !== GITHUB_REMOTE || push.refs.length === 0) return;
      const { owner, repo } = push;
      const installationId = await deps.api.findRepoInstallation(owner, repo);
      if (installationId === null) {
        log.warn({ repo: `${owner}/${repo}` }, 'the GitHub App is not installed on the repository of a push; no secret scan check run');
        return;
      }
      const octokit = await clients.forRepo(installationId, owner, repo);
      const failures: unknown[] = [];
      for (const refs of groupBySha(push.refs)) {
        const headSha = refs[0]!.newOid;
        const output = scanCheckOutput(push, refs);
        const batches = chunk(output.annotations, MAX_ANNOTATIONS_PER_REQUEST);
        const text = { title: output.title, summary: output.summary };
        const done = { status: 'completed' as const, conclusion: output.conclusion };
        try {
          // One batch: created complete. More: created in progress, completed with the last batch.
          const { data } = await octokit.rest.checks.create({
            owner,
            repo,
            name: SCAN_CHECK_NAME,
            head_sha: headSha,
            ...(batches.length <= 1 ? done : { status: 'in_progress' as const }),
            output: { ...text, annotations: batches[0] ?? [] },
            request: clients.request(),
          });
          for (const [index, batch] of batches.entries()) {
            if (index === 0) continue;
            await octokit.rest.checks.update({
              owner,
              repo,
              check_run_id: data.id,
              ...(index === batches.length - 1 ? done : {}),
              output: { ...text, annotations: batch },
              request: clients.request(),
            });
          }
          log.info({ repo: `${owner}/${repo}`, sha: headSha, checkRunId: data.id, annotations: output.annotations.length, requests: Math.max(1, batches.length) }, 'secret scan shown on GitHub');
        } catch (error) {
          failures.push(error);
        }
      }
      if (failures.length > 0) {
        throw new AggregateError(failures, `secret scan check runs not fully created on ${owner}/${repo} (${failures.map((e) => statusOf(e) ?? 'no answer').join(', ')})`);
      }
    },
  };
}

/**
 * What the check run on one sha says: the scan of the commits its refs brought, files skipped,
 * and findings let through. Pure, so tests can read it without GitHub.
 */
export function scanCheckOutput(push: ForwardedPush, refs: readonly ForwardedRef[]): ScanCheckOutput {
  const commits = new Set(refs.flatMap((ref) => ref.commits));
  const mine = (f: { commit: string }) => commits.has(f.commit);
  const skipped = (push.scan?.skipped ?? []).filter(mine);
  // `skipped` on the record is capped; a push-wide count beyond the list may hide some of this sha's.
  const unlistedSkipped = push.scan ? Math.max(0, push.scan.skippedCount - push.scan.skipped.length) : 0;
  const allowed = push.allowedFindings.filter(mine);
  const reported = push.findings.filter(mine);
  const unlistedAllowed = Math.max(0, push.allowedCount - push.allowedFindings.length);
  const annotations = [
    ...reported.map((f) => annotation(f, 'warning', 'reported')),
    ...allowed.map((f) => annotation(f, 'notice', 'allowed by fingerprint in the policy')),
  ];
  const shown = annotations.slice(0, MAX_ANNOTATIONS);
  const letThrough = allowed.length + reported.length;

  const lines: string[] = [];
  const refNames = refs.map((ref) => `${code(ref.ref)}${ref.approvalId ? ` (held for approval ${code(ref.approvalId)} on ${code(ref.sentAs)})` : ''}`);
  lines.push(`portcullis scanned this push by agent ${code(push.agent)} to ${code(`${push.owner}/${push.repo}`)} before sending it to GitHub: ${refNames.join(', ')}.`, '');
  if (push.scan) {
    lines.push(
      `- Commits scanned: **${commits.size}** for this commit's ref${refs.length > 1 ? 's' : ''} (${push.scan.commits} in the whole push)`,
      `- Added text scanned: **${push.scan.scannedBytes}** bytes (whole push)`,
      `- Files not scanned (binary or too large): **${skipped.length}**${unlistedSkipped ? ` (${unlistedSkipped} more in the push not listed)` : ''}`,
    );
  } else {
    lines.push('- No commits new to GitHub: nothing to scan.');
  }
  lines.push(`- Findings let through: **${letThrough}** (${allowed.length} allowed by fingerprint, ${reported.length} reported)`);
  if (unlistedAllowed) lines.push(`- ${unlistedAllowed} more allowed finding(s) in the push are counted but not kept, so not shown`);
  if (annotations.length > shown.length) lines.push(`- Annotations: the first ${shown.length} of ${annotations.length} are shown`);
  lines.push('', 'Findings allowed for every agent (`git.secrets.allow`) or by an inline `portcullis:allow-secret` marker are dropped by the scanner itself and are not listed here. Previews are redacted; the secrets never leave the gateway.');
  if (skipped.length > 0) {
    lines.push('', '### Files not scanned', '');
    for (const file of skipped.slice(0, MAX_SKIPPED_LISTED)) lines.push(`- ${code(file.path)} in ${code(file.commit.slice(0, 12))}: ${reasonText(file.reason)}`);
    if (skipped.length > MAX_SKIPPED_LISTED) lines.push(`- … and ${skipped.length - MAX_SKIPPED_LISTED} more`);
  }
  const summary = lines.join('\n');
  const conclusion = skipped.length > 0 || unlistedSkipped > 0 || reported.length > 0 ? 'neutral' : 'success';
  const title =
    letThrough > 0
      ? `${letThrough} finding${letThrough === 1 ? '' : 's'} let through${skipped.length ? `, ${skipped.length} file(s) not scanned` : ''}`
      : skipped.length > 0
        ? `No secrets found; ${skipped.length} file(s) not scanned`
        : 'No secrets found';
  return { conclusion, title, summary: summary.length <= MAX_SUMMARY ? summary : `${summary.slice(0, MAX_SUMMARY)}\n\n… (truncated)`, annotations: shown };
}

/** Builds the listener from a running app: its own installation clients, forgotten when an installation changes. */
export async function createScanCheckRunsFor(app: Pick<GitHubApp, 'probot' | 'api' | 'settings'>, deps: { clock: Clock; log: Logger; timeoutMs: number }): Promise<PushEvents> {
  const appOctokit = await app.probot.auth();
  const clients = createRepoClients({ appOctokit, apiUrl: app.settings.apiUrl, clock: deps.clock, log: deps.log, timeoutMs: deps.timeoutMs });
  app.probot.on(['installation', 'installation_repositories'], async (context) => {
    clients.forgetInstallation(context.payload.installation.id);
  });
  return createScanCheckRuns({ api: app.api, clients, log: deps.log });
}

function annotation(f: PushFinding, level: CheckAnnotation['annotation_level'], why: string): CheckAnnotation {
  const line = Math.max(1, f.line);
  return {
    path: f.path,
    start_line: line,
    end_line: line,
    annotation_level: level,
    title: `${f.ruleId} (${why})`.slice(0, 255),
    message: `A ${f.ruleId} secret was let through (${why}) in commit ${f.commit.slice(0, 12)}: ${f.preview}`,
  };
}

function groupBySha(refs: readonly ForwardedRef[]): ForwardedRef[][] {
  const groups = new Map<string, ForwardedRef[]>();
  for (const ref of refs) groups.set(ref.newOid, [...(groups.get(ref.newOid) ?? []), ref]);
  return [...groups.values()];
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function reasonText(reason: string): string {
  return reason.replace(/[\r\n`]/g, ' ');
}

/** A path or name shown as code: backticks cannot close the span, newlines cannot start markdown. */
function code(text: string): string {
  return `\`${text.replace(/[`\r\n]/g, '?')}\``;
}
