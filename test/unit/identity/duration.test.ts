import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../../../src/errors.ts';
import { parseDuration } from '../../../src/identity/index.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('parseDuration', () => {
  it.each([
    ['30m', 30 * MINUTE],
    ['1m', MINUTE],
    ['24h', 24 * HOUR],
    ['1h', HOUR],
    ['7d', 7 * DAY],
    ['365d', 365 * DAY],
    ['007d', 7 * DAY],
    [' 24h ', 24 * HOUR],
    ['90 m', 90 * MINUTE],
    ['90s', 90_000],
  ])('%j → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '24', 'h', '24H', '10S', '1w', '1.5h', '-1h', '+1h', '1h30m', 'one hour', '1e3m', '24 hours', 'h24'])(
    'refuses %j as not a duration, with a hint showing the forms',
    (text) => {
      let error: unknown;
      try {
        parseDuration(text);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(PortcullisError);
      expect((error as PortcullisError).code).toBe('CONFIG_INVALID');
      expect((error as PortcullisError).userMessage).toBe(`"${text}" is not a duration`);
      expect((error as PortcullisError).hint).toContain('24h');
    },
  );

  it.each(['0m', '0h', '00d'])('refuses %j: a duration must be longer than zero', (text) => {
    expect(() => parseDuration(text)).toThrow(`"${text}" must be longer than zero`);
  });
});
