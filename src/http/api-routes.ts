import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { summarizeGitSession } from '../git/index.ts';
import { addAgent, credentialFromAuthorization, hashToken, issueAdminToken, listAgents, parseDuration, revokeAgent } from '../identity/index.ts';
import type { GatewayDeps, GatewayEnv } from './deps.ts';
import { githubApiRoutes } from '../github/index.ts';
import { approvalRoutes } from './approval-routes.ts';
import { auditRoutes } from './audit-routes.ts';
import { renderApiError } from './errors.ts';
import { openApiDocument } from './openapi.ts';
import { parseBody } from './parse-body.ts';
import { adminTokenBody, agentBody } from './request-bodies.ts';
import { summarizeDbSession } from '../audit/index.ts';
import { appendAuditEvent } from '../audit/events.ts';



/** REST API under /api/v1, admin token required (or the local control socket). */
export function apiRoutes(deps: GatewayDeps): Hono<GatewayEnv> {
  const api = new Hono<GatewayEnv>();
  const { db } = deps.store;

  api.onError((error, c) => renderApiError(error, c, deps.log));
  api.use(bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.json({ error: { code: 'REQUEST_TOO_LARGE', message: 'request body over 64 KiB' } }, 413) }));
  api.use(async function requireAdmin(c, next) {
    if (!c.env?.controlSocket) {
      try {
        await deps.authenticator.authenticateAdmin(credentialFromAuthorization(c.req.header('authorization')));
      } catch (error) {
        c.header('WWW-Authenticate', 'Bearer realm="portcullis-api"');
        throw error;
      }
    }
    await next();
  });

  // Git and database sessions in one list, newest first; `kind` (git | database) and the filters narrow it.
  api.get('/openapi.json', (c) => c.json(openApiDocument()));

  api.get('/sessions', async (c) => {
    const limitText = c.req.query('limit');
    const limit = limitText ? Number.parseInt(limitText, 10) || 50 : 50;
    const kind = c.req.query('kind');
    const agent = c.req.query('agent');
    const before = c.req.query('before');
    const database = c.req.query('database');
    const repo = c.req.query('repo');
    const git =
      kind === 'database' || database
        ? []
        : (await deps.recorder.listSessions({ agent, repo, before, limit })).map(({ session, requests }) => summarizeGitSession(session, requests));
    const databases =
      kind === 'git' || repo
        ? []
        : (await deps.dbSessions.list({ agent, database, limit, ...(before ? { before: new Date(before) } : {}) })).map(summarizeDbSession);
    const sessions = [...git, ...databases].sort((a, b) => b.startedAt.localeCompare(a.startedAt)).slice(0, limit);
    return c.json({ sessions });
  });

  api.get('/sessions/:id', async (c) => {
    const id = c.req.param('id');
    const database = await deps.dbSessions.get(id);
    if (database) return c.json({ session: summarizeDbSession(database.session), statements: database.statements });
    const { session, requests } = await deps.recorder.getSession(id);
    return c.json({ session: summarizeGitSession(session, requests), requests });
  });

  api.get('/agents', async (c) => c.json({ agents: await listAgents(db, deps.clock) }));

  api.post('/agents', async (c) => {
    const body = parseBody(agentBody, await c.req.json().catch(() => null));
    const result = await addAgent(db, deps.clock, {
      name: body.name,
      read: body.read,
      write: body.write,
      expiresInMs: body.expires ? parseDuration(body.expires) : undefined,
      githubLogin: body.githubLogin,
      db: body.db,
      dbRead: body.dbRead,
    });
    await appendAuditEvent(deps.audit, 'token.issued', {
      actor: adminActor(c.env),
      subject: result.agent.name,
      data: {
        kind: 'agent',
        tokenSha256: hashToken(result.token),
        expiresAt: result.agent.expiresAt,
        scopes: { read: result.agent.read, write: result.agent.write, db: result.agent.db, dbRead: result.agent.dbRead },
      },
    });
    return c.json(result, 201);
  });

  api.delete('/agents/:name', async (c) => {
    const agent = await revokeAgent(db, deps.clock, c.req.param('name'));
    await appendAuditEvent(deps.audit, 'token.revoked', { actor: adminActor(c.env), subject: agent.name, data: { kind: 'agent' } });
    return c.json({ agent });
  });

  api.post('/admin-tokens', async (c) => {
    const body = parseBody(adminTokenBody, await c.req.json().catch(() => ({})));
    const result = await issueAdminToken(db, deps.clock, {
      label: body.label,
      expiresInMs: body.expires ? parseDuration(body.expires) : undefined,
    });
    await appendAuditEvent(deps.audit, 'token.issued', {
      actor: adminActor(c.env),
      subject: body.label ?? 'admin',
      data: { kind: 'admin', tokenSha256: hashToken(result.token), expiresAt: result.expiresAt, scopes: {} },
    });
    return c.json(result, 201);
  });

  api.route('/', approvalRoutes(deps));
  api.route('/', auditRoutes(deps));
  api.route('/github', githubApiRoutes(deps));
  return api;
}

/** Who acted, as far as the gateway knows: the local CLI (control socket or in-process) or a holder of an admin token. */
function adminActor(env: GatewayEnv['Bindings'] | undefined): string {
  return env?.controlSocket ? 'admin (local CLI)' : 'admin (token)';
}
