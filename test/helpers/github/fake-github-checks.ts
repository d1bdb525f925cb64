/**
 * Check runs as GitHub treats them (https://docs.github.com/rest/checks/runs): a conclusion
 * completes the run, "completed" needs a conclusion, only GitHub sets "stale", annotations
 * accumulate across updates (at most 50 per request, which the schema enforces).
 */
import { sameRepo } from './fake-github-auth.ts';
import type { Body, RepoScope, Route, RouteContext, RouteResult } from './fake-github-routes.ts';
import { GitHubHttpError, isoSeconds, type FakeCheckRun, type FakeRepository } from './fake-github-state.ts';
import type { ValidatedRequest } from './openapi-validator.ts';

export const CHECK_ROUTES: Record<string, Route> = {
  'checks/create': { auth: 'installation', needs: [['checks', 'write']], handle: createCheckRun },

  'checks/get': {
    auth: 'installation',
    needs: [['checks', 'read']],
    handle: async (ctx, { pathParams }, { repo }) => ({ status: 200, body: ctx.responses.checkRun(findCheckRun(ctx, repo, pathParams.check_run_id)) }),
  },

  'checks/update': {
    auth: 'installation',
    needs: [['checks', 'write']],
    handle: async (ctx, { pathParams, body }, { repo }) => {
      const run = findCheckRun(ctx, repo, pathParams.check_run_id);
      const input = (body ?? {}) as Body;
      checkCompletion(input, run.conclusion !== null);
      applyCheckRunFields(ctx, run, input);
      run.updates.push(input);
      return { status: 200, body: ctx.responses.checkRun(run) };
    },
  },};

async function createCheckRun(ctx: RouteContext, { body }: ValidatedRequest, { repo }: RepoScope): Promise<RouteResult> {
  const input = body as Body;
  const headSha = String(input.head_sha);
  // GitHub looks the commit up; a short or malformed sha is "No commit found for SHA".
  if (!/^[0-9a-f]{40}$/.test(headSha)) throw new GitHubHttpError(422, `No commit found for SHA: ${headSha}`, { violation: true });
  checkCompletion(input, false);
  const run: FakeCheckRun = {
    owner: repo.owner,
    repo: repo.name,
    id: ctx.state.nextId++,
    name: String(input.name),
    headSha,
    status: 'queued',
    conclusion: null,
    externalId: null,
    detailsUrl: null,
    startedAt: isoSeconds(ctx.now()),
    completedAt: null,
    output: { title: null, summary: null, text: null },
    annotations: [],
    actions: [],
    updates: [],
  };
  applyCheckRunFields(ctx, run, input);
  ctx.state.checkRuns.push(run);
  return { status: 201, body: ctx.responses.checkRun(run) };
}

/**
 * "Required if you provide completed_at or a status of completed" and "You cannot change a check
 * run conclusion to stale, only GitHub can set this" (the description's text for `conclusion`).
 */
function checkCompletion(input: Body, hasConclusion: boolean): void {
  const completing = input.status === 'completed' || input.completed_at !== undefined;
  if (completing && input.conclusion === undefined && !hasConclusion) {
    throw new GitHubHttpError(422, 'Invalid request.\n\n"conclusion" wasn\'t supplied.', { violation: true });
  }
  if (input.conclusion === 'stale') throw new GitHubHttpError(422, 'Invalid request.\n\nOnly GitHub can set the conclusion "stale".', { violation: true });
}

function applyCheckRunFields(ctx: RouteContext, run: FakeCheckRun, input: Body): void {
  if (typeof input.name === 'string') run.name = input.name;
  if (typeof input.details_url === 'string') run.detailsUrl = input.details_url;
  if (typeof input.external_id === 'string') run.externalId = input.external_id;
  if (typeof input.started_at === 'string') run.startedAt = input.started_at;
  if (typeof input.status === 'string') run.status = input.status as FakeCheckRun['status'];
  if (typeof input.conclusion === 'string') {
    // Giving a conclusion completes the run.
    run.conclusion = input.conclusion;
    run.status = 'completed';
    run.completedAt = typeof input.completed_at === 'string' ? input.completed_at : isoSeconds(ctx.now());
  }
  const output = input.output as (Body & { annotations?: FakeCheckRun['annotations'] }) | undefined;
  if (output !== undefined) {
    run.output = { title: (output.title as string | undefined) ?? null, summary: (output.summary as string | undefined) ?? null, text: (output.text as string | undefined) ?? null };
    // Each request may add up to 50 annotations; they accumulate across updates.
    run.annotations.push(...(output.annotations ?? []));
  }
  if (Array.isArray(input.actions)) run.actions = input.actions as FakeCheckRun['actions'];
}
function findCheckRun(ctx: RouteContext, repo: FakeRepository, id: unknown): FakeCheckRun {
  const run = ctx.state.checkRuns.find((r) => sameRepo(r.owner, r.repo, repo.owner, repo.name) && r.id === id);
  if (run === undefined) throw new GitHubHttpError(404, 'Not Found');
  return run;
}

/** An open pull request follows its head branch, as GitHub's does on every push. */