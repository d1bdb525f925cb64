// Pure git smart-HTTP wire codecs (https://git-scm.com/docs/gitprotocol-http); each file links its spec section.
export {
  MAX_PKT_LINE_LENGTH,
  decodePktLinePrefix,
  encodeDelim,
  encodeFlush,
  encodePktLine,
  encodePktLines,
  encodeResponseEnd,
  pktText,
} from './pkt-line.ts';
export type { DecodedPktLinePrefix, Pkt } from './pkt-line.ts';
export { createPktLineReader, readPktLines } from './pkt-line-reader.ts';
export type { PktLineReader } from './pkt-line-reader.ts';
export { ZERO_OID, isOid, isZeroOid } from './oid.ts';
export { parseUploadPackRequest } from './upload-pack-request.ts';
export type { UploadPackRequest, UploadPackRequestV0, UploadPackRequestV2 } from './upload-pack-request.ts';
export { parseReceivePackCommands, writeReceivePackCommands } from './receive-pack-commands.ts';
export type { ReceivePackCommand, ReceivePackCommands } from './receive-pack-commands.ts';
export { SIDE_BAND_64K_MAX, SIDE_BAND_MAX, decodeSideBandPkt, demuxSideBand, encodeSideBand, readSideBand } from './side-band.ts';
export type { DemuxedSideBand, SideBand, SideBandPacket } from './side-band.ts';
export { parseReportStatus, writeReportStatus } from './report-status.ts';
export type { RefStatus, RefStatusOptions, ReportStatus, ReportStatusSideBand, WriteReportStatusOptions } from './report-status.ts';
