import type { ProbotOctokit } from 'probot';
import type { MintedToken, RepoAccess } from './token-cache.ts';

/**
 * The GitHub API calls made as the app itself (JWT), behind a seam so the credential logic is
 * tested without HTTP. Errors are octokit's RequestError (with `status`) or network errors.
 */
export interface GitHubAppApi {
  /** `GET /repos/{owner}/{repo}/installation`: the installation covering the repository, or null (404). */
  findRepoInstallation(owner: string, repo: string): Promise<number | null>;
  /** `POST /app/installations/{id}/access_tokens`, narrowed to one repository and to `contents` at `access`. */
  createInstallationToken(installationId: number, repo: string, access: RepoAccess): Promise<MintedToken>;
  /** `GET /app`: the app's page on GitHub (`html_url`), where an org admin installs it. */
  appPage(): Promise<string>;
}

/**
 * Over probot's app-authenticated octokit. Tokens are minted with `apps.createInstallationAccessToken`
 * on this client, not with `auth({ type: 'installation' })`: in probot 14.3.2 the latter posts to
 * api.github.com whatever the base URL, which breaks GitHub Enterprise Server.
 */
export function createGitHubAppApi(octokit: ProbotOctokit, options: { timeoutMs: number }): GitHubAppApi {
  // Per call: a GitHub that stops answering must not hold an agent's clone forever.
  const request = () => ({ signal: AbortSignal.timeout(options.timeoutMs) });
  return {
    async findRepoInstallation(owner, repo) {
      try {
        const { data } = await octokit.rest.apps.getRepoInstallation({ owner, repo, request: request() });
        return data.id;
      } catch (error) {
        if (statusOf(error) === 404) return null;
        throw error;
      }
    },
    async createInstallationToken(installationId, repo, access) {
      const { data } = await octokit.rest.apps.createInstallationAccessToken({
        installation_id: installationId,
        repositories: [repo],
        permissions: access === 'write' ? { contents: 'write' } : { contents: 'read' },
        request: request(),
      });
      return { token: data.token, expiresAt: new Date(data.expires_at) };
    },
    async appPage() {
      const { data } = await octokit.rest.apps.getAuthenticated({ request: request() });
      if (!data?.html_url) throw new Error('GET /app answered without html_url');
      return data.html_url;
    },
  };
}

/**
 * The HTTP status GitHub answered; undefined when it did not answer (octokit reports network
 * errors and timeouts as status 500 without a response).
 */
export function statusOf(error: unknown): number | undefined {
  const failed = error as { status?: unknown; response?: unknown } | null;
  return typeof failed?.status === 'number' && failed.response !== undefined ? failed.status : undefined;
}
