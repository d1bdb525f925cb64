import { describe, expect, it } from 'vitest';
import { normaliseBody, normaliseJsonValue } from '../../../../src/audit/chain-store/index.ts';
import { canonicalJson } from '../../../../src/audit/chain/index.ts';

describe('normaliseJsonValue: what is hashed is what the store gives back', () => {
  it('keeps every finite double, turns -0 into 0 and non-finite numbers into null', () => {
    expect(normaliseJsonValue({ a: 2 ** 60, b: -0, c: 5e-324, d: Number.NaN, e: Infinity, f: 0.1 })).toEqual({ a: 2 ** 60, b: 0, c: 5e-324, d: null, e: null, f: 0.1 });
    expect(Object.is(normaliseJsonValue(-0), 0)).toBe(true);
  });

  it('bigints: safe ones become numbers, others decimal strings', () => {
    expect(normaliseJsonValue([12n, 2n ** 70n])).toEqual([12, '1180591620717411303424']);
  });

  it('replaces NUL and lone surrogates (PostgreSQL text and jsonb refuse them), in keys too', () => {
    expect(normaliseJsonValue({ 'k\u0000': 'a\u0000b\ud800' })).toEqual({ 'k\uFFFD': 'a\uFFFDb\uFFFD' });
  });

  it('drops undefined, functions and symbols as JSON does; Dates become ISO strings', () => {
    expect(normaliseJsonValue({ u: undefined, f: () => 1, s: Symbol('x'), list: [undefined, () => 1], when: new Date(0) })).toEqual({ list: [null, null], when: '1970-01-01T00:00:00.000Z' });
  });

  it('makes any body hashable by canonicalJson and stable through a JSON round trip', () => {
    const body = normaliseBody({ type: 't\u0000', at: new Date(0).toISOString(), actor: null, subject: 's', data: { z: 1n, a: [-0, Number.NaN], m: new Map([[1, 2]]) as unknown as Record<string, unknown> } });
    const text = canonicalJson(body);
    expect(canonicalJson(JSON.parse(JSON.stringify(body)))).toBe(text);
    expect(body.type).toBe('t\uFFFD');
  });
});
