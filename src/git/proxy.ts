import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Metrics, SessionRecorder } from '../audit/index.ts';
import type { Clock } from '../clock.ts';
import type { RemoteConfig } from '../config/index.ts';
import { isPortcullisError, PortcullisError } from '../errors.ts';
import { credentialFromAuthorization, type AgentPrincipal, type Authenticator } from '../identity/index.ts';
import { decideRepoAccess } from '../policy/index.ts';
import type { RequestOutcome } from '../store/index.ts';
import { observeBytes, type ByteObserver } from './byte-observer.ts';
import { guardPush, type PushGuardDeps } from './receive-pack.ts';
import { describeRequestBody, REQUEST_CAPTURE_BYTES } from './request-facts.ts';
import { sendGitError } from './responses.ts';
import { createSessionTracker } from './session-tracker.ts';
import {
  FORWARDED_RESPONSE_HEADERS,
  sendUpstream,
  upstreamRepoUrl,
  upstreamRefusal,
  upstreamUrl,
  type GitEndpoint,
  type GitService,
  type RemoteCredentials,
  type RepoAddress,
} from './upstream.ts';

export interface GitProxyDeps {
  remotes: readonly RemoteConfig[];
  authenticator: Authenticator;
  recorder: SessionRecorder;
  metrics: Metrics;
  log: Logger;
  clock: Clock;
  upstreamTimeoutMs: number;
  credentials: RemoteCredentials;
  push: PushGuardDeps;
}

/** One smart-HTTP request as routed: `/git/:remote/:owner/:repo.git/<endpoint>`. */
export interface GitExchange {
  remote: string;
  owner: string;
  repo: string;
  endpoint: GitEndpoint;
  /** `?service=` for info/refs; for POSTs it is the endpoint itself. */
  service: string | undefined;
  incoming: IncomingMessage;
  outgoing: ServerResponse;
  sourceAddress: string;
}

export interface GitProxy {
  handle(exchange: GitExchange): Promise<void>;
}

const REPO_SEGMENT = /^(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/;

export function createGitProxy(deps: GitProxyDeps): GitProxy {
  const sessions = createSessionTracker(deps.recorder, deps.clock);

  return {
    async handle(exchange) {
      const started = performance.now();
      const { incoming, outgoing } = exchange;
      // Observed only from the moment it is piped upstream: a 'data' listener starts the flow.
      let bodyIn: ByteObserver = { bytes: 0, prefix: () => Buffer.alloc(0) };
      const protocolVersion = gitProtocolVersion(incoming.headers['git-protocol']);
      let principal: AgentPrincipal | undefined;
      let service: GitService | undefined;
      let requestId: string | undefined;
      let bytesOut = 0;
      const details: Record<string, unknown> = {};

      const finish = async (httpStatus: number, outcome: RequestOutcome) => {
        const durationMs = Math.round(performance.now() - started);
        if (exchange.endpoint !== 'info/refs') {
          Object.assign(details, describeRequestBody(exchange.endpoint, protocolVersion, bodyIn.prefix(), incoming.headers['content-encoding']));
        }
        const observation = { service: service ?? 'unknown', endpoint: exchange.endpoint, outcome, bytesIn: bodyIn.bytes, bytesOut, durationMs };
        deps.metrics.observeGitRequest(observation);
        deps.log.info(
          { agent: principal?.agent, repo: `${exchange.remote}/${exchange.owner}/${exchange.repo.replace(/\.git$/, '')}`, status: httpStatus, requestId, ...observation },
          'git request',
        );
        if (requestId) {
          await deps.recorder
            .finishRequest(requestId, { httpStatus, outcome, bytesIn: bodyIn.bytes, bytesOut, durationMs, details })
            .catch((error: unknown) => deps.log.error({ err: error, requestId }, 'could not record the end of a git request'));
        }
      };

      const refuse = async (error: PortcullisError, outcome: RequestOutcome) => {
        details.error = error.toJSON();
        sendGitError(outgoing, error);
        await finish(error.httpStatus, outcome);
      };

      try {
        service = serviceOf(exchange);
        const address = resolveAddress(deps.remotes, exchange);
        principal = await deps.authenticator.authenticateAgent(credentialFromAuthorization(incoming.headers.authorization));
        const sessionStart = {
          kind: 'git' as const,
          agent: principal.agent,
          authMethod: principal.authMethod,
          sourceAddress: exchange.sourceAddress,
          userAgent: headerText(incoming.headers['user-agent']),
          remote: address.remote.name,
          owner: address.owner,
          repo: address.repo,
          service,
          protocolVersion,
        };
        const sessionId = await sessions.sessionFor(sessionStart, exchange.endpoint === 'info/refs');
        requestId = await deps.recorder.startRequest({ sessionId, method: incoming.method ?? 'GET', endpoint: exchange.endpoint });

        const decision = decideRepoAccess({
          agent: principal.agent,
          scopes: principal.scopes,
          repoPath: `${address.remote.name}/${address.owner}/${address.repo}`,
          access: service === 'git-receive-pack' ? 'write' : 'read',
        });
        details.decision = decision;
        if (decision.verdict !== 'allow') {
          return await refuse(new PortcullisError('SCOPE_MISSING', decision.reason), 'denied');
        }

        const abort = new AbortController();
        outgoing.once('close', () => {
          if (!outgoing.writableFinished) abort.abort();
        });
        const authorization = await deps.credentials.authorizationFor(address, service === 'git-receive-pack' ? 'write' : 'read');
        const send = (body: Readable | null, clientHeaders: IncomingHttpHeaders) =>
          sendUpstream({
            method: exchange.endpoint === 'info/refs' ? 'GET' : 'POST',
            url: upstreamUrl(address, exchange.endpoint, service!),
            clientHeaders,
            authorization,
            body,
            timeoutMs: deps.upstreamTimeoutMs,
            signal: abort.signal,
          });

        if (exchange.endpoint === 'git-receive-pack') {
          // The forwarded body is rebuilt (commands rewritten, gzip undone): its length is not the agent's.
          const rewrittenHeaders = { ...incoming.headers };
          delete rewrittenHeaders['content-length'];
          delete rewrittenHeaders['content-encoding'];
          const result = await guardPush(deps.push, {
            agent: principal.agent,
            address,
            sessionId,
            authorization,
            upstreamRepoUrl: upstreamRepoUrl(address),
            incoming,
            outgoing,
            forward: async (body) => {
              const response = await send(body, rewrittenHeaders);
              details.upstreamStatus = response.statusCode;
              if (!response.statusCode || response.statusCode >= 300) {
                response.resume();
                throw upstreamRefusal(response.statusCode ?? 0, address);
              }
              return response;
            },
            details,
          });
          bodyIn = { bytes: result.bytesIn, prefix: () => Buffer.alloc(0) };
          bytesOut = result.bytesOut;
          // A push git completed but with refs held or blocked is on the record as denied, not ok.
          return await finish(result.httpStatus, result.refusedRefs > 0 ? 'denied' : 'ok');
        }

        if (exchange.endpoint !== 'info/refs') bodyIn = observeBytes(incoming, REQUEST_CAPTURE_BYTES);
        const response = await send(exchange.endpoint === 'info/refs' ? null : incoming, incoming.headers);
        details.upstreamStatus = response.statusCode;
        if (!response.statusCode || response.statusCode < 200 || response.statusCode >= 300) {
          response.resume();
          return await refuse(upstreamRefusal(response.statusCode ?? 0, address), 'upstream_error');
        }
        outgoing.writeHead(response.statusCode, pickHeaders(response.headers));
        const bodyOut = observeBytes(response);
        const completed = await pipeToAgent(response, outgoing);
        bytesOut = bodyOut.bytes;
        await finish(response.statusCode, completed ? 'ok' : 'aborted');
      } catch (error) {
        if (isPortcullisError(error)) {
          const outcome: RequestOutcome =
            error.httpStatus === 401 || error.httpStatus === 403 ? 'denied' : error.httpStatus >= 500 ? 'upstream_error' : 'client_error';
          if (error.code === 'STORE_UNAVAILABLE') deps.log.error({ err: error.cause }, 'store unavailable; git request refused');
          return await refuse(error, outcome);
        }
        if (outgoing.headersSent || abortedByAgent(error)) {
          outgoing.destroy();
          return await finish(outgoing.headersSent ? outgoing.statusCode : 0, 'aborted');
        }
        const ref = Math.random().toString(36).slice(2, 10);
        deps.log.error({ err: error, ref }, 'unexpected error in the git proxy');
        return await refuse(new PortcullisError('UPSTREAM_ERROR', `internal error (ref ${ref})`, { hint: 'a portcullis admin can find this ref in the gateway log' }), 'upstream_error');
      }
    },
  };
}

function serviceOf(exchange: GitExchange): GitService {
  const service = exchange.endpoint === 'info/refs' ? exchange.service : exchange.endpoint;
  if (service === 'git-upload-pack' || service === 'git-receive-pack') return service;
  throw new PortcullisError('SERVICE_INVALID', `unsupported git service "${service ?? ''}"`, {
    hint: 'only smart HTTP is served: use a git client from the last decade (git-upload-pack / git-receive-pack)',
  });
}

function resolveAddress(remotes: readonly RemoteConfig[], exchange: GitExchange): RepoAddress {
  const remote = remotes.find((r) => r.name === exchange.remote);
  if (!remote) {
    throw new PortcullisError('REMOTE_UNKNOWN', `unknown remote "${exchange.remote}"`, {
      hint: `configured remotes: ${remotes.map((r) => r.name).join(', ')}; URLs look like /git/<remote>/<owner>/<repo>.git`,
    });
  }
  const repo = exchange.repo.replace(/\.git$/, '');
  if (!REPO_SEGMENT.test(exchange.owner) || !REPO_SEGMENT.test(repo)) {
    throw new PortcullisError('REPO_PATH_INVALID', `"${exchange.owner}/${repo}" is not a valid owner/repository`, {
      hint: 'owner and repository names use letters, digits, ".", "_" and "-"',
    });
  }
  return { remote, owner: exchange.owner, repo };
}

function gitProtocolVersion(header: string | string[] | undefined): number {
  const match = /(?:^|:)version=(\d)/.exec(headerText(header) ?? '');
  return match ? Number(match[1]) : 0;
}

function headerText(value: string | string[] | undefined): string | null {
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

function pickHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') picked[name] = value;
  }
  return picked;
}

/** Resolves true when the whole upstream body reached the agent, false when either side broke off. */
function pipeToAgent(response: IncomingMessage, outgoing: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (completed: boolean) => {
      if (settled) return;
      settled = true;
      if (!completed) {
        response.destroy();
        outgoing.destroy();
      }
      resolve(completed);
    };
    response.once('error', () => settle(false));
    response.once('aborted', () => settle(false));
    outgoing.once('finish', () => settle(true));
    outgoing.once('close', () => settle(outgoing.writableFinished));
    response.pipe(outgoing);
  });
}

function abortedByAgent(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || (error as NodeJS.ErrnoException).code === 'ECONNRESET');
}
