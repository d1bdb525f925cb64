import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MalformedMessageError,
  MessageFramer,
  MessageTooLargeError,
  StartupFramer,
  decodeFrame,
  encodeMessage,
  encodeQuery,
  encodeSslRequest,
  encodeStartupMessage,
  encodeSync,
} from '../../../../src/pg/codec/index.ts';
import type { PgMessage } from '../../../../src/pg/codec/index.ts';
import { chunked, encodeAll, rawMessageArbitrary, sharesMemory, show } from './chunks.ts';

const LIMIT = 1 << 20;

function frameAll(chunks: Buffer[], limit = LIMIT): PgMessage[] {
  const framer = new MessageFramer(limit);
  const messages = chunks.flatMap((chunk) => framer.push(chunk));
  expect(framer.buffered).toBe(0);
  return messages;
}

describe('MessageFramer', () => {
  const stream = Buffer.concat([encodeQuery('select 1'), encodeSync(), encodeMessage(0x44, Buffer.alloc(0)), encodeQuery('select $$x$$; select 2')]);
  const expected = show([
    { type: 0x51, body: Buffer.from('select 1\0') },
    { type: 0x53, body: Buffer.alloc(0) },
    { type: 0x44, body: Buffer.alloc(0) },
    { type: 0x51, body: Buffer.from('select $$x$$; select 2\0') },
  ]);

  it('splits one chunk into messages whose body and frame are views of the chunk', () => {
    const messages = new MessageFramer(LIMIT).push(stream);
    expect(show(messages)).toEqual(expected);
    for (const message of messages) {
      expect(sharesMemory(message.body, stream)).toBe(true);
      expect(sharesMemory(message.frame, stream)).toBe(true);
      expect(message.frame.subarray(5).equals(message.body)).toBe(true);
      expect(message.body.byteOffset).toBe(message.frame.byteOffset + 5);
    }
    expect(Buffer.concat(messages.map((message) => message.frame)).equals(stream)).toBe(true);
  });

  it('gives the same messages when the stream is cut at any one byte', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(show(frameAll([stream.subarray(0, cut), stream.subarray(cut)])), `cut at ${cut}`).toEqual(expected);
    }
  });

  it('gives the same messages when fed one byte at a time, and reports what it holds', () => {
    const framer = new MessageFramer(LIMIT);
    const messages: PgMessage[] = [];
    let held = 0;
    for (let i = 0; i < stream.length; i++) {
      const out = framer.push(stream.subarray(i, i + 1));
      messages.push(...out);
      held = out.length > 0 ? 0 : held + 1;
      expect(framer.buffered).toBe(held);
    }
    expect(show(messages)).toEqual(expected);
  });

  it('copies only a message split across chunks, and the others stay views', () => {
    const first = encodeQuery('select 1');
    const cut = first.length + 3; // inside the Sync that follows
    const a = stream.subarray(0, cut);
    const b = stream.subarray(cut);
    const framer = new MessageFramer(LIMIT);
    const [query] = framer.push(a);
    expect(query && sharesMemory(query.body, a)).toBe(true);
    const [sync, dataRow, second] = framer.push(b);
    expect(sync && (sharesMemory(sync.frame, a) || sharesMemory(sync.frame, b))).toBe(false);
    expect(dataRow && sharesMemory(dataRow.frame, b)).toBe(true);
    expect(second && sharesMemory(second.body, b)).toBe(true);
  });

  it('gives the same messages however the stream is chunked (property)', () => {
    fc.assert(
      fc.property(fc.array(rawMessageArbitrary, { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 20 }), (raw, cuts) => {
        const bytes = encodeAll(raw);
        const messages = frameAll(chunked(bytes, cuts));
        expect(show(messages)).toEqual(show(raw));
        expect(Buffer.concat(messages.map((message) => message.frame)).equals(bytes)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('reassembles messages larger than the eager buffer from many chunks', () => {
    const big = Buffer.alloc(300_000, 0x61);
    const bytes = Buffer.concat([encodeMessage(0x64, big), encodeSync()]);
    const chunks: Buffer[] = [];
    for (let offset = 0; offset < bytes.length; offset += 65_536) chunks.push(bytes.subarray(offset, offset + 65_536));
    const messages = frameAll(chunks);
    expect(messages).toHaveLength(2);
    expect(messages[0]?.body.equals(big)).toBe(true);
    expect(messages[1]?.type).toBe(0x53);
  });

  it('refuses a declared length over the limit from the header alone, and stays failed', () => {
    const framer = new MessageFramer(1000);
    const header = Buffer.from([0x51, 0, 0, 0x03, 0xe9]); // length 1001
    expect(() => framer.push(header)).toThrow(MessageTooLargeError);
    try {
      new MessageFramer(1000).push(header);
    } catch (error) {
      expect(error).toMatchObject({ length: 1001, limit: 1000 });
      expect((error as Error).message).toMatch(/1001 bytes exceeds the 1000-byte limit/);
    }
    expect(() => framer.push(encodeSync())).toThrow(MessageTooLargeError);
    expect(new MessageFramer(1000).push(encodeMessage(0x51, Buffer.alloc(996)))).toHaveLength(1); // length exactly 1000
  });

  it('refuses a header split across chunks as soon as it is complete', () => {
    const framer = new MessageFramer(100);
    expect(framer.push(Buffer.from([0x51, 0, 0]))).toEqual([]);
    expect(() => framer.push(Buffer.from([0x10, 0x00]))).toThrow(MessageTooLargeError);
  });

  it('refuses a length below 4 (which counts itself)', () => {
    for (const length of [0, 3, -1, -2147483648]) {
      const header = Buffer.alloc(5);
      header[0] = 0x51;
      header.writeInt32BE(length, 1);
      expect(() => new MessageFramer(LIMIT).push(header), `length ${length}`).toThrow(MalformedMessageError);
    }
  });

  it('holds a truncated message without returning it (never a hang: push always returns)', () => {
    const framer = new MessageFramer(LIMIT);
    const query = encodeQuery('select 42');
    expect(framer.push(query.subarray(0, query.length - 1))).toEqual([]);
    expect(framer.buffered).toBe(query.length - 1);
    expect(framer.push(Buffer.alloc(0))).toEqual([]);
    expect(show(framer.push(query.subarray(query.length - 1)))).toEqual(show([{ type: 0x51, body: Buffer.from('select 42\0') }]));
  });
});

describe('decodeFrame', () => {
  it('reads exactly one whole message and refuses anything else', () => {
    const frame = encodeQuery('select 1');
    expect(decodeFrame(frame)).toMatchObject({ type: 0x51, body: Buffer.from('select 1\0') });
    expect(() => decodeFrame(frame.subarray(0, 4))).toThrow(MalformedMessageError);
    expect(() => decodeFrame(frame.subarray(0, frame.length - 1))).toThrow(MalformedMessageError);
    expect(() => decodeFrame(Buffer.concat([frame, encodeSync()]))).toThrow(MalformedMessageError);
  });
});

describe('StartupFramer', () => {
  const ssl = encodeSslRequest();
  const startup = encodeStartupMessage(new Map([['user', 'agent'], ['database', 'app']]));

  it('returns the packet body as a view and the bytes after it', () => {
    const chunk = Buffer.concat([startup, encodeQuery('select 1')]);
    const result = new StartupFramer(10_000).push(chunk);
    expect(result?.packet.equals(startup.subarray(4))).toBe(true);
    expect(result && sharesMemory(result.packet, chunk)).toBe(true);
    expect(result?.rest.equals(encodeQuery('select 1'))).toBe(true);
  });

  it('reads an SSLRequest and then the StartupMessage, cut anywhere', () => {
    const bytes = Buffer.concat([ssl, startup]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const framer = new StartupFramer();
      const packets: Buffer[] = [];
      let pending: Buffer[] = [bytes.subarray(0, cut), bytes.subarray(cut)];
      while (pending.length > 0) {
        const chunk = pending.shift() as Buffer;
        const result = framer.push(chunk);
        if (result) {
          packets.push(Buffer.from(result.packet));
          if (result.rest.length > 0) pending = [result.rest, ...pending];
        }
      }
      expect(packets.map((packet) => packet.toString('hex')), `cut at ${cut}`).toEqual([ssl.subarray(4).toString('hex'), startup.subarray(4).toString('hex')]);
      expect(framer.buffered).toBe(0);
    }
  });

  it('refuses lengths below 8 and above the limit', () => {
    expect(() => new StartupFramer().push(Buffer.from([0, 0, 0, 7, 0, 0, 0]))).toThrow(MalformedMessageError);
    expect(() => new StartupFramer(100).push(Buffer.from([0, 0, 0, 101]))).toThrow(MessageTooLargeError);
    expect(() => new StartupFramer().push(Buffer.from('GET / HTTP/1.1\r\n'))).toThrow(MessageTooLargeError);
    const split = new StartupFramer(100);
    expect(split.push(Buffer.from([0, 0]))).toBeNull();
    expect(() => split.push(Buffer.from([0, 3]))).toThrow(MalformedMessageError);
  });
});
