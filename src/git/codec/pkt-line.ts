/**
 * pkt-line framing: https://git-scm.com/docs/gitprotocol-common#_pkt_line_format
 * plus v2's special packets: https://git-scm.com/docs/gitprotocol-v2#_packet_line_framing
 *
 * A line is a 4-hex-digit length (counting the header itself) and the payload. `0000` flush,
 * `0001` delim and `0002` response-end carry no payload; `0003` can never be valid.
 */
import { PortcullisError } from '../../errors.ts';

export type Pkt = { kind: 'data'; payload: Uint8Array } | { kind: 'flush' } | { kind: 'delim' } | { kind: 'response-end' };

/** Longest whole line, header included (65516 payload bytes + 4). git refuses anything longer. */
export const MAX_PKT_LINE_LENGTH = 65520;

const HEADER_LENGTH = 4;
// Shared by every decoded special packet, hence frozen.
const FLUSH: Pkt = Object.freeze({ kind: 'flush' });
const DELIM: Pkt = Object.freeze({ kind: 'delim' });
const RESPONSE_END: Pkt = Object.freeze({ kind: 'response-end' });
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();
const NOT_GIT_HINT = 'The body is not git pkt-line framing; check that the client speaks git smart HTTP.';

export function encodePktLine(payload: Uint8Array | string): Uint8Array {
  const bytes = typeof payload === 'string' ? textEncoder.encode(payload) : payload;
  const length = bytes.length + HEADER_LENGTH;
  if (length > MAX_PKT_LINE_LENGTH) {
    throw new PortcullisError('PKT_LINE_TOO_LONG', `pkt-line payload of ${bytes.length} bytes exceeds the ${MAX_PKT_LINE_LENGTH - HEADER_LENGTH}-byte limit`);
  }
  const line = new Uint8Array(length);
  line.set(textEncoder.encode(length.toString(16).padStart(HEADER_LENGTH, '0')), 0);
  line.set(bytes, HEADER_LENGTH);
  return line;
}

export function encodeFlush(): Uint8Array {
  return textEncoder.encode('0000');
}

export function encodeDelim(): Uint8Array {
  return textEncoder.encode('0001');
}

export function encodeResponseEnd(): Uint8Array {
  return textEncoder.encode('0002');
}

/** Frames back to bytes, in one allocation: the inverse of `decodePktLinePrefix`. */
export function encodePktLines(pkts: Iterable<Pkt>): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const pkt of pkts) {
    if (pkt.kind === 'data') parts.push(encodePktLine(pkt.payload));
    else if (pkt.kind === 'flush') parts.push(encodeFlush());
    else if (pkt.kind === 'delim') parts.push(encodeDelim());
    else parts.push(encodeResponseEnd());
  }
  return concatBytes(parts);
}

/** One buffer of all parts, in order (the codecs build messages from small pieces). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

/** The payload as text, without the trailing LF that senders SHOULD add and receivers MUST ignore. */
export function pktText(payload: Uint8Array): string {
  const end = payload.length > 0 && payload[payload.length - 1] === 0x0a ? payload.length - 1 : payload.length;
  return textDecoder.decode(payload.subarray(0, end));
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37; // git's hexval() accepts upper case too
  return -1;
}

// decodePktLength, slicePkt and getFrameLength are shared with pkt-line-reader.ts and left out of
// index.ts: callers use the decoders, not these steps.

/**
 * Reads the 4-byte header at `offset` (the caller guarantees 4 bytes) and returns the whole line's
 * length: 0, 1, 2 for the special packets, otherwise 4..MAX_PKT_LINE_LENGTH. Throws on bad framing.
 */
export function decodePktLength(bytes: Uint8Array, offset: number): number {
  let length = 0;
  for (let i = offset; i < offset + HEADER_LENGTH; i++) {
    const digit = hexValue(bytes[i] ?? -1);
    if (digit < 0) {
      const shown = JSON.stringify(String.fromCharCode(...bytes.subarray(offset, offset + HEADER_LENGTH)));
      throw new PortcullisError('PKT_LINE_INVALID', `pkt-line length ${shown} is not 4 hex digits`, { hint: NOT_GIT_HINT });
    }
    length = length * 16 + digit;
  }
  if (length === 3) throw new PortcullisError('PKT_LINE_INVALID', 'pkt-line length 0003 is not valid', { hint: NOT_GIT_HINT });
  if (length > MAX_PKT_LINE_LENGTH) {
    throw new PortcullisError('PKT_LINE_TOO_LONG', `pkt-line length ${length} exceeds the ${MAX_PKT_LINE_LENGTH}-byte limit`);
  }
  return length;
}

/** The frame for a line of `length` whose bytes start at `offset`; data payloads are views, not copies. */
export function slicePkt(bytes: Uint8Array, offset: number, length: number): Pkt {
  if (length === 0) return FLUSH;
  if (length === 1) return DELIM;
  if (length === 2) return RESPONSE_END;
  return { kind: 'data', payload: bytes.subarray(offset + HEADER_LENGTH, offset + length) };
}

/** Whole line length for a header-decoded length: specials are just their header. */
export function getFrameLength(length: number): number {
  return length < HEADER_LENGTH ? HEADER_LENGTH : length;
}

export type DecodedPktLinePrefix = { pkts: Pkt[]; truncated: boolean; restOffset: number };

/**
 * Decodes whole lines from a captured prefix of a body (e.g. the first kilobytes logged for audit).
 * A line cut off by the end of `bytes` is expected there, so it is reported as `truncated`, not
 * thrown; `restOffset` is where undecoded bytes begin. With `stopAfterFlush` decoding ends at the
 * first flush, so a receive-pack PACK that follows the command list is never read as pkt-lines.
 */
export function decodePktLinePrefix(bytes: Uint8Array, options: { stopAfterFlush?: boolean } = {}): DecodedPktLinePrefix {
  const pkts: Pkt[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < HEADER_LENGTH) return { pkts, truncated: true, restOffset: offset };
    const length = decodePktLength(bytes, offset);
    if (bytes.length - offset < getFrameLength(length)) return { pkts, truncated: true, restOffset: offset };
    const pkt = slicePkt(bytes, offset, length);
    pkts.push(pkt);
    offset += getFrameLength(length);
    if (options.stopAfterFlush && pkt.kind === 'flush') break;
  }
  return { pkts, truncated: false, restOffset: offset };
}
