export { canonicalJson } from './canonical.ts';
export { CHAIN_START, GENESIS_HASH, chainEvents, eventHash, type AuditEventBody, type ChainedEvent } from './event.ts';
export {
  CHECKPOINT_EVENT_TYPE,
  checkpointEventBody,
  generateSigningKey,
  publicKeyId,
  signCheckpoint,
  verifyCheckpoint,
  type Checkpoint,
} from './checkpoint.ts';
export { ChainVerifier, type ChainProblem, type ChainVerifierOptions, type VerifyResult } from './verify.ts';
export { AuditExportFormatError, exportLine, verifyExport, type ExportHeader, type ExportLine } from './export-format.ts';
