import { randomBytes } from 'node:crypto';

/** Time and ids are injected so expiry and ordering can be tested with a frozen clock and seeded ids. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Sortable ids: 12 hex digits of milliseconds, then 80 random bits. */
export function newId(clock: Clock = systemClock): string {
  return clock.now().getTime().toString(16).padStart(12, '0') + randomBytes(10).toString('hex');
}
