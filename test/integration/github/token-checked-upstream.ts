/**
 * github.com's git endpoint for GitHub App tests: a separate host from the API, in front of a real
 * `git http-backend` (test/helpers/git-upstream.ts), accepting only what GitHub accepts from an
 * app: Basic `x-access-token:<installation token>`, the token one the fake GitHub minted, unexpired,
 * narrowed to this repository, with contents read (fetch) or write (push).
 */
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import type { FakeGitHub } from '../../helpers/github/fake-github.ts';
import { startGitUpstream, type GitUpstream } from '../../helpers/git-upstream.ts';

export interface TokenCheck {
  owner: string;
  repo: string;
  service: string;
  username: string;
  /** The installation token presented was one the fake minted (never the token itself). */
  tokenKnown: boolean;
  status: number;
}

export interface TokenCheckedUpstream {
  url: string;
  git: GitUpstream;
  checks: TokenCheck[];
  close(): Promise<void>;
}

const GIT_PATH = /^\/([^/]+)\/([^/]+?)\.git\/(info\/refs|git-upload-pack|git-receive-pack)$/;

export async function startTokenCheckedUpstream(github: FakeGitHub): Promise<TokenCheckedUpstream> {
  const git = await startGitUpstream();
  const checks: TokenCheck[] = [];

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://upstream');
    const match = GIT_PATH.exec(url.pathname);
    const [owner, repo] = [decodeURIComponent(match?.[1] ?? ''), decodeURIComponent(match?.[2] ?? '')];
    const service = url.searchParams.get('service') ?? match?.[3] ?? '';
    const encoded = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const decoded = encoded ? Buffer.from(encoded, 'base64').toString('utf8') : '';
    const username = decoded.slice(0, Math.max(0, decoded.indexOf(':')));
    const password = decoded.slice(decoded.indexOf(':') + 1);
    const token = github.tokens.find((t) => t.token === password);
    const needed = service === 'git-receive-pack' ? ['write'] : ['read', 'write'];

    let status = 200;
    if (!match) status = 404;
    else if (username !== 'x-access-token' || !token || token.revoked || token.expiresAt.getTime() <= Date.now()) status = 401;
    else if (token.repositories === 'all' || !token.repositories.some((name) => name.toLowerCase() === repo.toLowerCase())) status = 404;
    else if (!needed.includes(token.permissions.contents ?? '')) status = 403;
    checks.push({ owner, repo, service, username, tokenKnown: token !== undefined, status });
    if (status !== 200) {
      req.resume();
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (status === 401) headers['www-authenticate'] = 'Basic realm="GitHub"';
      res.writeHead(status, headers).end(status === 401 ? 'Invalid username or token.\n' : 'Repository not found.\n');
      return;
    }
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.authorization;
    const upstream = httpRequest(new URL(req.url ?? '/', git.url), { method: req.method, headers });
    upstream.once('response', (response: IncomingMessage) => {
      res.writeHead(response.statusCode ?? 502, response.headers);
      pipeline(response, res).catch(() => res.destroy());
    });
    upstream.once('error', () => res.destroy());
    pipeline(req, upstream).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    git,
    checks,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await git.close();
    },
  };
}
