import { Hono } from 'hono';
import { sql } from 'drizzle-orm';
import { apiRoutes } from './api-routes.ts';
import type { GatewayDeps, GatewayEnv } from './deps.ts';
import { renderApiError } from './errors.ts';
import { gitRoutes } from './git-routes.ts';
import { githubWebhookRoutes } from '../github/index.ts';

export function createHttpApp(deps: GatewayDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.onError((error, c) => renderApiError(error, c, deps.log));

  app.get('/healthz', async (c) => {
    try {
      await deps.store.db.execute(sql`select 1`);
      return c.json({ status: 'ok', store: deps.store.description });
    } catch {
      return c.json({ status: 'unavailable', store: deps.store.description, reason: 'the store does not answer' }, 503);
    }
  });
  app.get('/metrics', (c) => c.text(deps.metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4' }));
  app.route('/git', gitRoutes(deps));
  app.route('/github', githubWebhookRoutes(deps));
  app.route('/api/v1', apiRoutes(deps));
  app.notFound((c) => c.json({ error: { code: 'NOT_FOUND', message: `no route ${c.req.method} ${c.req.path}` } }, 404));
  return app;
}
