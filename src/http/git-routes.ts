import { Hono } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { GitEndpoint } from '../git/index.ts';
import type { GatewayDeps, GatewayEnv } from './deps.ts';

/**
 * Smart-HTTP routes. The git proxy writes to the Node response itself so packs stream with
 * backpressure and no copy through web streams.
 */
export function gitRoutes(deps: GatewayDeps): Hono<GatewayEnv> {
  const routes = new Hono<GatewayEnv>();
  const serve = (endpoint: GitEndpoint) =>
    async function proxyGitRequest(c: import('hono').Context<GatewayEnv>) {
      const { incoming, outgoing } = c.env;
      await deps.git.handle({
        remote: c.req.param('remote')!,
        owner: c.req.param('owner')!,
        repo: c.req.param('repo')!,
        endpoint,
        service: c.req.query('service'),
        incoming,
        outgoing,
        sourceAddress: incoming.socket.remoteAddress ?? 'unknown',
      });
      return RESPONSE_ALREADY_SENT;
    };
  routes.get('/:remote/:owner/:repo/info/refs', serve('info/refs'));
  routes.post('/:remote/:owner/:repo/git-upload-pack', serve('git-upload-pack'));
  routes.post('/:remote/:owner/:repo/git-receive-pack', serve('git-receive-pack'));
  routes.all('*', (c) =>
    c.text(
      'not a smart-HTTP git URL: clone http://<gateway>/git/<remote>/<owner>/<repo>.git (the dumb HTTP protocol is not served)\n',
      404,
    ),
  );
  return routes;
}
