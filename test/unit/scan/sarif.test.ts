import { describe, expect, it } from 'vitest';
import { toSarif, type SarifFinding } from '../../../src/scan/index.ts';

const finding = (over: Partial<SarifFinding> = {}): SarifFinding => ({
  ruleId: 'github-token',
  message: 'GitHub token: revoke it (found base64-encoded)',
  path: 'dir with space/a.ts',
  line: 3,
  column: 7,
  preview: 'ghp_abcd…[redacted 36 chars]',
  fingerprint: 'f'.repeat(64),
  ...over,
});

describe('toSarif', () => {
  it('writes a SARIF 2.1.0 log GitHub code scanning accepts', () => {
    const log = toSarif([finding(), finding({ ruleId: 'generic-secret', message: 'hard-coded password', commit: 'c'.repeat(40), line: 9 }), finding({ line: 12 })], { version: '0.1.0' });
    expect(log.version).toBe('2.1.0');
    expect(log.$schema).toMatch(/sarif-2\.1\.0/);
    expect(log.runs).toHaveLength(1);
    const [run] = log.runs;
    expect(run!.tool.driver).toMatchObject({ name: 'portcullis', version: '0.1.0' });
    expect(run!.tool.driver.rules.map((r) => r.id)).toEqual(['github-token', 'generic-secret']);
    for (const rule of run!.tool.driver.rules) {
      expect(rule.shortDescription.text.length).toBeGreaterThan(0);
      expect(rule.fullDescription.text).not.toMatch(/found base64/);
    }
    expect(run!.results).toHaveLength(3);
    for (const result of run!.results) {
      expect(run!.tool.driver.rules[result.ruleIndex]!.id).toBe(result.ruleId);
      expect(result.level).toBe('error');
      expect(result.message.text).toContain('…[redacted');
      const location = result.locations[0]!.physicalLocation;
      expect(location.artifactLocation.uri).toBe('dir%20with%20space/a.ts');
      expect(location.region.startLine).toBeGreaterThanOrEqual(1);
      expect(location.region.startColumn).toBe(7);
      expect(result.partialFingerprints['secretSha256/v1']).toBe('f'.repeat(64));
    }
    expect(run!.results[1]!.properties.commit).toBe('c'.repeat(40));
  });

  it('writes an empty run when nothing was found', () => {
    expect(toSarif([], { version: '1' }).runs[0]).toMatchObject({ results: [], tool: { driver: { rules: [] } } });
  });
});
