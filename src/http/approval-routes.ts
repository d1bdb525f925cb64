import { Hono } from 'hono';
import { parseDuration } from '../identity/index.ts';
import type { GatewayDeps, GatewayEnv } from './deps.ts';
import { parseBody } from './parse-body.ts';
import { decisionBody, grantBody } from './request-bodies.ts';


/** Approvals: the same store and the same applier behind the CLI, the console and the GitHub app. */
export function approvalRoutes(deps: GatewayDeps): Hono<GatewayEnv> {
  const routes = new Hono<GatewayEnv>();

  routes.get('/approvals', async (c) => {
    const limit = Number.parseInt(c.req.query('limit') ?? '100', 10) || 100;
    return c.json({ approvals: await deps.approvals.list({ status: c.req.query('status'), limit }) });
  });

  routes.get('/approvals/:id', async (c) => {
    const id = c.req.param('id');
    return c.json({ approval: await deps.approvals.get(id), events: await deps.approvals.events(id) });
  });

  routes.post('/approvals/:id/approve', async (c) => {
    const body = parseBody(decisionBody, await c.req.json().catch(() => null));
    return c.json({ approval: await deps.holds.approve(c.req.param('id'), body.reviewer, body.comment) });
  });

  routes.post('/approvals/:id/deny', async (c) => {
    const body = parseBody(decisionBody, await c.req.json().catch(() => null));
    return c.json({ approval: await deps.holds.deny(c.req.param('id'), body.reviewer, body.comment) });
  });

  routes.post('/grants', async (c) => {
    const body = parseBody(grantBody, await c.req.json().catch(() => null));
    const grant = await deps.approvals.grant({
      agent: body.agent,
      refPattern: body.ref,
      repoPattern: body.repo,
      grantedBy: body.grantedBy,
      durationMs: parseDuration(body.for),
    });
    return c.json({ grant }, 201);
  });

  return routes;
}
