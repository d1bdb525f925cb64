/**
 * The operations the fake implements, keyed by GitHub's operationId. Each applies the rules GitHub
 * applies beyond the schema (fake-github-pulls.ts, fake-github-checks.ts, and here the App
 * routes: https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app).
 * A request reaching a handler has already passed the OpenAPI validator, so handlers may rely on
 * types and required fields.
 */
import { findToken, newInstallationToken, permits, requirePermission, requireRepoAccess, sameRepo, type Credentials } from './fake-github-auth.ts';
import { CHECK_ROUTES } from './fake-github-checks.ts';
import { PULL_ROUTES } from './fake-github-pulls.ts';
import type { ResponseBuilders } from './fake-github-responses.ts';
import { GitHubHttpError, repoKey, type FakeGitHubState, type FakeInstallation, type FakeRepository, type IssuedToken, type PermissionLevel } from './fake-github-state.ts';
import type { ValidatedRequest } from './openapi-validator.ts';

export interface RouteContext {
  state: FakeGitHubState;
  responses: ResponseBuilders;
  now(): number;
  tokenTtlMs(): number;
  verifyAppJwt(credentials: Credentials): Promise<void>;
  /** The branch's sha, from the git upstream or setBranch; undefined if it does not exist. */
  resolveBranch(owner: string, repo: string, branch: string): Promise<string | undefined>;
  /** Records a violation for a request that is answered anyway. */
  flag(message: string): void;
}

export interface RouteResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RepoScope {
  token: IssuedToken;
  installation: FakeInstallation;
  repo: FakeRepository;
}

export type Body = Record<string, unknown>;
type AppHandler = (ctx: RouteContext, request: ValidatedRequest) => Promise<RouteResult>;
type RepoHandler = (ctx: RouteContext, request: ValidatedRequest, scope: RepoScope) => Promise<RouteResult>;

export type Route =
  | { auth: 'jwt'; handle: AppHandler }
  | { auth: 'installation'; needs: Array<[string, PermissionLevel]>; handle: RepoHandler };

export const ROUTES: Record<string, Route> = {
  'apps/get-authenticated': { auth: 'jwt', handle: async (ctx) => ({ status: 200, body: ctx.responses.app() }) },

  'apps/get-repo-installation': {
    auth: 'jwt',
    handle: async (ctx, { pathParams }) => {
      const owner = String(pathParams.owner);
      const repo = String(pathParams.repo);
      const installation = ctx.state.installations.find((i) => i.repositories.some((r) => sameRepo(r.owner, r.name, owner, repo)));
      if (installation === undefined) throw new GitHubHttpError(404, 'Not Found');
      return { status: 200, body: ctx.responses.installation(installation) };
    },
  },

  'apps/create-installation-access-token': {
    auth: 'jwt',
    handle: async (ctx, { pathParams, body }) => {
      const installation = ctx.state.installations.find((i) => i.id === pathParams.installation_id);
      if (installation === undefined) throw new GitHubHttpError(404, 'Not Found');
      const input = (body ?? {}) as { repositories?: string[]; repository_ids?: number[]; permissions?: Record<string, PermissionLevel> };
      let selected: FakeRepository[] | undefined;
      if (input.repositories !== undefined || input.repository_ids !== undefined) {
        const names = input.repositories ?? [];
        const ids = input.repository_ids ?? [];
        selected = installation.repositories.filter((r) => names.some((n) => n.toLowerCase() === r.name.toLowerCase()) || ids.includes(r.id));
        if (selected.length !== new Set([...names.map((n) => n.toLowerCase()), ...ids.map(String)]).size) {
          throw new GitHubHttpError(422, 'There is at least one repository that does not exist or is not accessible to the parent installation.');
        }
      }
      const requested = input.permissions ?? installation.permissions;
      for (const [name, level] of Object.entries(requested)) {
        if (!permits(installation.permissions[name], level)) {
          throw new GitHubHttpError(422, 'The permissions requested are not granted to this installation.');
        }
      }
      const token: IssuedToken = {
        token: newInstallationToken(),
        installationId: installation.id,
        expiresAt: new Date(ctx.now() + ctx.tokenTtlMs()),
        repositories: selected === undefined ? 'all' : selected.map((r) => r.name),
        permissions: { ...requested },
        revoked: false,
      };
      ctx.state.tokens.push(token);
      return { status: 201, body: ctx.responses.accessToken(token, selected) };
    },
  },

  'repos/get-collaborator-permission-level': {
    auth: 'installation',
    needs: [['metadata', 'read']],
    handle: async (ctx, { pathParams }, { repo }) => {
      const login = String(pathParams.username);
      const role = ctx.state.roles.get(repoKey(repo.owner, repo.name))?.get(login.toLowerCase()) ?? 'none';
      return { status: 200, body: ctx.responses.permission(login, role) };
    },
  },

  ...PULL_ROUTES,
  ...CHECK_ROUTES,
};

/** Resolves the installation token and checks it covers the repository with the permission needed. */
export function authorizeRepo(ctx: RouteContext, credentials: Credentials, request: ValidatedRequest, needs: Array<[string, PermissionLevel]>): RepoScope {
  const token = findToken(ctx.state.tokens, credentials, ctx.now());
  const installation = ctx.state.installations.find((i) => i.id === token.installationId);
  const owner = String(request.pathParams.owner);
  const name = String(request.pathParams.repo);
  requireRepoAccess(token, installation, owner, name);
  requirePermission(token, needs);
  const repo = installation?.repositories.find((r) => sameRepo(r.owner, r.name, owner, name));
  if (installation === undefined || repo === undefined) throw new GitHubHttpError(404, 'Not Found');
  return { token, installation, repo };
}

