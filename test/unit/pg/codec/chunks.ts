import fc from 'fast-check';
import { encodeMessage } from '../../../../src/pg/codec/index.ts';

/** `bytes` cut at `cuts` (any numbers; reduced to sorted in-range offsets), empty chunks included. */
export function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const offsets = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const offset of [...offsets, bytes.length]) {
    chunks.push(bytes.subarray(start, offset));
    start = offset;
  }
  return chunks;
}

/** A fresh copy, so a test can tell zero-copy views from copies. */
export function copyOf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes);
}

export const rawMessageArbitrary = fc.record({
  type: fc.integer({ min: 0, max: 255 }),
  body: fc.uint8Array({ maxLength: 80 }).map((bytes) => Buffer.from(bytes)),
});

export function encodeAll(messages: { type: number; body: Buffer }[]): Buffer {
  return Buffer.concat(messages.map((message) => encodeMessage(message.type, message.body)));
}

/** True when `view` lies inside `chunk`'s memory. */
export function sharesMemory(view: Buffer, chunk: Buffer): boolean {
  return view.buffer === chunk.buffer && view.byteOffset >= chunk.byteOffset && view.byteOffset + view.length <= chunk.byteOffset + chunk.length;
}

/** Messages as type and hex body, which toEqual compares by value (frames are checked separately). */
export function show(messages: { type: number; body: Buffer }[]): { type: number; body: string }[] {
  return messages.map((message) => ({ type: message.type, body: message.body.toString('hex') }));
}
