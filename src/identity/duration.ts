import { PortcullisError } from '../errors.ts';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** Ten years: anything longer is a typo, and a token should be revoked, not outlive its owner. */
const MAX_DURATION_MS = 3650 * UNIT_MS.d;

/** `--expires 24h`, `30m`, `7d`, `90s`. */
export function parseDuration(text: string): number {
  const match = /^(\d+)\s*([smhd])$/.exec(text.trim());
  if (!match) {
    throw new PortcullisError('CONFIG_INVALID', `"${text}" is not a duration`, {
      hint: 'write a number and a unit: 90s, 30m, 24h, 7d',
    });
  }
  const amount = Number(match[1]);
  if (amount <= 0) throw new PortcullisError('CONFIG_INVALID', `"${text}" must be longer than zero`);
  const ms = amount * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (ms > MAX_DURATION_MS) {
    throw new PortcullisError('CONFIG_INVALID', `"${text}" is longer than the 3650d maximum`, {
      hint: 'leave --expires out for a token that lives until revoked',
    });
  }
  return ms;
}
