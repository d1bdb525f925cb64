import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { PortcullisError } from '../errors.ts';
import type { RemoteCredentials, RepoAddress } from '../git/index.ts';
import { statusOf, type GitHubAppApi } from './app-api.ts';
import { GITHUB_REMOTE } from './settings.ts';
import { createInstallationTokenCache, type InstallationTokenCache, type RepoAccess } from './token-cache.ts';

/** Credentials of the `github` remote, minted by the app; the installation webhooks invalidate them. */
export interface GitHubCredentials extends RemoteCredentials {
  /** An installation was created, deleted, suspended or changed its repositories: look again. */
  installationChanged(installationId: number): void;
}

export interface GitHubCredentialsDeps {
  api: GitHubAppApi;
  clock: Clock;
  log: Logger;
  /** For every remote other than `github`: its configured `auth`. */
  fallback: RemoteCredentials;
  /** Where the API is, for error messages. */
  apiUrl: string;
  tokens?: InstallationTokenCache;
}

/** Which installation covers a repository changes rarely; the installation webhooks clear this early. */
const INSTALLATION_TTL_MS = 60 * 60_000;
/** A repository without the app is asked about again soon: an admin may be installing it right now. */
const NOT_INSTALLED_TTL_MS = 30_000;

export function createGitHubCredentials(deps: GitHubCredentialsDeps): GitHubCredentials {
  const tokens =
    deps.tokens ??
    createInstallationTokenCache({
      clock: deps.clock,
      mint: async (scope) => {
        const minted = await deps.api.createInstallationToken(scope.installationId, scope.repo, scope.access);
        deps.log.info(
          { installationId: scope.installationId, repo: `${scope.owner}/${scope.repo}`, access: scope.access, expiresAt: minted.expiresAt.toISOString() },
          'minted a GitHub installation token',
        );
        return minted;
      },
    });
  const installations = new Map<string, { installationId: number | null; until: number }>();
  let appPage: string | undefined;

  const installationFor = async (owner: string, repo: string): Promise<number | null> => {
    const key = `${owner}/${repo}`.toLowerCase();
    const now = deps.clock.now().getTime();
    const known = installations.get(key);
    if (known && known.until > now) return known.installationId;
    const installationId = await deps.api.findRepoInstallation(owner, repo).catch((error: unknown) => {
      throw apiFailure(error, `could not look up the GitHub App installation of ${owner}/${repo}`, deps.apiUrl);
    });
    installations.set(key, { installationId, until: now + (installationId === null ? NOT_INSTALLED_TTL_MS : INSTALLATION_TTL_MS) });
    return installationId;
  };

  const notInstalled = async (owner: string, repo: string): Promise<PortcullisError> => {
    if (appPage === undefined) {
      appPage = await deps.api.appPage().catch((error: unknown) => {
        deps.log.warn({ err: error }, 'could not read the GitHub App page (GET /app)');
        return undefined;
      });
    }
    const where = appPage ? `${appPage}/installations/new` : "the app's page on GitHub (Install App)";
    return new PortcullisError(
      'GITHUB_APP_NOT_INSTALLED',
      `the portcullis GitHub App is not installed on ${owner}/${repo} (or that repository does not exist); an org admin installs it at ${where}`,
      { hint: `then try again; the installation must include ${repo} if it is limited to selected repositories` },
    );
  };

  const tokenFor = async (owner: string, repo: string, access: RepoAccess, firstTry = true): Promise<string> => {
    const installationId = await installationFor(owner, repo);
    if (installationId === null) throw await notInstalled(owner, repo);
    try {
      return await tokens.tokenFor({ installationId, owner, repo, access });
    } catch (error) {
      const status = statusOf(error);
      // 404: the installation is gone; 422: it no longer covers the repository (or lacks the
      // permission). Either way the cached lookup may be stale: look once more before refusing.
      if (firstTry && (status === 404 || status === 422)) {
        installations.delete(`${owner}/${repo}`.toLowerCase());
        tokens.forgetInstallation(installationId);
        return tokenFor(owner, repo, access, false);
      }
      throw refusal(error, { owner, repo, access, apiUrl: deps.apiUrl });
    }
  };

  return {
    async authorizationFor(address: RepoAddress, access: RepoAccess) {
      if (address.remote.name !== GITHUB_REMOTE) return deps.fallback.authorizationFor(address, access);
      const token = await tokenFor(address.owner, address.repo, access);
      return `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
    },
    installationChanged(installationId) {
      installations.clear();
      tokens.forgetInstallation(installationId);
    },
  };
}

function refusal(error: unknown, at: { owner: string; repo: string; access: RepoAccess; apiUrl: string }): PortcullisError {
  const status = statusOf(error);
  const detail = githubMessage(error);
  if (status === 403) {
    return new PortcullisError(
      'GITHUB_APP_NOT_INSTALLED',
      `the portcullis GitHub App's installation on ${at.owner} refused a token for ${at.owner}/${at.repo} (HTTP 403${detail}); it may be suspended`,
      { hint: `an org admin checks the app under ${at.owner}'s Settings → GitHub Apps (unsuspend it there)` },
    );
  }
  if (status === 422 || status === 404) {
    return new PortcullisError(
      'GITHUB_APP_NOT_INSTALLED',
      `the portcullis GitHub App's installation on ${at.owner} cannot give contents: ${at.access} on ${at.owner}/${at.repo} (HTTP ${status}${detail})`,
      { hint: `an org admin adds ${at.repo} to the installation and accepts the app's requested permissions under ${at.owner}'s Settings → GitHub Apps` },
    );
  }
  return apiFailure(error, `could not get a GitHub installation token for ${at.owner}/${at.repo}`, at.apiUrl);
}

function apiFailure(error: unknown, what: string, apiUrl: string): PortcullisError {
  const status = statusOf(error);
  if (status === 401) {
    return new PortcullisError('GITHUB_API_FAILED', `${what}: GitHub refused the app's own credentials (HTTP 401)`, {
      hint: 'a portcullis admin checks APP_ID / github.appId and the private key against the GitHub App settings',
      cause: error,
    });
  }
  const why = status !== undefined ? `the GitHub API at ${apiUrl} answered HTTP ${status}` : `the GitHub API at ${apiUrl} did not answer (${networkCode(error)})`;
  return new PortcullisError('GITHUB_API_FAILED', `${what}: ${why}`, {
    hint: 'try again later; if it persists, a portcullis admin checks the gateway can reach GitHub',
    cause: error,
  });
}

/** GitHub's own explanation (`message` of the error body), short; it never holds a token. */
function githubMessage(error: unknown): string {
  const data = (error as { response?: { data?: { message?: unknown } } } | null)?.response?.data;
  const message = typeof data?.message === 'string' ? data.message.slice(0, 200) : '';
  return message ? `: ${message}` : '';
}

/** What went wrong on the way: octokit wraps fetch's error, which wraps the socket's. */
function networkCode(error: unknown): string {
  for (let current: unknown = error, depth = 0; current && depth < 4; current = (current as { cause?: unknown }).cause, depth += 1) {
    const { name, code } = current as { name?: unknown; code?: unknown };
    if (name === 'TimeoutError' || name === 'AbortError') return 'timed out';
    if (typeof code === 'string') return code;
  }
  return error instanceof Error ? error.message.slice(0, 200) : 'unknown error';
}
