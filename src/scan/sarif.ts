/**
 * Findings as SARIF 2.1.0 (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html), the
 * format GitHub code scanning uploads. The secret never appears: the message carries the redacted
 * preview, `partialFingerprints` the sha256 fingerprint (so alerts follow a secret across edits).
 */
import type { SecretFinding } from './types.ts';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

export interface SarifFinding extends SecretFinding {
  commit?: string;
}

export interface SarifLog {
  version: '2.1.0';
  $schema: string;
  runs: SarifRun[];
}

interface SarifRun {
  tool: { driver: { name: string; version: string; informationUri: string; rules: SarifRule[] } };
  columnKind: 'utf16CodeUnits';
  results: SarifResult[];
}

interface SarifRule {
  id: string;
  name: string;
  shortDescription: { text: string };
  fullDescription: { text: string };
  defaultConfiguration: { level: 'error' };
  properties: { tags: string[]; precision: 'high' | 'medium'; 'security-severity': string };
}

interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: 'error';
  message: { text: string };
  locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number; startColumn: number } } }>;
  partialFingerprints: { 'secretSha256/v1': string };
  properties: { preview: string; fingerprint: string; commit?: string };
}

/** Rule ids found by keyword and value shape rather than by a provider's own format. */
const HEURISTIC_RULES = new Set(['generic-secret', 'bearer-token', 'basic-auth-header', 'cli-password', 'url-password']);

export function toSarif(findings: readonly SarifFinding[], tool: { version: string; informationUri?: string }): SarifLog {
  const rules: SarifRule[] = [];
  const ruleIndex = new Map<string, number>();
  for (const finding of findings) {
    if (ruleIndex.has(finding.ruleId)) continue;
    ruleIndex.set(finding.ruleId, rules.length);
    const description = finding.message.replace(/ \(found [^)]*\)$/, '');
    rules.push({
      id: finding.ruleId,
      name: finding.ruleId.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase()),
      shortDescription: { text: description.split(':')[0]! },
      fullDescription: { text: description },
      defaultConfiguration: { level: 'error' },
      properties: { tags: ['security', 'secret'], precision: HEURISTIC_RULES.has(finding.ruleId) ? 'medium' : 'high', 'security-severity': '9.0' },
    });
  }
  return {
    version: '2.1.0',
    $schema: SARIF_SCHEMA,
    runs: [
      {
        tool: { driver: { name: 'portcullis', version: tool.version, informationUri: tool.informationUri ?? 'https://www.npmjs.com/package/portcullis', rules } },
        columnKind: 'utf16CodeUnits',
        results: findings.map((finding) => ({
          ruleId: finding.ruleId,
          ruleIndex: ruleIndex.get(finding.ruleId)!,
          level: 'error',
          message: { text: `${finding.message}. Secret: ${finding.preview}${finding.commit ? `, added in ${finding.commit.slice(0, 12)}` : ''}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: toUri(finding.path) },
                region: { startLine: finding.line, startColumn: finding.column },
              },
            },
          ],
          partialFingerprints: { 'secretSha256/v1': finding.fingerprint },
          properties: { preview: finding.preview, fingerprint: finding.fingerprint, ...(finding.commit ? { commit: finding.commit } : {}) },
        })),
      },
    ],
  };
}

/** A relative URI reference (RFC 3986): forward slashes, each segment percent-encoded. */
function toUri(filePath: string): string {
  return filePath
    .replace(/\\/g, '/')
    .replace(/^\.\//, '')
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}
