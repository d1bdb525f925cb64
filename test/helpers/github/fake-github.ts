/**
 * A local stand-in for GitHub (github.com or Enterprise Server under `/api/v3`) for the endpoints a
 * GitHub App gateway calls. Every request is first checked against GitHub's OpenAPI description:
 * one GitHub would reject (or silently misread) is answered 422 and recorded in `violations`, so a
 * test ends with `expect(github.violations).toEqual([])`. Then it authenticates as GitHub does
 * (app JWT on `/app…`, installation tokens elsewhere, scoped to repositories and permissions),
 * and answers from in-memory state with bodies in GitHub's own shapes, themselves checked against
 * the description's response schemas. Optionally it also serves `/<owner>/<repo>.git` by
 * forwarding to a real `git http-backend`, so one host is both API and git remote, as on GHES.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAppJwtVerifier, readCredentials, type Credentials } from './fake-github-auth.ts';
import { matchGitPath, proxyGitRequest, readUpstreamBranch, type GitRequestRecord } from './fake-github-git.ts';
import { createResponseBuilders } from './fake-github-responses.ts';
import { authorizeRepo, ROUTES, type RouteContext, type RouteResult } from './fake-github-routes.ts';
import {
  createState,
  GitHubHttpError,
  repoKey,
  toInstallation,
  type AddInstallationInput,
  type FakeCheckRun,
  type FakeComment,
  type FakeInstallation,
  type FakePull,
  type IssuedToken,
  type RecordedRequest,
  type RepositoryRole,
  type Violation,
  type ViolationKind,
} from './fake-github-state.ts';
import { createOpenApiValidator, OpenApiValidationError, type GitHubSpecName, type OpenApiValidator } from './openapi-validator.ts';

export type * from './fake-github-state.ts';
export type { GitRequestRecord } from './fake-github-git.ts';

export interface FakeGitHubOptions {
  /** Which description requests are checked against. Default 'api.github.com'. */
  spec?: GitHubSpecName;
  /** Where the REST API is served. Default '' for api.github.com, '/api/v3' for GHES. */
  pathPrefix?: '' | '/api/v3';
  appId: number;
  /** Verifies the app JWT (RS256) on app-authenticated routes; SPKI or PKCS#1 PEM. */
  publicKeyPem: string;
  /** Default 'portcullis'; the bot login is `<slug>[bot]`. */
  appSlug?: string;
  /** Lifetime of minted installation tokens. Default one hour, as on GitHub. */
  tokenTtlMs?: number;
  /** The fake's clock (token expiry, JWT checks, timestamps). Default Date.now. */
  now?: () => number;
  /** Serve `/<owner>/<repo>.git/...` by forwarding to this `git http-backend` (e.g. GitUpstream.url). */
  gitUpstreamUrl?: string;
  /**
   * Where branch heads come from (pull request head/base). Default: the git upstream's ref
   * advertisement if `gitUpstreamUrl` is set, then what `setBranch` recorded.
   */
  resolveBranch?: (owner: string, repo: string, branch: string) => string | undefined | Promise<string | undefined>;
  /** Check every response against the description's response schema. Default true. */
  validateResponses?: boolean;
}

export interface FakeGitHub {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** The REST base URL for Octokit: `url` + pathPrefix. */
  readonly baseUrl: string;
  /** 127.0.0.1:PORT, for GHE_HOST (with GHE_PROTOCOL=http). */
  readonly host: string;
  readonly validator: OpenApiValidator;
  addInstallation(input: AddInstallationInput): FakeInstallation;
  removeInstallation(id: number): void;
  setPermission(owner: string, repo: string, user: string, role: RepositoryRole): void;
  /** Records a branch head; open pull requests from that branch follow it. */
  setBranch(owner: string, repo: string, branch: string, sha: string): void;
  /** Every REST request, in order (credentials are never recorded). */
  readonly requests: RecordedRequest[];
  readonly gitRequests: GitRequestRecord[];
  readonly pulls: FakePull[];
  readonly checkRuns: FakeCheckRun[];
  readonly comments: FakeComment[];
  readonly violations: Violation[];
  /** Every installation token minted, newest last. */
  readonly tokens: IssuedToken[];
  /** Lifetime of tokens minted from now on. */
  tokenTtlMs: number;
  /** Makes every token minted so far expire now (as if an hour had passed). */
  expireTokens(): void;
  close(): Promise<void>;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'x-github-media-type': 'github.v3; format=json' };

export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  const spec = options.spec ?? 'api.github.com';
  const pathPrefix = options.pathPrefix ?? (spec === 'api.github.com' ? '' : '/api/v3');
  const appSlug = options.appSlug ?? 'portcullis';
  const now = options.now ?? Date.now;
  const validator = createOpenApiValidator(spec, { basePath: pathPrefix });
  const state = createState();
  const requests: RecordedRequest[] = [];
  const gitRequests: GitRequestRecord[] = [];
  const violations: Violation[] = [];
  let tokenTtlMs = options.tokenTtlMs ?? 60 * 60 * 1000;
  const extraHeaders: Record<string, string> = spec === 'api.github.com' ? {} : { 'x-github-enterprise-version': spec.replace('ghes-', '') + '.0' };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      violations.push({ kind: 'fake-error', method: req.method ?? '', path: req.url ?? '', message: String(error) });
      if (!res.headersSent) res.writeHead(500, JSON_HEADERS);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const baseUrl = `${url}${pathPrefix}`;
  const responses = createResponseBuilders({ document: validator.document, apiUrl: baseUrl, webUrl: url, appId: options.appId, appSlug });

  const context: RouteContext = {
    state,
    responses,
    now,
    tokenTtlMs: () => tokenTtlMs,
    verifyAppJwt: createAppJwtVerifier(options.appId, options.publicKeyPem, now),
    async resolveBranch(owner, repo, branch) {
      if (options.resolveBranch !== undefined) return options.resolveBranch(owner, repo, branch);
      if (options.gitUpstreamUrl !== undefined) {
        const sha = await readUpstreamBranch(options.gitUpstreamUrl, owner, repo, branch);
        if (sha !== undefined) return sha;
      }
      return state.branches.get(repoKey(owner, repo))?.get(branch);
    },
    flag: () => undefined, // replaced per request below
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const rawPath = req.url ?? '/';
    const target = new URL(rawPath, url);
    const git = options.gitUpstreamUrl === undefined ? undefined : matchGitPath(target);
    if (git !== undefined && options.gitUpstreamUrl !== undefined) {
      const status = await proxyGitRequest({ upstreamUrl: options.gitUpstreamUrl, state, now, appSlug }, git, req, res);
      gitRequests.push({ method, path: rawPath, ...git, status });
      return;
    }

    const credentials = readCredentials(req.headers.authorization);
    const record: RecordedRequest = { method, path: rawPath, body: undefined, status: 0, auth: describeAuth(credentials) };
    requests.push(record);
    const violate = (kind: ViolationKind, message: string) => violations.push({ kind, method, path: rawPath, operationId: record.operationId, message });
    let result: RouteResult;
    try {
      const text = Buffer.concat(await req.toArray()).toString('utf8');
      record.body = parseJson(text);
      const validated = validator.validateRequest({ method, path: rawPath, headers: req.headers, body: record.body });
      record.operationId = validated.operationId;
      const route = ROUTES[validated.operationId];
      if (route === undefined) {
        violate('not-implemented', `the fake does not implement ${validated.operationId} (${validated.pathTemplate})`);
        throw new GitHubHttpError(501, `fake GitHub: ${validated.operationId} is not implemented`);
      }
      const routeContext = { ...context, flag: (message: string) => violate('invalid-request', message) };
      if (route.auth === 'jwt') {
        await context.verifyAppJwt(credentials);
        result = await route.handle(routeContext, validated);
      } else {
        result = await route.handle(routeContext, validated, authorizeRepo(routeContext, credentials, validated, route.needs));
      }
      if (options.validateResponses !== false) {
        try {
          validator.validateResponse({ method, path: rawPath }, result.status, result.body);
        } catch (error) {
          violate('invalid-response', `the fake answered outside GitHub's schema: ${(error as Error).message}`);
        }
      }
    } catch (error) {
      if (error instanceof OpenApiValidationError) record.operationId = error.operationId;
      result = answerError(error, violate);
    }
    record.status = result.status;
    res.writeHead(result.status, { ...JSON_HEADERS, ...extraHeaders, 'x-github-request-id': randomUUID(), ...result.headers });
    res.end(result.body === undefined ? undefined : JSON.stringify(result.body));
  }

  return {
    url,
    baseUrl,
    host: `127.0.0.1:${port}`,
    validator,
    addInstallation(input) {
      if (state.installations.some((i) => i.id === input.id)) throw new Error(`installation ${input.id} already exists`);
      const installation = toInstallation(input);
      state.installations.push(installation);
      return installation;
    },
    removeInstallation(id) {
      state.installations.splice(0, state.installations.length, ...state.installations.filter((i) => i.id !== id));
      for (const token of state.tokens) if (token.installationId === id) token.revoked = true;
    },
    setPermission(owner, repo, user, role) {
      const key = repoKey(owner, repo);
      const roles = state.roles.get(key) ?? new Map<string, RepositoryRole>();
      roles.set(user.toLowerCase(), role);
      state.roles.set(key, roles);
    },
    setBranch(owner, repo, branch, sha) {
      const key = repoKey(owner, repo);
      const branches = state.branches.get(key) ?? new Map<string, string>();
      branches.set(branch, sha);
      state.branches.set(key, branches);
      for (const pull of state.pulls) {
        if (repoKey(pull.owner, pull.repo) === key && pull.state === 'open' && pull.head.ref === branch) pull.head.sha = sha;
      }
    },
    requests,
    gitRequests,
    pulls: state.pulls,
    checkRuns: state.checkRuns,
    comments: state.comments,
    violations,
    tokens: state.tokens,
    get tokenTtlMs() {
      return tokenTtlMs;
    },
    set tokenTtlMs(value: number) {
      tokenTtlMs = value;
    },
    expireTokens() {
      for (const token of state.tokens) token.expiresAt = new Date(Math.min(token.expiresAt.getTime(), now()));
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error === undefined ? resolve() : reject(error))));
    },
  };
}

class JsonParseError extends Error {}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new JsonParseError(text.length > 80 ? `${text.slice(0, 77)}...` : text);
  }
}

function answerError(error: unknown, violate: (kind: ViolationKind, message: string) => void): RouteResult {
  if (error instanceof JsonParseError) {
    violate('invalid-request', `request body is not JSON: ${error.message}`);
    return { status: 400, body: new GitHubHttpError(400, 'Problems parsing JSON').toBody() };
  }
  if (error instanceof OpenApiValidationError) {
    violate(error.kind === 'unknown-route' ? 'unknown-route' : 'invalid-request', error.message);
    if (error.kind === 'unknown-route') return { status: 404, body: new GitHubHttpError(404, 'Not Found').toBody() };
    return { status: 422, body: new GitHubHttpError(422, `Invalid request.\n\n${error.problems.join('\n')}`).toBody() };
  }
  if (error instanceof GitHubHttpError) {
    if (error.violation) violate('invalid-request', `${error.status} ${error.message}`);
    return { status: error.status, body: error.toBody() };
  }
  violate('fake-error', error instanceof Error ? (error.stack ?? error.message) : String(error));
  return { status: 500, body: { message: 'fake GitHub failed; see violations' } };
}

/** JWTs are three base64url parts; installation tokens are not. */
function describeAuth(credentials: Credentials): RecordedRequest['auth'] {
  if (credentials.kind === 'none') return 'none';
  if (credentials.kind === 'basic') return 'basic';
  return credentials.value.split('.').length === 3 ? 'jwt' : 'token';
}
