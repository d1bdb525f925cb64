import type { Readable } from 'node:stream';

export interface ByteObserver {
  /** Bytes seen so far. */
  readonly bytes: number;
  /** The first bytes of the stream, up to the capture limit, for parsing what was asked. */
  prefix(): Buffer;
}

/**
 * Counts (and captures the start of) a stream that is being piped elsewhere, without joining the
 * pipe: a second 'data' listener sees the same chunks, so backpressure and zero-copy stay intact.
 */
export function observeBytes(stream: Readable, captureLimit = 0): ByteObserver {
  let bytes = 0;
  const captured: Buffer[] = [];
  let capturedBytes = 0;
  stream.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (capturedBytes < captureLimit) {
      const take = chunk.subarray(0, captureLimit - capturedBytes);
      captured.push(Buffer.from(take));
      capturedBytes += take.length;
    }
  });
  return {
    get bytes() {
      return bytes;
    },
    prefix: () => Buffer.concat(captured),
  };
}
