import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SIDE_BAND_64K_MAX,
  SIDE_BAND_MAX,
  decodePktLinePrefix,
  demuxSideBand,
  encodeFlush,
  encodePktLine,
  encodePktLines,
  encodeSideBand,
  readPktLines,
  readSideBand,
} from '../../../../src/git/codec/index.ts';
import type { Pkt, SideBand } from '../../../../src/git/codec/index.ts';
import { isPortcullisError } from '../../../../src/errors.ts';
import { readWireFixture } from './wire-fixtures.ts';

const latin1 = (bytes: Uint8Array): string => new TextDecoder('latin1').decode(bytes);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
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

/** `bytes` delivered as chunks split at `cuts` (any numbers; reduced to sorted in-range offsets). */
async function* chunked(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  const offsets = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  let start = 0;
  for (const offset of [...offsets, bytes.length]) {
    yield bytes.subarray(start, offset);
    start = offset;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

const bandArbitrary = fc.constantFrom<SideBand>(1, 2, 3);
const messageArbitrary = fc.record({ band: bandArbitrary, data: fc.uint8Array({ maxLength: 3000 }) });
const maxPktArbitrary = fc.oneof(fc.constant(SIDE_BAND_MAX), fc.constant(SIDE_BAND_64K_MAX), fc.integer({ min: 6, max: 1200 }));

describe('encodeSideBand', () => {
  it('prefixes the band byte and counts it in the length, as git does', () => {
    expect(latin1(encodeSideBand(2, 'hi\n', SIDE_BAND_MAX))).toBe('0008\x02hi\n');
    expect(latin1(encodeSideBand(1, bytesOf('0000'), SIDE_BAND_64K_MAX))).toBe('0009\x010000');
  });

  it('cuts data into lines of at most maxPkt bytes', () => {
    const data = new Uint8Array(2 * 995 + 1).fill(0x61);
    const lines = decodePktLinePrefix(encodeSideBand(3, data, SIDE_BAND_MAX)).pkts;
    expect(lines.map((pkt) => (pkt.kind === 'data' ? pkt.payload.length + 4 : 0))).toEqual([1000, 1000, 6]);

    const big = encodeSideBand(1, new Uint8Array(65515 + 1), SIDE_BAND_64K_MAX);
    expect(latin1(big.subarray(0, 5))).toBe('fff0\x01');
    expect(latin1(big.subarray(65520, 65525))).toBe('0006\x01');
  });

  it('writes nothing for no data, like send_sideband()', () => {
    expect(encodeSideBand(2, '', SIDE_BAND_MAX)).toEqual(new Uint8Array(0));
  });

  it.each([
    [5, 'PKT_LINE_INVALID'],
    [SIDE_BAND_64K_MAX + 1, 'PKT_LINE_TOO_LONG'],
    [1000.5, 'PKT_LINE_TOO_LONG'],
  ])('refuses a line limit of %d with %s', (maxPkt, code) => {
    expect(codeOf(() => encodeSideBand(1, 'x', maxPkt))).toBe(code);
  });
});

describe('demuxSideBand', () => {
  it('demux(encode(messages)) gives each band its bytes back, whatever the line limit', () => {
    fc.assert(
      fc.property(fc.array(messageArbitrary, { maxLength: 8 }), maxPktArbitrary, (messages, maxPkt) => {
        const stream = concat([...messages.map(({ band, data }) => encodeSideBand(band, data, maxPkt)), encodeFlush()]);
        const { pkts } = decodePktLinePrefix(stream);
        expect(pkts.every((pkt) => pkt.kind !== 'data' || pkt.payload.length + 4 <= maxPkt)).toBe(true);
        const bandBytes = (band: SideBand): Uint8Array => concat(messages.filter((m) => m.band === band).map((m) => m.data));
        const demuxed = demuxSideBand(pkts);
        expect(hex(demuxed.data)).toBe(hex(bandBytes(1)));
        expect(demuxed.progress).toBe(new TextDecoder().decode(bandBytes(2)));
        expect(demuxed.error).toBe(new TextDecoder().decode(bandBytes(3)));
      }),
      { numRuns: 200 },
    );
  });

  it('decodes text after joining lines, so a character cut between two lines survives', () => {
    const text = 'remote says ünïcødé ✓\n';
    const stream = decodePktLinePrefix(encodeSideBand(2, text, 6)).pkts; // one byte per line
    expect(demuxSideBand(stream).progress).toBe(text);
  });

  it('stops at the flush that closes the stream', () => {
    const pkts = decodePktLinePrefix(concat([encodeSideBand(1, 'a', 100), encodeFlush(), encodeSideBand(1, 'b', 100)])).pkts;
    expect(latin1(demuxSideBand(pkts).data)).toBe('a');
  });

  it('reads the band-2 line receive-pack wrote in a real push (git 2.39.5)', () => {
    const { pkts } = decodePktLinePrefix(readWireFixture('push-mixed-v2-side-band-64k.response.bin'));
    const demuxed = demuxSideBand(pkts);
    expect(demuxed.progress).toBe('error: denying non-fast-forward refs/heads/main (you should pull first)\n');
    expect(demuxed.error).toBe('');
    expect(latin1(demuxed.data)).toMatch(/^000eunpack ok\n.*0000$/s);
  });

  it.each<[string, Pkt[]]>([
    ['an empty line (no band)', [{ kind: 'data', payload: new Uint8Array(0) }]],
    ['band 0', [{ kind: 'data', payload: new Uint8Array([0, 0x61]) }]],
    ['band 4', [{ kind: 'data', payload: new Uint8Array([4, 0x61]) }]],
    ['a text line instead', [{ kind: 'data', payload: bytesOf('unpack ok\n') }]],
    ['a delim', [{ kind: 'delim' }]],
    ['a response-end', [{ kind: 'response-end' }]],
  ])('refuses %s with PKT_LINE_INVALID', (_name, pkts) => {
    expect(codeOf(() => demuxSideBand(pkts))).toBe('PKT_LINE_INVALID');
  });
});

describe('readSideBand', () => {
  it('gives the same packets however the bytes are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(messageArbitrary, { maxLength: 6 }), maxPktArbitrary, fc.array(fc.nat(), { maxLength: 20 }), async (messages, maxPkt, cuts) => {
        const stream = concat([...messages.map(({ band, data }) => encodeSideBand(band, data, maxPkt)), encodeFlush(), encodePktLine('after')]);
        const expected = demuxSideBand(decodePktLinePrefix(stream).pkts);
        const parts: Record<SideBand, Uint8Array[]> = { 1: [], 2: [], 3: [] };
        for await (const { band, payload } of readSideBand(readPktLines(chunked(stream, cuts)))) parts[band].push(payload);
        expect(hex(concat(parts[1]))).toBe(hex(expected.data));
        expect(new TextDecoder().decode(concat(parts[2]))).toBe(expected.progress);
        expect(new TextDecoder().decode(concat(parts[3]))).toBe(expected.error);
      }),
      { numRuns: 100 },
    );
  });

  it('throws on a bad band instead of skipping it', async () => {
    const bad = encodePktLines([{ kind: 'data', payload: new Uint8Array([9]) }]);
    await expect(async () => {
      for await (const packet of readSideBand(readPktLines(chunked(bad, [])))) void packet;
    }).rejects.toMatchObject({ code: 'PKT_LINE_INVALID' });
  });
});
