import { randomBytes } from 'node:crypto';

/** Time and ids are injected so expiry and ordering can be tested with a frozen clock and seeded ids. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Sortable ids: 12 hex digits of milliseconds, then 80 random bits. */
export function newId(clock: Clock = systemClock): string {
  return clock.now().getTime().toString(16).padStart(12, '0') + randomHex(10);
}

/** Random bytes drawn from a pool: one getrandom per 409 ids, as the proxy records thousands of statements a second. */
let pool = Buffer.alloc(0);
let poolOffset = 0;
function randomHex(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return hex;
}
