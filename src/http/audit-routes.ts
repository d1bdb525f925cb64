import { createPublicKey, type KeyObject } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { Hono } from 'hono';
import { PortcullisError } from '../errors.ts';
import type { GatewayDeps, GatewayEnv } from './deps.ts';

/** The audit chain: verify it, export it (JSONL, streamed), read the public key. */
export function auditRoutes(deps: GatewayDeps): Hono<GatewayEnv> {
  const routes = new Hono<GatewayEnv>();

  routes.get('/audit/pubkey', (c) => c.json({ publicKey: deps.audit.publicKeyPem }));

  // ?from=SEQ, ?publicKey=PEM (verify against that key instead of the gateway's own). 200 with ok false when broken.
  routes.get('/audit/verify', async (c) => {
    const fromText = c.req.query('from');
    const from = fromText === undefined ? undefined : Number.parseInt(fromText, 10);
    if (from !== undefined && !(Number.isSafeInteger(from) && from >= 1)) throw new PortcullisError('CONFIG_INVALID', '`from` must be a seq (a positive integer)');
    const pem = c.req.query('publicKey');
    const publicKeys = pem ? [parsePublicKey(pem)] : undefined;
    return c.json(await deps.audit.verify({ ...(from !== undefined ? { from } : {}), ...(publicKeys ? { publicKeys } : {}) }));
  });

  routes.get('/audit/export', (c) => {
    const since = parseTime(c.req.query('since'), 'since');
    const until = parseTime(c.req.query('until'), 'until');
    const out = new PassThrough();
    deps.audit
      .export(out, { ...(since ? { since } : {}), ...(until ? { until } : {}) })
      .then(() => out.end())
      .catch((error: unknown) => {
        deps.log.error({ err: error }, 'audit export failed');
        out.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    return new Response(Readable.toWeb(out) as ReadableStream, { headers: { 'content-type': 'application/x-ndjson' } });
  });

  return routes;
}

function parseTime(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw new PortcullisError('CONFIG_INVALID', `\`${name}\` must be an ISO time, not ${JSON.stringify(value)}`);
  return time;
}

function parsePublicKey(pem: string): KeyObject {
  try {
    return createPublicKey(pem);
  } catch {
    throw new PortcullisError('CONFIG_INVALID', '`publicKey` is not a PEM public key');
  }
}
