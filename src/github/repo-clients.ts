import { ProbotOctokit } from 'probot';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { createInstallationTokenCache } from './token-cache.ts';

/**
 * What holds on GitHub need, and nothing more: open and close the pull request (pull_requests),
 * create and complete the check run (checks), read a reviewer's permission (metadata). Contents
 * read only: the held branch is pushed and the protected branch moved with the git credential.
 */
export const HOLD_TOKEN_PERMISSIONS = { contents: 'read', pull_requests: 'write', checks: 'write', metadata: 'read' } as const;

export type RepoClient = InstanceType<typeof ProbotOctokit>;

export interface RepoClients {
  /** An installation-authenticated client for one repository (token cached until 5 min before expiry). */
  forRepo(installationId: number, owner: string, repo: string): Promise<RepoClient>;
  /** An installation changed: its tokens may no longer be valid. */
  forgetInstallation(installationId: number): void;
  /** Each call's own abort signal: a GitHub that stops answering must not hold a webhook or a push forever. */
  request(): { signal: AbortSignal };
}

export interface RepoClientDeps {
  /** The app-authenticated client (JWT); tokens are minted with it, never with probot.auth(id). */
  appOctokit: RepoClient;
  apiUrl: string;
  clock: Clock;
  log: Logger;
  timeoutMs: number;
}

/**
 * Installation clients built here, not through probot.auth(installationId) or context.octokit: those
 * post the token request to api.github.com even with GHE_HOST, and throttle writes to one a second.
 */
export function createRepoClients(deps: RepoClientDeps): RepoClients {
  const request = () => ({ signal: AbortSignal.timeout(deps.timeoutMs) });
  const tokens = createInstallationTokenCache({
    clock: deps.clock,
    mint: async (scope) => {
      const { data } = await deps.appOctokit.rest.apps.createInstallationAccessToken({
        installation_id: scope.installationId,
        repositories: [scope.repo],
        permissions: { ...HOLD_TOKEN_PERMISSIONS },
        request: request(),
      });
      deps.log.info({ installationId: scope.installationId, repo: `${scope.owner}/${scope.repo}`, expiresAt: data.expires_at }, 'minted a GitHub installation token for holds');
      return { token: data.token, expiresAt: new Date(data.expires_at) };
    },
  });
  const octokitLog = {
    debug: () => undefined,
    info: () => undefined,
    warn: (message: string) => deps.log.warn({ component: 'github-api' }, message),
    error: (message: string) => deps.log.error({ component: 'github-api' }, message),
  };
  return {
    async forRepo(installationId, owner, repo) {
      // The cache's `access` key is fixed: these tokens always carry HOLD_TOKEN_PERMISSIONS.
      const token = await tokens.tokenFor({ installationId, owner, repo, access: 'write' });
      return new ProbotOctokit({
        auth: { token },
        baseUrl: deps.apiUrl,
        log: octokitLog,
        throttle: { enabled: false },
        retry: { enabled: false },
      });
    },
    forgetInstallation: (installationId) => tokens.forgetInstallation(installationId),
    request,
  };
}
