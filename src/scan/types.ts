/** What the scanner reports: where a secret is and how to recognise it again, never the secret itself. */
export interface SecretFinding {
  /** Stable id of the rule that fired, e.g. 'aws-access-key', 'github-token', 'private-key'. */
  ruleId: string;
  /** For people; never contains the secret. */
  message: string;
  path: string;
  /** 1-based line in the (new version of the) file. */
  line: number;
  /** 1-based column where the secret (or its encoded form) starts. */
  column: number;
  /** Redacted: the public prefix (e.g. `ghp_`), at most 4 characters of the secret, its length. */
  preview: string;
  /** sha256 hex of the secret value itself (decoded when it was found encoded). */
  fingerprint: string;
}

/**
 * The text to scan: e.g. the ADDED lines of one file in one commit, with their line numbers in the
 * new file. Consecutive line numbers may hold a multi-line secret (a PEM private key).
 */
export interface ScanInput {
  path: string;
  lines: Array<{ line: number; text: string }>;
}

export interface SecretScanner {
  /** Rejects with PortcullisError('SCAN_FAILED') when the scan throws or runs past `timeoutMs`. */
  scan(input: ScanInput): Promise<SecretFinding[]>;
}

export interface SecretScannerOptions {
  /** Fingerprints (sha256 hex, as printed by `portcullis scan`) that are never reported. */
  allowFingerprints?: readonly string[];
  /** One `scan()` call must finish within this many milliseconds (default: no limit). */
  timeoutMs?: number;
}
