import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../../src/audit/chain/index.ts';

describe('canonicalJson', () => {
  it('sorts object keys by UTF-16 code unit, at every depth, with no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
    // 'Z' (0x5A) < 'a' (0x61) < 'é' (0xE9) < '😀' (surrogate 0xD83D) < 'ｱ' (0xFF71): code units, not code points or locale
    expect(canonicalJson({ 'ｱ': 5, '😀': 4, é: 3, a: 2, Z: 1 })).toBe('{"Z":1,"a":2,"é":3,"😀":4,"ｱ":5}');
    expect(canonicalJson({ '10': 1, '9': 2, '': 3 })).toBe('{"":3,"10":1,"9":2}');
  });

  it('writes strings and numbers exactly as JSON.stringify does', () => {
    expect(canonicalJson('line\nbreak "quoted" \u2028 \u0000 naïve 😀')).toBe(JSON.stringify('line\nbreak "quoted" \u2028 \u0000 naïve 😀'));
    expect(canonicalJson('\ud800')).toBe('"\\ud800"');
    expect(canonicalJson([0, -0, 1.5, 1e21, 5e-7, -12])).toBe('[0,0,1.5,1e+21,5e-7,-12]');
    expect(canonicalJson([true, false, null])).toBe('[true,false,null]');
  });

  it('drops undefined properties and writes undefined array items as null, like JSON', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson([undefined, 1])).toBe('[null,1]');
  });

  it('writes a Date as its ISO string', () => {
    expect(canonicalJson({ at: new Date('2026-01-02T03:04:05.678Z') })).toBe('{"at":"2026-01-02T03:04:05.678Z"}');
  });

  it('rejects what JSON would silently change, naming where it is', () => {
    expect(() => canonicalJson({ a: [1, Number.NaN] })).toThrow(new TypeError('canonicalJson: $.a[1] is NaN, which JSON cannot represent'));
    expect(() => canonicalJson(Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/\$\.f is a function/);
    expect(() => canonicalJson({ n: 10n })).toThrow(/\$\.n is a bigint/);
    expect(() => canonicalJson({ s: Symbol('x') })).toThrow(/symbol/);
    expect(() => canonicalJson(new Map())).toThrow(/Map/);
    expect(() => canonicalJson({ s: new Set() })).toThrow(/Set/);
    expect(() => canonicalJson(new Date(Number.NaN))).toThrow(/invalid Date/);
    expect(() => canonicalJson(undefined)).toThrow(/undefined/);
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = { back: cycle };
    expect(() => canonicalJson(cycle)).toThrow(/\$\.self\.back refers back/);
  });

  it('allows the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });

  it('is JSON that parses back to an equal value, and survives a JSON round trip unchanged', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
    );
  });

  it('does not depend on key insertion order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 8 }), (record) => {
        const reversed = Object.fromEntries(Object.entries(record).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(record));
      }),
    );
  });
});
