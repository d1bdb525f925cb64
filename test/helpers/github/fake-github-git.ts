/**
 * The git side of the fake host: `/<owner>/<repo>.git/...` is smart HTTP
 * (https://git-scm.com/docs/gitprotocol-http), authenticated as GitHub does for Apps,
 * `x-access-token:<installation token>` in Basic auth, then forwarded to a real `git http-backend`
 * (test/helpers/git-upstream.ts). Fetch needs Contents: read; push needs Contents: write.
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { findToken, readCredentials, requirePermission, requireRepoAccess } from './fake-github-auth.ts';
import { GitHubHttpError, type FakeGitHubState } from './fake-github-state.ts';

export interface GitRequestRecord {
  method: string;
  path: string;
  owner: string;
  repo: string;
  service: 'git-upload-pack' | 'git-receive-pack' | 'other';
  status: number;
}

export interface GitPath {
  owner: string;
  repo: string;
  service: GitRequestRecord['service'];
}

const GIT_PATH = /^\/([^/]+)\/([^/]+?)\.git(?:\/|$)/;

/** `/<owner>/<repo>.git/...`, which no REST route looks like. */
export function matchGitPath(url: URL): GitPath | undefined {
  const found = GIT_PATH.exec(url.pathname);
  if (found === null) return undefined;
  const service = url.searchParams.get('service') ?? url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
  return {
    owner: decodeURIComponent(found[1] ?? ''),
    repo: decodeURIComponent(found[2] ?? ''),
    service: service === 'git-upload-pack' || service === 'git-receive-pack' ? service : 'other',
  };
}

export async function proxyGitRequest(
  options: { upstreamUrl: string; state: FakeGitHubState; now: () => number; appSlug: string },
  target: GitPath,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<number> {
  try {
    const token = findToken(options.state.tokens, readCredentials(req.headers.authorization), options.now());
    const installation = options.state.installations.find((i) => i.id === token.installationId);
    requireRepoAccess(token, installation, target.owner, target.repo);
    requirePermission(token, [['contents', target.service === 'git-receive-pack' ? 'write' : 'read']]);
  } catch (error) {
    req.resume();
    if (!(error instanceof GitHubHttpError)) throw error;
    const messages: Record<number, string> = {
      401: 'Invalid username or token. Password authentication is not supported for Git operations.',
      403: `Permission to ${target.owner}/${target.repo}.git denied to ${options.appSlug}[bot].`,
      404: 'Repository not found.',
    };
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
    if (error.status === 401) headers['www-authenticate'] = 'Basic realm="GitHub"';
    // git shows the body of a failed request after `remote: `, as with GitHub's own refusals.
    res.writeHead(error.status, headers).end(`${messages[error.status] ?? error.message}\n`);
    return error.status;
  }

  const headers = { ...req.headers };
  delete headers.host;
  delete headers.authorization;
  const upstream = httpRequest(new URL(req.url ?? '/', options.upstreamUrl), { method: req.method, headers });
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    upstream.once('response', resolve);
    upstream.once('error', reject);
    pipeline(req, upstream).catch(reject);
  });
  res.writeHead(response.statusCode ?? 502, response.headers);
  await pipeline(response, res);
  return response.statusCode ?? 502;
}

/** Reads branch heads from the upstream's ref advertisement (protocol v0: `<sha> <ref>\0caps`). */
export async function readUpstreamBranch(upstreamUrl: string, owner: string, repo: string, branch: string): Promise<string | undefined> {
  const response = await fetch(new URL(`/${owner}/${repo}.git/info/refs?service=git-upload-pack`, upstreamUrl));
  if (!response.ok) return undefined;
  const data = Buffer.from(await response.arrayBuffer());
  for (let at = 0; at + 4 <= data.length; ) {
    const length = parseInt(data.subarray(at, at + 4).toString('latin1'), 16);
    if (Number.isNaN(length)) break;
    if (length < 4) {
      at += 4; // flush-pkt
      continue;
    }
    const line = data.subarray(at + 4, at + length).toString('utf8').split('\0')[0]?.trim() ?? '';
    at += length;
    const [sha, ref] = line.split(' ');
    if (ref === `refs/heads/${branch}` && sha !== undefined && /^[0-9a-f]{40}$/.test(sha)) return sha;
  }
  return undefined;
}
