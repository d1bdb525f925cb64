import { z } from 'zod';

/**
 * Durations as policy files write them (`30m`, `24h`, `7d`), parsed to `{ text, ms }` so messages
 * can quote what the user wrote. Shared by the approval lifetimes and the SQL hold timeout.
 */

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** Same ceiling as token lifetimes: anything longer is a typo. */
const MAX_DURATION_MS = 3650 * UNIT_MS.d;

export interface Duration {
  text: string;
  ms: number;
}

export const durationSchema = z
  .string()
  .regex(/^\d+\s*[mhd]$/, 'must be a number and a unit: 30m, 24h, 7d')
  .transform((text, ctx): Duration => {
    const amount = Number.parseInt(text, 10);
    const ms = amount * UNIT_MS[text.trim().slice(-1) as keyof typeof UNIT_MS];
    if (ms <= 0) ctx.addIssue({ code: 'custom', message: 'must be longer than zero' });
    if (ms > MAX_DURATION_MS) ctx.addIssue({ code: 'custom', message: 'must be at most 3650d' });
    return { text: text.replace(/\s+/g, ''), ms };
  });

/** The parsed form of a default written the same way, so defaults and files agree exactly. */
export function defaultDuration(text: string): Duration {
  return durationSchema.parse(text);
}
