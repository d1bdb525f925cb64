/**
 * Side-band multiplexing: https://git-scm.com/docs/gitprotocol-capabilities#_side_band_side_band_64k
 * (framing in https://git-scm.com/docs/gitprotocol-pack#_packfile_data).
 *
 * Each pkt-line's first payload byte names its band: 1 data, 2 progress text (git prints it as
 * `remote: …`), 3 a fatal error (git prints `remote error: …` and gives up). `side-band` lines are
 * at most 1000 bytes, `side-band-64k` lines at most 65520, both counting header and band byte.
 */
import { PortcullisError } from '../../errors.ts';
import { MAX_PKT_LINE_LENGTH, concatBytes } from './pkt-line.ts';
import type { Pkt } from './pkt-line.ts';

/** Longest line, header and band byte included, once `side-band-64k` is negotiated. */
export const SIDE_BAND_64K_MAX = MAX_PKT_LINE_LENGTH;
/** Longest line, header and band byte included, with plain `side-band`. */
export const SIDE_BAND_MAX = 1000;

export type SideBand = 1 | 2 | 3;
export type SideBandPacket = { band: SideBand; payload: Uint8Array };
export type DemuxedSideBand = { data: Uint8Array; progress: string; error: string };

const HEADER_LENGTH = 4;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/**
 * `data` on `band`, cut into as many lines of at most `maxPkt` bytes as needed, the way git's
 * send_sideband() cuts it. Empty data gives no lines at all (a keepalive is `encodePktLine([1])`).
 */
export function encodeSideBand(band: SideBand, data: Uint8Array | string, maxPkt: number): Uint8Array {
  if (!Number.isInteger(maxPkt) || maxPkt > MAX_PKT_LINE_LENGTH) {
    throw new PortcullisError('PKT_LINE_TOO_LONG', `side-band line limit ${maxPkt} exceeds the ${MAX_PKT_LINE_LENGTH}-byte pkt-line limit`);
  }
  if (maxPkt < HEADER_LENGTH + 2) {
    throw new PortcullisError('PKT_LINE_INVALID', `side-band line limit ${maxPkt} leaves no room for data`);
  }
  const bytes = typeof data === 'string' ? textEncoder.encode(data) : data;
  const chunk = maxPkt - HEADER_LENGTH - 1;
  const lines = Math.ceil(bytes.length / chunk);
  const out = new Uint8Array(bytes.length + lines * (HEADER_LENGTH + 1));
  let offset = 0;
  for (let start = 0; start < bytes.length; start += chunk) {
    const part = bytes.subarray(start, start + chunk);
    out.set(textEncoder.encode((part.length + HEADER_LENGTH + 1).toString(16).padStart(HEADER_LENGTH, '0')), offset);
    out[offset + HEADER_LENGTH] = band;
    out.set(part, offset + HEADER_LENGTH + 1);
    offset += HEADER_LENGTH + 1 + part.length;
  }
  return out;
}

/** The band and payload of one side-band line; a flush ends the stream and is the caller's to spot. */
export function decodeSideBandPkt(pkt: Pkt): SideBandPacket {
  if (pkt.kind !== 'data') throw new PortcullisError('PKT_LINE_INVALID', `side-band stream has a ${pkt.kind} packet`);
  const band = pkt.payload[0];
  if (band !== 1 && band !== 2 && band !== 3) {
    // git says "protocol error: no band designator" / "bad band #N" for these.
    const shown = band === undefined ? 'an empty line' : `band ${band}`;
    throw new PortcullisError('PKT_LINE_INVALID', `side-band stream has ${shown}; expected band 1, 2 or 3`);
  }
  return { band, payload: pkt.payload.subarray(1) };
}

/** Streaming demultiplexer: one packet per line, ending at the flush that closes the stream (or at its end). */
export async function* readSideBand(pkts: AsyncIterable<Pkt>): AsyncGenerator<SideBandPacket> {
  for await (const pkt of pkts) {
    if (pkt.kind === 'flush') return;
    yield decodeSideBandPkt(pkt);
  }
}

/**
 * Every band of a side-band stream, read up to its closing flush (or its end). Band 1 is kept as
 * bytes (it may be pkt-lines of its own, as report-status is, or a PACK); bands 2 and 3 are joined
 * before decoding, since a UTF-8 character may straddle two lines.
 */
export function demuxSideBand(pkts: Iterable<Pkt>): DemuxedSideBand {
  const bands: Record<SideBand, Uint8Array[]> = { 1: [], 2: [], 3: [] };
  for (const pkt of pkts) {
    if (pkt.kind === 'flush') break;
    const { band, payload } = decodeSideBandPkt(pkt);
    bands[band].push(payload);
  }
  return {
    data: concatBytes(bands[1]),
    progress: textDecoder.decode(concatBytes(bands[2])),
    error: textDecoder.decode(concatBytes(bands[3])),
  };
}
