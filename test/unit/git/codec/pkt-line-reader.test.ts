import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPktLineReader, encodePktLine, encodePktLines, readPktLines } from '../../../../src/git/codec/index.ts';
import type { Pkt } from '../../../../src/git/codec/index.ts';
import { isPortcullisError } from '../../../../src/errors.ts';
import { pktArbitrary, showPkts } from './pkt-frames.ts';
import { readWireFixture } from './wire-fixtures.ts';

/** `bytes` delivered as chunks split at `cuts` (any numbers; reduced to sorted in-range offsets). */
async function* chunked(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  const offsets = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  let start = 0;
  for (const offset of [...offsets, bytes.length]) {
    yield bytes.subarray(start, offset); // empty chunks included: streams can produce them
    start = offset;
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

async function codeOf(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
  } catch (error) {
    if (isPortcullisError(error)) return error.code;
    throw error;
  }
  return undefined;
}

const cutsArbitrary = fc.array(fc.nat(), { maxLength: 20 });

describe('readPktLines', () => {
  it('gives the same frames however the bytes are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(pktArbitrary, { maxLength: 12 }), cutsArbitrary, async (pkts, cuts) => {
        const frames = await collect(readPktLines(chunked(encodePktLines(pkts), cuts)));
        expect(showPkts(frames)).toEqual(showPkts(pkts));
      }),
      { numRuns: 200 },
    );
  });

  it('throws PKT_LINE_TRUNCATED when the stream ends inside a line, and never hangs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(pktArbitrary, { minLength: 1, maxLength: 8 }), fc.nat(), cutsArbitrary, async (pkts, seed, cuts) => {
        const bytes = encodePktLines(pkts);
        const ends = pkts.map((_, i) => encodePktLines(pkts.slice(0, i + 1)).length);
        const cut = seed % bytes.length;
        fc.pre(cut > 0 && !ends.includes(cut));
        const code = await codeOf(() => collect(readPktLines(chunked(bytes.subarray(0, cut), cuts))));
        expect(code).toBe('PKT_LINE_TRUNCATED');
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    ['a bad hex length', '00zz', 'PKT_LINE_INVALID'],
    ['0003', '0003', 'PKT_LINE_INVALID'],
    ['an over-long length', 'fff1', 'PKT_LINE_TOO_LONG'],
    ['a lone partial header', '00', 'PKT_LINE_TRUNCATED'],
  ])('throws on %s', async (_name, text, code) => {
    const source = chunked(new TextEncoder().encode(`0008abcd${text}`), [1, 5, 9]);
    expect(await codeOf(() => collect(readPktLines(source)))).toBe(code);
  });

  it('hands out views into the chunk, not copies, when a line fits in one chunk', async () => {
    const chunk = encodePktLines([{ kind: 'data', payload: new Uint8Array([1, 2, 3]) }, { kind: 'flush' }]);
    const [first] = await collect(readPktLines(chunked(chunk, [])));
    expect(first?.kind === 'data' && first.payload.buffer).toBe(chunk.buffer);
  });
});

describe('createPktLineReader', () => {
  it('stops at a flush and returns every later byte unchanged from rest()', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(pktArbitrary, { maxLength: 6 }), fc.uint8Array({ maxLength: 300 }), cutsArbitrary, async (before, tail, cuts) => {
        const head = before.filter((pkt) => pkt.kind !== 'flush');
        const body = new Uint8Array([...encodePktLines([...head, { kind: 'flush' }]), ...tail]);
        const reader = createPktLineReader(chunked(body, cuts));
        const read: Pkt[] = [];
        for (let pkt = await reader.next(); pkt && pkt.kind !== 'flush'; pkt = await reader.next()) read.push(pkt);
        expect(showPkts(read)).toEqual(showPkts(head));
        expect(Buffer.concat(await collect(reader.rest())).equals(Buffer.from(tail))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('returns undefined at a clean end of stream', async () => {
    const reader = createPktLineReader(chunked(encodePktLine('x'), []));
    expect(await reader.next()).toEqual({ kind: 'data', payload: new TextEncoder().encode('x') });
    expect(await reader.next()).toBeUndefined();
    expect(await collect(reader.rest())).toEqual([]);
  });

  it('leaves the PACK of a real push for rest() after both pkt-line sections', async () => {
    const body = readWireFixture('push-receive-pack.request.bin');
    const reader = createPktLineReader(chunked(body, [3, 100, 250, 251]));
    let flushes = 0;
    while (flushes < 2) if ((await reader.next())?.kind === 'flush') flushes++;
    const pack = Buffer.concat(await collect(reader.rest()));
    expect(pack.subarray(0, 4).toString()).toBe('PACK');
    expect(pack.readUInt32BE(4)).toBe(2); // pack version
    expect(pack.readUInt32BE(8)).toBe(3); // commit, tree, blob of the pushed commit
  });
});
