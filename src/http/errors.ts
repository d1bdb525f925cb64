import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import { isPortcullisError } from '../errors.ts';

/** API errors are `{ error: { code, message, hint? } }`; anything unexpected is logged and named by a ref. */
export function renderApiError(error: unknown, c: Context, log: Logger): Response {
  if (isPortcullisError(error)) {
    return c.json({ error: error.toJSON() }, error.httpStatus as ContentfulStatusCode);
  }
  const ref = Math.random().toString(36).slice(2, 10);
  log.error({ err: error, ref }, 'unexpected error in the HTTP API');
  return c.json({ error: { code: 'INTERNAL', message: `internal error (ref ${ref})` } }, 500);
}
