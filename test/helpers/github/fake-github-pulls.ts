/**
 * Pull requests and their comments as GitHub treats them (https://docs.github.com/rest/pulls/pulls,
 * https://docs.github.com/rest/issues/comments): same-repository heads only, one open pull request
 * per head and base, merges bound to the head sha the caller saw.
 */
import { randomBytes } from 'node:crypto';
import { sameRepo } from './fake-github-auth.ts';
import type { Body, RepoScope, Route, RouteContext, RouteResult } from './fake-github-routes.ts';
import { GitHubHttpError, isoSeconds, repoKey, type FakePull, type FakeRepository } from './fake-github-state.ts';
import type { ValidatedRequest } from './openapi-validator.ts';

export const PULL_ROUTES: Record<string, Route> = {
  'pulls/create': { auth: 'installation', needs: [['pull_requests', 'write']], handle: createPull },

  'pulls/get': {
    auth: 'installation',
    needs: [['pull_requests', 'read']],
    handle: async (ctx, { pathParams }, { repo }) => ({ status: 200, body: ctx.responses.pull(await refreshHead(ctx, findPull(ctx, repo, pathParams.pull_number)), repo) }),
  },

  'pulls/update': {
    auth: 'installation',
    needs: [['pull_requests', 'write']],
    handle: async (ctx, { pathParams, body }, { repo }) => {
      const pull = findPull(ctx, repo, pathParams.pull_number);
      const input = (body ?? {}) as { title?: string; body?: string; state?: 'open' | 'closed'; base?: string };
      if (input.base !== undefined) {
        const sha = await ctx.resolveBranch(repo.owner, repo.name, input.base);
        if (sha === undefined) throw validationFailed('base', 'invalid');
        pull.base = { ref: input.base, sha, label: `${repo.owner}:${input.base}` };
      }
      if (input.state === 'open' && pull.merged) throw new GitHubHttpError(422, 'state cannot be changed. The pull request has been merged.');
      if (input.title !== undefined) pull.title = input.title;
      if (input.body !== undefined) pull.body = input.body;
      if (input.state !== undefined && input.state !== pull.state) {
        pull.state = input.state;
        pull.closedAt = input.state === 'closed' ? isoSeconds(ctx.now()) : null;
      }
      pull.updatedAt = isoSeconds(ctx.now());
      return { status: 200, body: ctx.responses.pull(pull, repo) };
    },
  },

  'pulls/merge': {
    auth: 'installation',
    needs: [['contents', 'write']],
    handle: async (ctx, { pathParams, body }, { repo }) => {
      const pull = await refreshHead(ctx, findPull(ctx, repo, pathParams.pull_number));
      const input = (body ?? {}) as { sha?: string; merge_method?: 'merge' | 'squash' | 'rebase' };
      if (pull.state !== 'open') throw new GitHubHttpError(405, 'Pull Request is not mergeable');
      if (input.sha !== undefined && input.sha !== pull.head.sha) throw new GitHubHttpError(409, 'Head branch was modified. Review and try the merge again.');
      // The fake keeps no objects, so the merge commit is an invented sha; it moves the base only in setBranch state.
      const sha = randomBytes(20).toString('hex');
      Object.assign(pull, { state: 'closed', merged: true, mergeCommitSha: sha, mergeMethod: input.merge_method ?? 'merge' });
      pull.closedAt = pull.mergedAt = pull.updatedAt = isoSeconds(ctx.now());
      branchMap(ctx, repo).set(pull.base.ref, sha);
      return { status: 200, body: ctx.responses.mergeResult(sha) };
    },
  },

  'pulls/list': {
    auth: 'installation',
    needs: [['pull_requests', 'read']],
    handle: async (ctx, { query }, { repo }) => {
      const state = (query.state as string | undefined) ?? 'open';
      const head = query.head as string | undefined;
      if (head !== undefined && !head.includes(':')) {
        ctx.flag(`pulls/list: head=${head} is not in GitHub's documented "user:ref-name" format`);
        return { status: 200, body: [] };
      }
      const perPage = (query.per_page as number | undefined) ?? 30;
      const page = (query.page as number | undefined) ?? 1;
      const found = ctx.state.pulls
        .filter((p) => sameRepo(p.owner, p.repo, repo.owner, repo.name))
        .filter((p) => state === 'all' || p.state === state)
        .filter((p) => head === undefined || head.toLowerCase() === p.head.label.toLowerCase())
        .filter((p) => query.base === undefined || p.base.ref === query.base)
        .sort((a, b) => b.number - a.number)
        .slice((page - 1) * perPage, page * perPage);
      return { status: 200, body: found.map((p) => ctx.responses.pullSimple(p, repo)) };
    },
  },

  'issues/create-comment': {
    auth: 'installation',
    // On a pull request, Pull requests: write is enough; on an issue, Issues: write.
    needs: [['issues', 'write'], ['pull_requests', 'write']],
    handle: async (ctx, { pathParams, body }, { repo }) => {
      const pull = findPull(ctx, repo, pathParams.issue_number);
      const comment = { owner: repo.owner, repo: repo.name, issueNumber: pull.number, id: ctx.state.nextId++, body: String((body as Body).body), createdAt: isoSeconds(ctx.now()) };
      ctx.state.comments.push(comment);
      return { status: 201, body: ctx.responses.comment(comment) };
    },
  },
};

async function createPull(ctx: RouteContext, { body }: ValidatedRequest, { repo }: RepoScope): Promise<RouteResult> {
  const input = body as { head: string; base: string; title?: string; body?: string; draft?: boolean; issue?: number };
  if (input.title === undefined) throw validationFailed('title', 'missing_field');
  const [headOwner, headRef] = input.head.includes(':') ? (input.head.split(/:(.*)/s) as [string, string]) : [repo.owner, input.head];
  if (headOwner.toLowerCase() !== repo.owner.toLowerCase()) throw validationFailed('head', 'invalid', 'the fake supports same-repository pull requests only');
  const headSha = await ctx.resolveBranch(repo.owner, repo.name, headRef);
  const baseSha = await ctx.resolveBranch(repo.owner, repo.name, input.base);
  if (baseSha === undefined) throw validationFailed('base', 'invalid');
  if (headSha === undefined) throw validationFailed('head', 'invalid');
  if (headSha === baseSha) throw validationFailed(undefined, 'custom', `No commits between ${input.base} and ${headRef}`);
  const label = `${repo.owner}:${headRef}`;
  const duplicate = ctx.state.pulls.find((p) => sameRepo(p.owner, p.repo, repo.owner, repo.name) && p.state === 'open' && p.head.label === label && p.base.ref === input.base);
  if (duplicate !== undefined) throw validationFailed(undefined, 'custom', `A pull request already exists for ${label}.`);
  const stamp = isoSeconds(ctx.now());
  const pull: FakePull = {
    owner: repo.owner,
    repo: repo.name,
    number: nextNumber(ctx, repo),
    id: ctx.state.nextId++,
    title: input.title,
    body: input.body ?? null,
    head: { ref: headRef, sha: headSha, label },
    base: { ref: input.base, sha: baseSha, label: `${repo.owner}:${input.base}` },
    state: 'open',
    draft: input.draft ?? false,
    merged: false,
    mergeCommitSha: null,
    createdAt: stamp,
    updatedAt: stamp,
    closedAt: null,
    mergedAt: null,
  };
  ctx.state.pulls.push(pull);
  const response = ctx.responses.pull(pull, repo);
  return { status: 201, body: response, headers: { location: String(response.url) } };
}
function findPull(ctx: RouteContext, repo: FakeRepository, number: unknown): FakePull {
  const pull = ctx.state.pulls.find((p) => sameRepo(p.owner, p.repo, repo.owner, repo.name) && p.number === number);
  if (pull === undefined) throw new GitHubHttpError(404, 'Not Found');
  return pull;
}
async function refreshHead(ctx: RouteContext, pull: FakePull): Promise<FakePull> {
  if (pull.state !== 'open') return pull;
  const sha = await ctx.resolveBranch(pull.owner, pull.repo, pull.head.ref);
  if (sha !== undefined) pull.head.sha = sha;
  return pull;
}

function nextNumber(ctx: RouteContext, repo: FakeRepository): number {
  const numbers = ctx.state.pulls.filter((p) => sameRepo(p.owner, p.repo, repo.owner, repo.name)).map((p) => p.number);
  return Math.max(0, ...numbers) + 1;
}

function branchMap(ctx: RouteContext, repo: FakeRepository): Map<string, string> {
  const key = repoKey(repo.owner, repo.name);
  let branches = ctx.state.branches.get(key);
  if (branches === undefined) {
    branches = new Map();
    ctx.state.branches.set(key, branches);
  }
  return branches;
}

function validationFailed(field: string | undefined, code: string, message?: string): GitHubHttpError {
  const error: Record<string, unknown> = { resource: 'PullRequest', code };
  if (field !== undefined) error.field = field;
  if (message !== undefined) error.message = message;
  return new GitHubHttpError(422, 'Validation Failed', { errors: [error] });
}
