import type { z } from 'zod';
import { PortcullisError } from '../errors.ts';

/** Validates a JSON request body; the error names each bad field. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    throw new PortcullisError('CONFIG_INVALID', `invalid request body: ${detail}`);
  }
  return result.data;
}
