/**
 * Message framing: https://www.postgresql.org/docs/current/protocol-overview.html#PROTOCOL-MESSAGE-CONCEPTS
 * and the untyped startup packets of https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP
 *
 * Every message after startup is a type byte, an Int32 length that counts itself (so at least 4) but
 * not the type byte, and the body. Framing is zero-copy in the common case: a message lying inside
 * one chunk is handed out as subarrays of that chunk, as postgres.js does; only a message split
 * across chunks is copied, once (see SplitFrame). The declared length is checked against the limit
 * before anything is buffered.
 */
import { MalformedMessageError, MessageTooLargeError } from './errors.ts';
import { SplitFrame } from './split-frame.ts';

export { MalformedMessageError, MessageTooLargeError } from './errors.ts';

export interface PgMessage {
  /** The tag byte, e.g. 0x51 'Q'; see FrontendType / BackendType. */
  type: number;
  /** Without tag and length. */
  body: Buffer;
  /** The whole message including tag and length, for forwarding untouched. */
  frame: Buffer;
}

/** PostgreSQL's own cap on a startup packet (MAX_STARTUP_PACKET_LENGTH in libpq/pqcomm.h). */
export const MAX_STARTUP_PACKET_BYTES = 10_000;

const MESSAGE_HEADER = 5;
const STARTUP_HEADER = 4;
/** Length Int32 plus the request/protocol code Int32. */
const MIN_STARTUP_LENGTH = 8;

/**
 * Splits a byte stream of typed messages (either direction) into messages. Pushed chunks must not be
 * mutated afterwards: messages are views into them, and a large split message references them until
 * it completes (Node's socket 'data' chunks are fresh buffers, so this holds by default).
 */
export class MessageFramer {
  private readonly split: SplitFrame;
  private failure: Error | null = null;

  /** `maxMessageBytes` bounds the declared length (which counts the 4 length bytes, not the type byte). */
  constructor(private readonly maxMessageBytes: number) {
    this.split = new SplitFrame(MESSAGE_HEADER, (header, offset) => this.frameLengthAt(header, offset));
  }

  /**
   * The messages completed by `chunk`, in order. Throws MessageTooLargeError or MalformedMessageError
   * at the first bad header; the stream cannot be resynchronised, so every later push throws the same
   * error (messages before the bad one in the same chunk are not returned either).
   */
  push(chunk: Buffer): PgMessage[] {
    if (this.failure) throw this.failure;
    try {
      return this.frames(chunk);
    } catch (error) {
      this.failure = error as Error;
      this.split.clear();
      throw error;
    }
  }

  /** Bytes held for a message not yet complete. */
  get buffered(): number {
    return this.split.buffered;
  }

  private frames(chunk: Buffer): PgMessage[] {
    const messages: PgMessage[] = [];
    let offset = 0;
    if (this.split.active) {
      const taken = this.split.take(chunk, 0);
      offset = taken.offset;
      if (taken.frame === null) return messages;
      messages.push(messageOf(taken.frame));
    }
    while (chunk.length - offset >= MESSAGE_HEADER) {
      const end = offset + this.frameLengthAt(chunk, offset);
      if (end > chunk.length) break;
      messages.push({ type: chunk[offset] as number, body: chunk.subarray(offset + MESSAGE_HEADER, end), frame: chunk.subarray(offset, end) });
      offset = end;
    }
    if (offset < chunk.length) this.split.take(chunk, offset);
    return messages;
  }

  private frameLengthAt(bytes: Buffer, offset: number): number {
    const length = bytes.readInt32BE(offset + 1);
    if (length < 4) {
      throw new MalformedMessageError(`invalid message length ${length} for message type 0x${(bytes[offset] as number).toString(16).padStart(2, '0')} (at least 4)`);
    }
    if (length > this.maxMessageBytes) throw new MessageTooLargeError(length, this.maxMessageBytes);
    return length + 1;
  }
}

/** One whole frame (tag, length, body) as a PgMessage; for callers that already hold exactly one message. */
export function decodeFrame(frame: Buffer): PgMessage {
  if (frame.length < MESSAGE_HEADER) throw new MalformedMessageError(`a message needs at least ${MESSAGE_HEADER} bytes, got ${frame.length}`);
  const length = frame.readInt32BE(1);
  if (length + 1 !== frame.length) throw new MalformedMessageError(`message declares length ${length} but the frame holds ${frame.length - 1}`);
  return messageOf(frame);
}

function messageOf(frame: Buffer): PgMessage {
  return { type: frame[0] as number, body: frame.subarray(MESSAGE_HEADER), frame };
}

/**
 * The untyped startup packet (Int32 length including itself, then the body). After one packet it
 * resets, so the same framer reads the StartupMessage that follows an SSLRequest. `rest` is whatever
 * followed the packet in the chunk; after an SSLRequest it must be empty (bytes sent before the TLS
 * handshake are a known injection, CVE-2021-23214), which the caller checks.
 */
export class StartupFramer {
  private readonly split: SplitFrame;

  constructor(private readonly maxBytes: number = MAX_STARTUP_PACKET_BYTES) {
    this.split = new SplitFrame(STARTUP_HEADER, (header, offset) => this.packetLengthAt(header, offset));
  }

  /** The packet body (after the length) once complete, else null. Throws like MessageFramer. */
  push(chunk: Buffer): { packet: Buffer; rest: Buffer } | null {
    if (!this.split.active && chunk.length >= STARTUP_HEADER) {
      const end = this.packetLengthAt(chunk, 0);
      if (end <= chunk.length) return { packet: chunk.subarray(STARTUP_HEADER, end), rest: chunk.subarray(end) };
    }
    const taken = this.split.take(chunk, 0);
    if (taken.frame === null) return null;
    return { packet: taken.frame.subarray(STARTUP_HEADER), rest: chunk.subarray(taken.offset) };
  }

  get buffered(): number {
    return this.split.buffered;
  }

  private packetLengthAt(bytes: Buffer, offset: number): number {
    const length = bytes.readInt32BE(offset);
    if (length < MIN_STARTUP_LENGTH) {
      this.split.clear();
      throw new MalformedMessageError(`invalid startup packet length ${length} (at least ${MIN_STARTUP_LENGTH}); is the client speaking the PostgreSQL protocol?`);
    }
    if (length > this.maxBytes) {
      this.split.clear();
      throw new MessageTooLargeError(length, this.maxBytes);
    }
    return length;
  }
}
