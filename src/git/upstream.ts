import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { RemoteAuth, RemoteConfig } from '../config/index.ts';
import { PortcullisError } from '../errors.ts';

export type GitEndpoint = 'info/refs' | 'git-upload-pack' | 'git-receive-pack';
export type GitService = 'git-upload-pack' | 'git-receive-pack';

export interface RepoAddress {
  remote: RemoteConfig;
  owner: string;
  repo: string;
}

/** Request headers git sends that the upstream needs; everything else (the agent's credential first) stays behind. */
const FORWARDED_REQUEST_HEADERS = ['accept', 'accept-encoding', 'content-type', 'content-encoding', 'content-length', 'git-protocol', 'user-agent'];
/** Response headers worth passing back; hop-by-hop and cookies are not. */
export const FORWARDED_RESPONSE_HEADERS = ['content-type', 'content-encoding', 'cache-control', 'expires', 'pragma', 'content-length'];

const keepAlive = { http: new http.Agent({ keepAlive: true, maxSockets: 256 }), https: new https.Agent({ keepAlive: true, maxSockets: 256 }) };

export function upstreamUrl(address: RepoAddress, endpoint: GitEndpoint, service: GitService): URL {
  const url = new URL(`${upstreamRepoUrl(address)}/${endpoint}`);
  if (endpoint === 'info/refs') url.searchParams.set('service', service);
  return url;
}

/** The repository's URL upstream, as git clones it: `<remote url>/<owner>/<repo>.git`. */
export function upstreamRepoUrl(address: RepoAddress): string {
  return `${address.remote.url.replace(/\/+$/, '')}/${encodeURIComponent(address.owner)}/${encodeURIComponent(address.repo)}.git`;
}

/**
 * Where the gateway's upstream credential comes from: the remote's configured `auth`, or (for a
 * forge app) a short-lived token minted per repository and access. Agents never see either.
 */
export interface RemoteCredentials {
  /** The Authorization header value for this repository and access; undefined means anonymous. */
  authorizationFor(address: RepoAddress, access: 'read' | 'write'): Promise<string | undefined>;
}

/** Credentials from portcullis.yml's `remotes[].auth`. */
export const configuredCredentials: RemoteCredentials = {
  authorizationFor: async (address) => upstreamAuthorization(address.remote.auth),
};

export function upstreamAuthorization(auth: RemoteAuth | undefined): string | undefined {
  if (!auth) return undefined;
  if ('bearer' in auth) return `Bearer ${auth.bearer}`;
  return `Basic ${Buffer.from(`${auth.basic.username}:${auth.basic.password}`).toString('base64')}`;
}

export interface UpstreamRequest {
  method: 'GET' | 'POST';
  url: URL;
  clientHeaders: IncomingHttpHeaders;
  authorization: string | undefined;
  body: Readable | null;
  timeoutMs: number;
  /** Aborts the upstream exchange when the agent goes away. */
  signal: AbortSignal;
}

/**
 * Sends one request upstream with the real credential and resolves with the response head; the body
 * streams. Connection failures and a missing response head within `timeoutMs` become 502/504 errors.
 */
export function sendUpstream(request: UpstreamRequest): Promise<IncomingMessage> {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = request.clientHeaders[name];
    if (typeof value === 'string') headers[name] = value;
  }
  if (request.authorization) headers.authorization = request.authorization;
  const isHttps = request.url.protocol === 'https:';
  const where = `${request.url.host}`;

  return new Promise((resolve, reject) => {
    const outgoing = (isHttps ? https : http).request(request.url, {
      method: request.method,
      headers,
      agent: isHttps ? keepAlive.https : keepAlive.http,
      signal: request.signal,
    });
    const timer = setTimeout(() => {
      outgoing.destroy(
        new PortcullisError('UPSTREAM_TIMEOUT', `upstream ${where} did not answer within ${request.timeoutMs / 1000}s`, {
          hint: 'try again later; if it persists, check the upstream forge status or raise limits.upstreamTimeoutMs',
        }),
      );
    }, request.timeoutMs);
    outgoing.once('response', (response) => {
      clearTimeout(timer);
      resolve(response);
    });
    outgoing.once('error', (error) => {
      clearTimeout(timer);
      // The agent went away before the upstream answered: that is not an upstream failure, and the
      // caller records it as aborted only if it sees the AbortError itself.
      if (request.signal.aborted) return reject(error);
      reject(
        error instanceof PortcullisError
          ? error
          : new PortcullisError('UPSTREAM_UNREACHABLE', `cannot reach upstream ${where}: ${describeNetworkError(error)}`, {
              hint: 'check the remote url in portcullis.yml and that the forge is reachable from the gateway',
              cause: error,
            }),
      );
    });
    if (request.body) {
      request.body.once('error', (error) => outgoing.destroy(error));
      request.body.pipe(outgoing);
    } else {
      outgoing.end();
    }
  });
}

function describeNetworkError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `${code}` : error.message;
}

/** Translates an upstream refusal into what the agent should be told (the upstream body is not relayed). */
export function upstreamRefusal(status: number, address: RepoAddress): PortcullisError {
  const repo = `${address.owner}/${address.repo}`;
  const remote = address.remote.name;
  if (status === 401 || status === 403) {
    return new PortcullisError(
      'UPSTREAM_AUTH_FAILED',
      address.remote.auth
        ? `remote ${remote} refused the gateway's credential for ${repo} (HTTP ${status})`
        : `remote ${remote} requires credentials for ${repo} (HTTP ${status}) and none are configured`,
      { hint: `a portcullis admin should check the auth of remote ${remote} in portcullis.yml` },
    );
  }
  if (status === 404) {
    return new PortcullisError('UPSTREAM_NOT_FOUND', `repository ${repo} was not found on remote ${remote}`, {
      hint: 'check the owner and repository name in the URL',
    });
  }
  return new PortcullisError('UPSTREAM_ERROR', `remote ${remote} answered HTTP ${status} for ${repo}`, {
    hint: 'try again later; if it persists, check the upstream forge',
  });
}
