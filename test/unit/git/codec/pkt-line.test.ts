import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_PKT_LINE_LENGTH,
  decodePktLinePrefix,
  encodeDelim,
  encodeFlush,
  encodePktLine,
  encodePktLines,
  encodeResponseEnd,
  pktText,
} from '../../../../src/git/codec/index.ts';
import type { Pkt } from '../../../../src/git/codec/index.ts';
import { isPortcullisError } from '../../../../src/errors.ts';
import { pktArbitrary, showPkts } from './pkt-frames.ts';

const ascii = (bytes: Uint8Array): string => new TextDecoder('latin1').decode(bytes);
const bytesOf = (text: string): Uint8Array => new TextEncoder().encode(text);

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (isPortcullisError(error)) return error.code;
    throw error;
  }
  return undefined;
}

describe('pkt-line encoders', () => {
  it('write the examples from gitprotocol-common', () => {
    expect(ascii(encodePktLine('a\n'))).toBe('0006a\n');
    expect(ascii(encodePktLine('a'))).toBe('0005a');
    expect(ascii(encodePktLine('foobar\n'))).toBe('000bfoobar\n');
    expect(ascii(encodePktLine(''))).toBe('0004');
  });

  it('write the special packets', () => {
    expect(ascii(encodeFlush())).toBe('0000');
    expect(ascii(encodeDelim())).toBe('0001');
    expect(ascii(encodeResponseEnd())).toBe('0002');
  });

  it('accept a payload that fills the line exactly and refuse one byte more', () => {
    expect(encodePktLine(new Uint8Array(MAX_PKT_LINE_LENGTH - 4)).length).toBe(MAX_PKT_LINE_LENGTH);
    expect(ascii(encodePktLine(new Uint8Array(MAX_PKT_LINE_LENGTH - 4)).subarray(0, 4))).toBe('fff0');
    expect(codeOf(() => encodePktLine(new Uint8Array(MAX_PKT_LINE_LENGTH - 3)))).toBe('PKT_LINE_TOO_LONG');
  });
});

describe('pktText', () => {
  it('drops one trailing LF, which receivers must ignore', () => {
    expect(pktText(bytesOf('done\n'))).toBe('done');
    expect(pktText(bytesOf('done'))).toBe('done');
    expect(pktText(bytesOf('two\n\n'))).toBe('two\n');
    expect(pktText(new Uint8Array(0))).toBe('');
  });
});

describe('decodePktLinePrefix', () => {
  it('decode(encode(frames)) gives the frames back', () => {
    fc.assert(
      fc.property(fc.array(pktArbitrary, { maxLength: 12 }), (pkts) => {
        const bytes = encodePktLines(pkts);
        const result = decodePktLinePrefix(bytes);
        expect(showPkts(result.pkts)).toEqual(showPkts(pkts));
        expect(result).toMatchObject({ truncated: false, restOffset: bytes.length });
      }),
      { numRuns: 200 },
    );
  });

  it('reports a cut-off last line as truncated, with the frames before it', () => {
    fc.assert(
      fc.property(fc.array(pktArbitrary, { minLength: 1, maxLength: 8 }), fc.nat(), (pkts, seed) => {
        const bytes = encodePktLines(pkts);
        const ends = pkts.map((_, i) => encodePktLines(pkts.slice(0, i + 1)).length);
        const cut = seed % (bytes.length + 1);
        const whole = ends.filter((end) => end <= cut).length;
        const result = decodePktLinePrefix(bytes.subarray(0, cut));
        expect(showPkts(result.pkts)).toEqual(showPkts(pkts.slice(0, whole)));
        expect(result.truncated).toBe(cut !== 0 && !ends.includes(cut));
        expect(result.restOffset).toBe(whole === 0 ? 0 : ends[whole - 1]);
      }),
      { numRuns: 200 },
    );
  });

  it('stops after the first flush so a following PACK is never decoded', () => {
    const body = new Uint8Array([...encodePktLine('cmd\n'), ...encodeFlush(), ...bytesOf('PACK\0\0\0\x02')]);
    const result = decodePktLinePrefix(body, { stopAfterFlush: true });
    expect(result.pkts).toEqual([{ kind: 'data', payload: bytesOf('cmd\n') }, { kind: 'flush' }]);
    expect(ascii(body.subarray(result.restOffset))).toBe('PACK\0\0\0\x02');
    expect(codeOf(() => decodePktLinePrefix(body))).toBe('PKT_LINE_INVALID');
  });

  it.each([
    ['PACK', 'PKT_LINE_INVALID'],
    ['00g5x', 'PKT_LINE_INVALID'],
    ['-001', 'PKT_LINE_INVALID'],
    ['0003', 'PKT_LINE_INVALID'],
    ['fff1', 'PKT_LINE_TOO_LONG'],
    ['FFFF', 'PKT_LINE_TOO_LONG'],
  ])('refuses the header %j with %s', (header, code) => {
    expect(codeOf(() => decodePktLinePrefix(bytesOf(`${header}${'x'.repeat(8)}`)))).toBe(code);
  });

  it('refuses every over-long length header', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_PKT_LINE_LENGTH + 1, max: 0xffff }), (length) => {
        expect(codeOf(() => decodePktLinePrefix(bytesOf(length.toString(16))))).toBe('PKT_LINE_TOO_LONG');
      }),
    );
  });

  it('reads upper-case hex lengths as git does', () => {
    expect(decodePktLinePrefix(bytesOf('000Aabcdef')).pkts).toEqual([{ kind: 'data', payload: bytesOf('abcdef') }]);
  });
});
