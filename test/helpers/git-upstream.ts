/**
 * A real Git smart-HTTP server for integration tests: node:http in front of the CGI
 * `git http-backend` (https://git-scm.com/docs/git-http-backend), one process per request.
 * Bodies stream both ways, so a benchmark can clone a repository of hundreds of megabytes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm } from 'node:fs/promises';
import { STATUS_CODES, createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { gitEnv, gitOk } from './git-cli.ts';

export interface UpstreamRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface GitUpstream {
  /** `http://127.0.0.1:PORT`; repositories live at `${url}/<owner>/<repo>.git`. */
  url: string;
  /** Temp dir holding `<owner>/<repo>.git`; removed by close(). */
  root: string;
  createBareRepo(owner: string, repo: string): Promise<string>;
  /** Every request received, in order, including ones answered 401. */
  requests: UpstreamRequest[];
  close(): Promise<void>;
}

export interface GitUpstreamOptions {
  basicAuth?: { username: string; password: string };
}

/** A CGI header block larger than this is a broken backend, not a slow one. */
const MAX_CGI_HEADER_BYTES = 64 * 1024;

export async function startGitUpstream(options: GitUpstreamOptions = {}): Promise<GitUpstream> {
  const backend = join((await gitOk(['--exec-path'])).stdout.trim(), 'git-http-backend');
  const root = await realpath(await mkdtemp(join(tmpdir(), 'portcullis-upstream-')));
  const requests: UpstreamRequest[] = [];
  const running = new Set<ChildProcess>();

  const server = createServer(function handleUpstreamRequest(req, res) {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers } });
    let remoteUser: string | undefined;
    if (options.basicAuth !== undefined) {
      remoteUser = checkBasicAuth(req.headers.authorization, options.basicAuth);
      if (remoteUser === undefined) {
        req.resume(); // drain the body so the connection can be reused for the retry
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="upstream"', 'Content-Type': 'text/plain' });
        res.end('authentication required\n');
        return;
      }
    }
    let env: Record<string, string>;
    try {
      env = cgiEnv(req, root, remoteUser);
    } catch {
      // A malformed %-escape in the path; throwing here would crash the whole test process.
      req.resume();
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('malformed request path\n');
      return;
    }
    const child = spawn(backend, [], { env });
    running.add(child);
    child.once('close', () => running.delete(child));
    serveCgi(req, res, child);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    root,
    requests,
    async createBareRepo(owner, repo) {
      const path = join(root, owner, `${repo}.git`);
      await mkdir(path, { recursive: true });
      await gitOk(['init', '-q', '--bare', '--initial-branch=main', path]);
      // Without REMOTE_USER, http-backend refuses receive-pack unless the repo opts in.
      await gitOk(['--git-dir', path, 'config', 'http.receivepack', 'true']);
      return path;
    },
    async close() {
      for (const child of running) child.kill('SIGKILL');
      const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
      server.closeAllConnections();
      await closed;
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Returns the user name when the Basic credentials match, otherwise undefined. */
function checkBasicAuth(
  header: string | undefined,
  expected: { username: string; password: string },
): string | undefined {
  const encoded = /^Basic\s+(\S+)$/i.exec(header ?? '')?.[1];
  if (encoded === undefined) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const [username, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
  return username === expected.username && password === expected.password ? username : undefined;
}

/** The CGI/1.1 variables http-backend reads (RFC 3875 §4.1), plus git's own. */
function cgiEnv(req: IncomingMessage, root: string, remoteUser: string | undefined): Record<string, string> {
  const rawUrl = req.url ?? '/';
  const queryAt = rawUrl.indexOf('?');
  const path = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
  const env: Record<string, string> = {
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: decodeURIComponent(path),
    QUERY_STRING: queryAt < 0 ? '' : rawUrl.slice(queryAt + 1),
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
  };
  const { headers } = req;
  if (headers['content-type'] !== undefined) env.CONTENT_TYPE = headers['content-type'];
  // Absent for chunked bodies (git sends pushes over http.postBuffer chunked); the backend
  // then reads stdin to EOF, which is why stdin must be ended when the request ends.
  if (headers['content-length'] !== undefined) env.CONTENT_LENGTH = headers['content-length'];
  // git gzips large upload-pack requests; the backend inflates them itself when told.
  if (headers['content-encoding'] !== undefined) env.HTTP_CONTENT_ENCODING = headers['content-encoding'];
  const protocol = headers['git-protocol'];
  if (typeof protocol === 'string') {
    // The docs' Apache setup passes GIT_PROTOCOL; since git 2.34 the backend also reads
    // HTTP_GIT_PROTOCOL itself. Without either, a v2 client silently gets protocol v0.
    env.GIT_PROTOCOL = protocol;
    env.HTTP_GIT_PROTOCOL = protocol;
  }
  if (remoteUser !== undefined) env.REMOTE_USER = remoteUser;
  return gitEnv(env);
}

/** Streams the request into the CGI and its output (after the header block) into the response. */
function serveCgi(req: IncomingMessage, res: ServerResponse, child: ChildProcess): void {
  const { stdin, stdout, stderr } = child;
  if (stdin === null || stdout === null || stderr === null) throw new Error('CGI spawned without pipes');
  const stderrChunks: Buffer[] = [];
  stderr.on('data', (chunk: Buffer) => stderrChunks.push(chunk));
  const exited = new Promise<number>((resolve) => {
    child.once('close', (code) => resolve(code ?? -1));
    child.once('error', () => resolve(-1));
  });

  // The backend may exit before reading the whole body (e.g. on a 404); drop the rest quietly.
  stdin.on('error', () => {
    req.unpipe(stdin);
    req.resume();
  });
  req.pipe(stdin);

  async function* forwardCgiOutput(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    let head: Buffer = Buffer.alloc(0);
    let headersSent = false;
    for await (const chunk of source) {
      if (headersSent) {
        yield chunk;
        continue;
      }
      head = Buffer.concat([head, chunk]);
      const parsed = parseCgiHead(head);
      if (parsed === undefined) {
        if (head.length > MAX_CGI_HEADER_BYTES) throw new Error('CGI header block too large');
        continue;
      }
      res.writeHead(parsed.status, parsed.reason, parsed.headers);
      headersSent = true;
      if (parsed.body.length > 0) yield parsed.body;
    }
    if (!headersSent) {
      // Exited (normally non-zero) without a header block: there is nothing to forward.
      const code = await exited;
      const detail = Buffer.concat(stderrChunks).toString('utf8');
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      yield Buffer.from(`git-http-backend exited with ${code} before sending headers\n${detail}`);
    }
  }

  // Rejects on a client disconnect or an oversized header block; pipeline has already destroyed
  // the response, and the backend has no one left to talk to.
  pipeline(stdout, forwardCgiOutput, res).catch(() => child.kill('SIGKILL'));
}

interface CgiHead {
  status: number;
  reason: string;
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

/** Splits `Name: value` lines up to the first blank line (RFC 3875 §6.2); undefined if incomplete. */
function parseCgiHead(buffer: Buffer): CgiHead | undefined {
  // latin1 maps bytes 1:1 to chars, so match offsets are byte offsets.
  const end = /\r?\n\r?\n/.exec(buffer.toString('latin1'));
  if (end === null) return undefined;
  let status = 200;
  let reason: string | undefined;
  const headers: OutgoingHttpHeaders = {};
  for (const line of buffer.subarray(0, end.index).toString('latin1').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') {
      const match = /^(\d{3})\s*(.*)$/.exec(value);
      status = Number(match?.[1] ?? 500);
      reason = match?.[2] || undefined;
      continue;
    }
    const previous = headers[name];
    headers[name] = previous === undefined ? value : [...[previous].flat().map(String), value];
  }
  return { status, reason: reason ?? STATUS_CODES[status] ?? '', headers, body: buffer.subarray(end.index + end[0].length) };
}
