import { describe, expect, it } from 'vitest';
import { ALL_DETECTORS, KEEP, maskDetectedValue, maskWholeValue, typeShape } from '../../../../src/pg/mask/index.ts';
import type { MaskStyle } from '../../../../src/pg/mask/index.ts';
import { encodeNumeric } from '../../../../src/pg/mask/mask-scalar.ts';

const KEY = Buffer.from('unit-test key');
const ctx = (style: MaskStyle) => ({ style, hashKey: KEY, detectors: ALL_DETECTORS });
const text = (oid: number, value: string, style: MaskStyle = 'redact') => maskWholeValue(Buffer.from(value), typeShape(oid), 0, ctx(style))?.toString('utf8') ?? null;
const binary = (oid: number, value: Buffer, style: MaskStyle = 'redact') => maskWholeValue(value, typeShape(oid), 1, ctx(style));
const int4 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

describe('masking a whole value', () => {
  it('text-like types: redact, partial (last four when four stay hidden), hash', () => {
    expect(text(25, 'john.doe@example.com')).toBe('****');
    expect(text(1043, '4111111111111111', 'partial')).toBe('****1111');
    expect(text(25, 'short', 'partial')).toBe('****');
    expect(text(25, 'näïve-välüé', 'partial')).toBe('****älüé'); // characters, not bytes
    expect(text(25, 'x', 'hash')).toMatch(/^[0-9a-f]{16}$/);
    expect(text(25, 'same', 'hash')).toBe(text(1042, 'same', 'hash')); // stable across text types: joins still line up
    expect(text(25, 'same', 'hash')).not.toBe(text(25, 'other', 'hash'));
    expect(binary(25, Buffer.from('abc'))?.toString()).toBe('****');
  });

  it('json and jsonb become JSON strings; binary jsonb keeps its version byte', () => {
    expect(text(114, '{"a": 1}')).toBe('"****"');
    expect(text(3802, '{"a": 1}', 'partial')).toBe('"****"');
    expect(text(3802, '"4111111111111111"', 'partial')).toBe('"****1111"');
    const masked = binary(3802, Buffer.concat([Buffer.from([1]), Buffer.from('{"email": "a@b.co"}')]))!;
    expect(masked[0]).toBe(1);
    expect(JSON.parse(masked.subarray(1).toString())).toBe('****');
  });

  it('bytea: hex text out, raw bytes in binary', () => {
    expect(text(17, '\\x0102030405')).toBe(`\\x${Buffer.from('****').toString('hex')}`);
    expect(text(17, 'escape\\000format', 'hash')).toMatch(/^\\x[0-9a-f]{32}$/);
    expect(binary(17, Buffer.from([1, 2, 3]))?.toString()).toBe('****');
  });

  it('integers: zero, last four digits, or a hashed value in range', () => {
    expect(text(23, '4111111')).toBe('0');
    expect(text(20, '4111111111111234', 'partial')).toBe('1234');
    expect(text(21, '-1234', 'partial')).toBe('1234');
    const hashed = Number(text(21, '77', 'hash'));
    expect(hashed).toBeGreaterThanOrEqual(0);
    expect(hashed).toBeLessThan(32768);
    expect(binary(23, int4(42))!.readInt32BE(0)).toBe(0);
    // binary and text hash alike
    expect(binary(23, int4(42), 'hash')!.readInt32BE(0)).toBe(Number(text(23, '42', 'hash')));
    const big = Buffer.alloc(8);
    big.writeBigInt64BE(4111111111115678n);
    expect(binary(20, big, 'partial')!.readBigInt64BE(0)).toBe(5678n);
  });

  it('numeric: zero and hashed values in base 10000', () => {
    expect(text(1700, '12.50')).toBe('0');
    expect(text(1700, '4111111111119999.5', 'partial')).toBe('9999');
    expect(encodeNumeric(0n)).toEqual(Buffer.alloc(8));
    expect(encodeNumeric(123456789n).toString('hex')).toBe('0003000200000000' + '0001' + '0929' + '1a85'); // 1 | 2345 | 6789
    expect(encodeNumeric(10000n).toString('hex')).toBe('000100010000000000' + '01');
  });

  it('floats, booleans, uuids, dates and times', () => {
    expect(text(701, '3.5')).toBe('0');
    expect(binary(700, Buffer.alloc(4, 1))!.readFloatBE(0)).toBe(0);
    expect(text(16, 't')).toBe('f');
    expect(binary(16, Buffer.from([1]))).toEqual(Buffer.from([0]));
    expect(text(2950, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')).toBe('00000000-0000-0000-0000-000000000000');
    expect(text(2950, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'partial')).toBe('00000000-0000-0000-0000-000000000a11');
    expect(text(1082, '2021-03-04')).toBe('1970-01-01');
    expect(text(1184, '2021-03-04 12:00:00+01')).toBe('1970-01-01 00:00:00+00');
    expect(text(1114, 'x', 'hash')).toMatch(/^20\d\d-\d\d-\d\d 00:00:00$/);
    expect(binary(1082, Buffer.alloc(4))!.readInt32BE(0)).toBe(-10957);
    expect(binary(1114, Buffer.alloc(8))!.readBigInt64BE(0)).toBe(-946684800000000n);
    expect(binary(1266, Buffer.alloc(12))).toEqual(Buffer.alloc(12));
  });

  it('arrays: every element masked, shape and NULLs kept', () => {
    expect(text(1009, '{a@b.co,"x y",NULL}')).toBe('{"****","****",NULL}');
    expect(text(1007, '{{1,2},{3,4}}')).toBe('{{"0","0"},{"0","0"}}');
    expect(text(1009, '{}')).toBe('{}');
    expect(text(1041, '{10.0.0.1}')).toBeNull(); // inet elements have no masked form: the array is NULL
    const arr = Buffer.concat([int4(1), int4(1), int4(25), int4(2), int4(1), int4(3), Buffer.from('abc'), int4(-1)]);
    const masked = binary(1009, arr)!;
    expect(masked.readInt32BE(4)).toBe(1); // has-null flag
    expect(masked.readInt32BE(20)).toBe(4);
    expect(masked.subarray(24, 28).toString()).toBe('****');
    expect(masked.readInt32BE(28)).toBe(-1);
  });

  it('types without a masked form become NULL', () => {
    expect(text(869, '10.0.0.1')).toBeNull();
    expect(binary(3904, Buffer.alloc(9))).toBeNull();
    expect(text(2249, '(1,a@b.co)')).toBeNull();
  });
});

describe('masking detected spans', () => {
  const detect = (oid: number, value: Buffer | string, format: 0 | 1 = 0, style: MaskStyle = 'redact') => {
    const result = maskDetectedValue(Buffer.isBuffer(value) ? value : Buffer.from(value), typeShape(oid), format, ctx(style));
    return result === KEEP ? 'KEEP' : (result?.toString('utf8') ?? null);
  };

  it('masks only the span inside text', () => {
    expect(detect(25, 'mail john.doe@example.com now')).toBe('mail **** now');
    expect(detect(25, 'card 4111 1111 1111 1111', 0, 'partial')).toBe('card ****1111');
    expect(detect(25, 'nothing to see here')).toBe('KEEP');
  });

  it('keeps JSON valid, masking the document whole when a partial mask would break it', () => {
    expect(detect(3802, '{"e": "a@example.com"}')).toBe('{"e": "****"}');
    expect(JSON.parse(detect(114, '{"e": "x\\u0040a@example.com"}', 0, 'partial') as string)).toBeDefined();
    const binaryJsonb = maskDetectedValue(Buffer.concat([Buffer.from([1]), Buffer.from('["a@example.com"]')]), typeShape(3802), 1, ctx('redact'));
    expect(binaryJsonb).not.toBe(KEEP);
    expect((binaryJsonb as Buffer)[0]).toBe(1);
  });

  it('bytea: inside decoded bytes, hex out', () => {
    const hex = `\\x${Buffer.from('to a@example.com').toString('hex')}`;
    expect(detect(17, hex)).toBe(`\\x${Buffer.from('to ****').toString('hex')}`);
    expect(detect(17, Buffer.from('to a@example.com'), 1)).toBe('to ****');
  });

  it('arrays: element by element', () => {
    expect(detect(1009, '{a@example.com,plain,NULL}')).toBe('{"****",plain,NULL}');
    expect(detect(1009, '{plain,words}')).toBe('KEEP');
  });

  it('composite and other values with a hit become NULL', () => {
    expect(detect(2249, '(1,a@example.com)')).toBeNull();
    expect(detect(2249, '(1,plain)')).toBe('KEEP');
  });

  it('non-text types are never inspected', () => {
    expect(detect(23, '4111111111111111')).toBe('KEEP');
  });
});
