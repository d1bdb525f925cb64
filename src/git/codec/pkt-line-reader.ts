/**
 * Streaming pkt-line reader: https://git-scm.com/docs/gitprotocol-common#_pkt_line_format
 *
 * Bodies arrive in chunks that ignore line boundaries. Lines that fit inside one chunk are handed
 * out as zero-copy views; a line spanning chunks is joined with a single copy once all its bytes
 * are in. A receive-pack body is pkt-lines followed by a raw PACK
 * (https://git-scm.com/docs/gitprotocol-pack#_reference_update_request_and_packfile_transfer),
 * so the reader can stop and hand back the unread remainder via `rest()`.
 */
import { PortcullisError } from '../../errors.ts';
import { decodePktLength, getFrameLength, slicePkt } from './pkt-line.ts';
import type { Pkt } from './pkt-line.ts';

export type PktLineReader = {
  /** The next frame, or `undefined` when the stream ended cleanly between lines. */
  next(): Promise<Pkt | undefined>;
  /** Every byte not yet decoded (buffered first, then the rest of the source). Call `next()` no more after this. */
  rest(): AsyncIterable<Uint8Array>;
};

const EMPTY: Uint8Array = new Uint8Array(0);

function joinChunks(parts: Uint8Array[], total: number): Uint8Array {
  const nonEmpty = parts.filter((part) => part.length > 0);
  if (nonEmpty.length === 1) return nonEmpty[0] ?? EMPTY;
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of nonEmpty) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

export function createPktLineReader(src: AsyncIterable<Uint8Array>): PktLineReader {
  const source = src[Symbol.asyncIterator]();
  let buffer: Uint8Array = EMPTY; // undecoded bytes live in buffer[position..]
  let position = 0;
  let ended = false;

  /** Makes at least `count` bytes available; false if the source ends first. */
  async function fill(count: number): Promise<boolean> {
    const available = buffer.length - position;
    if (available >= count) return true;
    // Collect chunks first and join once: appending per chunk would copy quadratically.
    const parts = [buffer.subarray(position)];
    let total = available;
    while (total < count && !ended) {
      const chunk = await source.next();
      if (chunk.done) ended = true;
      else {
        parts.push(chunk.value);
        total += chunk.value.length;
      }
    }
    buffer = joinChunks(parts, total);
    position = 0;
    return total >= count;
  }

  function truncated(): PortcullisError {
    return new PortcullisError('PKT_LINE_TRUNCATED', 'the stream ended in the middle of a pkt-line', {
      hint: 'The connection was cut short; retry the git command.',
    });
  }

  async function next(): Promise<Pkt | undefined> {
    if (!(await fill(4))) {
      if (buffer.length === position) return undefined;
      throw truncated();
    }
    const length = decodePktLength(buffer, position);
    const frame = getFrameLength(length);
    if (!(await fill(frame))) throw truncated();
    const pkt = slicePkt(buffer, position, length);
    position += frame;
    return pkt;
  }

  async function* rest(): AsyncGenerator<Uint8Array> {
    const buffered = buffer.subarray(position);
    buffer = EMPTY;
    position = 0;
    if (buffered.length > 0) yield buffered;
    while (!ended) {
      const chunk = await source.next();
      if (chunk.done) ended = true;
      else yield chunk.value;
    }
  }

  return { next, rest };
}

/** Every frame of `src`, in order; throws a PortcullisError on bad framing or a cut-off line. */
export async function* readPktLines(src: AsyncIterable<Uint8Array>): AsyncGenerator<Pkt> {
  const reader = createPktLineReader(src);
  for (let pkt = await reader.next(); pkt !== undefined; pkt = await reader.next()) yield pkt;
}
