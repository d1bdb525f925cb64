import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { PortcullisError } from '../errors.ts';
import type { GatewayDeps, GatewayEnv } from '../http/deps.ts';
import { createBypassLog } from './bypass.ts';
import { createDeliveryLog } from './deliveries.ts';
import { createInstallationStore } from './installations.ts';

/** GitHub caps webhook payloads at 25 MB. */
const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;
const RECENT_DELIVERIES = 10;

const notConfigured = () =>
  new PortcullisError('GITHUB_APP_NOT_CONFIGURED', 'the GitHub App is not configured on this gateway', {
    hint: 'set APP_ID, PRIVATE_KEY_PATH (or PRIVATE_KEY) and WEBHOOK_SECRET, or the github section of portcullis.yml; README.md "GitHub App" says how',
  });

/** `POST /github/webhooks`: GitHub's deliveries, refused (401, recorded) unless signed with the webhook secret. */
export function githubWebhookRoutes(deps: GatewayDeps): Hono<GatewayEnv> {
  const routes = new Hono<GatewayEnv>();
  routes.post(
    '/webhooks',
    bodyLimit({ maxSize: MAX_WEBHOOK_BYTES, onError: (c) => c.json({ error: { code: 'REQUEST_TOO_LARGE', message: 'webhook body over 25 MB' } }, 413) }),
    async function receiveWebhook(c) {
      if (!deps.github) throw notConfigured();
      const outcome = await deps.github.receive({
        id: c.req.header('x-github-delivery'),
        event: c.req.header('x-github-event'),
        signature: c.req.header('x-hub-signature-256'),
        body: await c.req.text(),
        sourceAddress: sourceAddress(c),
      });
      return c.json({ outcome });
    },
  );
  return routes;
}

/** `GET /api/v1/github/installations`, mounted inside the admin-only API router: what `github status` prints. */
export function githubApiRoutes(deps: GatewayDeps): Hono<GatewayEnv> {
  const api = new Hono<GatewayEnv>();
  api.get('/installations', async (c) => {
    // The tables outlive a configuration change: what was recorded is shown either way.
    const installations = deps.github?.installations ?? createInstallationStore(deps.store.db, deps.clock);
    const deliveries = deps.github?.deliveries ?? createDeliveryLog(deps.store.db, deps.clock, deps.audit);
    return c.json({
      configured: deps.github !== null,
      app: deps.github ? deps.github.settings : null,
      installations: await installations.list(),
      recentDeliveries: await deliveries.recent(RECENT_DELIVERIES),
      recentBypasses: await createBypassLog(deps.store.db, deps.clock).recent(RECENT_DELIVERIES),
    });
  });
  return api;
}

function sourceAddress(c: Context<GatewayEnv>): string {
  return c.env?.incoming?.socket?.remoteAddress ?? 'unknown';
}
