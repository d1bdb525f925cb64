import { and, desc, eq, sql } from 'drizzle-orm';
import type { Probot } from 'probot';
import type { Logger } from 'pino';
import { newId, type Clock } from '../clock.ts';
import { isZeroOid } from '../git/codec/index.ts';
import { tables, type Database } from '../store/index.ts';
import { statusOf, type GitHubAppApi } from './app-api.ts';
import { CHECK_NAME } from './hold-messages.ts';
import type { RepoClients } from './repo-clients.ts';
import { GITHUB_REMOTE } from './settings.ts';

/** A push to GitHub that did not come through the gateway, by a GitHub login linked to an agent. */
export interface BypassRecord {
  deliveryId: string;
  remote: string;
  owner: string;
  repo: string;
  ref: string;
  before: string;
  after: string;
  pusherLogin: string;
  agent: string;
}

export interface BypassLog {
  /** False when this delivery's bypass of this ref is already recorded (a redelivery). */
  record(bypass: BypassRecord): Promise<boolean>;
  recent(limit: number): Promise<Array<BypassRecord & { at: string }>>;
}

export function createBypassLog(db: Database, clock: Clock): BypassLog {
  return {
    async record(bypass) {
      const inserted = await db
        .insert(tables.bypasses)
        .values({ id: newId(clock), ...bypass, at: clock.now() })
        .onConflictDoNothing()
        .returning({ id: tables.bypasses.id });
      return inserted.length > 0;
    },
    async recent(limit) {
      const rows = await db.select().from(tables.bypasses).orderBy(desc(tables.bypasses.at)).limit(limit);
      return rows.map(({ id: _id, at, ...row }) => ({ ...row, at: at.toISOString() }));
    },
  };
}

/** The agent (newest row first, revoked ones too) whose linked GitHub login is `login`, case-insensitively. */
export async function agentForGitHubLogin(db: Database, login: string): Promise<string | null> {
  const [row] = await db
    .select({ name: tables.agents.name })
    .from(tables.agents)
    .where(sql`lower(${tables.agents.githubLogin}) = lower(${login})`)
    .orderBy(desc(tables.agents.createdAt))
    .limit(1);
  return row?.name ?? null;
}

/**
 * Whether the gateway forwarded `sha` to this repository on the `github` remote: a recorded
 * receive-pack request whose `details.forwarded` has a command with `newOid` = sha (held pushes
 * too: their held branch carries the sha). `inFlight` says whether a receive-pack to the
 * repository is still being served: its details are written only when it ends.
 */
export async function forwardedThroughGateway(db: Database, owner: string, repo: string, sha: string): Promise<{ found: boolean; inFlight: boolean }> {
  const { sessions, sessionRequests } = tables;
  const sameRepo = and(
    eq(sessions.remote, GITHUB_REMOTE),
    sql`lower(${sessions.owner}) = lower(${owner})`,
    sql`lower(regexp_replace(${sessions.repo}, '\\.git$', '')) = lower(${repo})`,
    eq(sessionRequests.endpoint, 'git-receive-pack'),
  );
  // In flight first, then found: a request that ends between the two queries is then seen as found.
  const running = await db
    .select({ id: sessionRequests.id })
    .from(sessionRequests)
    .innerJoin(sessions, eq(sessions.id, sessionRequests.sessionId))
    .where(and(sameRepo, eq(sessionRequests.outcome, 'in_progress')))
    .limit(1);
  const found = await db
    .select({ id: sessionRequests.id })
    .from(sessionRequests)
    .innerJoin(sessions, eq(sessions.id, sessionRequests.sessionId))
    .where(and(sameRepo, sql`${sessionRequests.details} -> 'forwarded' @> ${JSON.stringify([{ newOid: sha }])}::jsonb`))
    .limit(1);
  return { found: found.length > 0, inFlight: running.length > 0 };
}

interface PushPayload {
  ref: string;
  before: string;
  after: string;
  deleted?: boolean;
  pusher: { name?: string | null };
  sender?: { login?: string } | null;
  repository: { name: string; owner: { login?: string; name?: string | null } | null };
  installation?: { id: number } | null;
}

export interface BypassDeps {
  db: Database;
  clock: Clock;
  log: Logger;
  bypasses: BypassLog;
  api: Pick<GitHubAppApi, 'findRepoInstallation'>;
  clients: RepoClients;
  /** `github.flagBypass`: a failing `portcullis` check run on the bypassing sha. */
  flag: boolean;
  /** How long to wait for a receive-pack still being served to that repository (its push may be this one). */
  inFlightWaitMs?: number;
}

const POLL_MS = 250;

/**
 * `push` webhooks (https://docs.github.com/webhooks/webhook-events-and-payloads#push): a push by an
 * agent's linked GitHub login whose `after` sha the gateway never forwarded went around the
 * gateway. It is recorded (always) and, with `github.flagBypass`, flagged with a failing
 * `portcullis` check run on that sha. Branch deletions and other logins' pushes are not bypasses.
 */
export function registerBypassHandler(probot: Probot, deps: BypassDeps): void {
  const log = deps.log.child({ component: 'github-bypass' });
  probot.on('push', async ({ id, payload }) => {
    const push = payload as unknown as PushPayload;
    if (push.deleted || isZeroOid(push.after)) return;
    const owner = push.repository.owner?.login ?? push.repository.owner?.name;
    if (!owner) return;
    const repo = push.repository.name;
    const logins = [...new Set([push.sender?.login, push.pusher.name].filter((l): l is string => typeof l === 'string' && l.length > 0))];
    let login: string | null = null;
    let agent: string | null = null;
    for (const candidate of logins) {
      agent = await agentForGitHubLogin(deps.db, candidate);
      if (agent) {
        login = candidate;
        break;
      }
    }
    if (!agent || !login) return;

    const deadline = Date.now() + (deps.inFlightWaitMs ?? 8_000);
    for (;;) {
      const seen = await forwardedThroughGateway(deps.db, owner, repo, push.after);
      if (seen.found) return;
      if (!seen.inFlight || Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }

    const bypass: BypassRecord = {
      deliveryId: id,
      remote: GITHUB_REMOTE,
      owner,
      repo,
      ref: push.ref,
      before: push.before,
      after: push.after,
      pusherLogin: login,
      agent,
    };
    const fresh = await deps.bypasses.record(bypass);
    if (!fresh) return;
    log.warn({ agent, login, repo: `${owner}/${repo}`, ref: push.ref, before: push.before, after: push.after, delivery: id }, 'push around portcullis by an agent’s GitHub login');
    if (!deps.flag) return;

    const installationId = push.installation?.id ?? (await deps.api.findRepoInstallation(owner, repo));
    if (installationId === null || installationId === undefined) {
      log.warn({ repo: `${owner}/${repo}` }, 'the GitHub App is not installed on the repository of a bypass; no check run');
      return;
    }
    try {
      const octokit = await deps.clients.forRepo(installationId, owner, repo);
      await octokit.rest.checks.create({
        owner,
        repo,
        name: CHECK_NAME,
        head_sha: push.after,
        status: 'completed',
        conclusion: 'failure',
        output: bypassCheckOutput(bypass),
        request: deps.clients.request(),
      });
    } catch (error) {
      log.warn({ err: error, status: statusOf(error), repo: `${owner}/${repo}`, after: push.after }, 'could not flag a bypass with a check run');
    }
  });
}

export function bypassCheckOutput(bypass: BypassRecord): { title: string; summary: string } {
  const branch = bypass.ref.replace(/^refs\/heads\//, '');
  return {
    title: 'pushed around portcullis',
    summary: [
      `\`${bypass.pusherLogin}\`, the GitHub login of agent \`${bypass.agent}\`, pushed \`${branch}\` (${bypass.before.slice(0, 12)}..${bypass.after.slice(0, 12)}) directly to GitHub, not through the portcullis gateway.`,
      '',
      `Ref: \`${bypass.ref}\`, \`${bypass.before}\`..\`${bypass.after}\`. No guardrail (secret scan, protected-branch hold) checked this push.`,
    ].join('\n'),
  };
}
