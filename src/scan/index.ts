// Secret scanning (DESIGN.md "Write (push)", step 5): secretlint's preset plus our own rules over
// the added lines of a file; findings carry a redacted preview and a fingerprint, never the secret.
export { ALLOW_MARKER, createSecretScanner } from './scanner.ts';
export type { ScanInput, SecretFinding, SecretScanner, SecretScannerOptions } from './types.ts';
export { toSarif } from './sarif.ts';
export type { SarifFinding, SarifLog } from './sarif.ts';
export { readFileInputs } from './inputs/files.ts';
export type { FileInput, FileSkipReason } from './inputs/files.ts';
export { readRangeAddedLines } from './inputs/git-range.ts';
export { createPatchReader } from './inputs/patch.ts';
export type { AddedFile, SkippedFile } from './inputs/patch.ts';
export { createSecretScannerPool, type SecretScannerPool } from './pool.ts';
