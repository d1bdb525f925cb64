import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSecretScanner, type SecretFinding, type SecretScanner } from '../../../src/scan/index.ts';
import { generateCorpus, type PositiveSample } from '../../fixtures/secrets/corpus.ts';
import { tokenProviders } from '../../fixtures/secrets/providers.ts';
import { input } from './scan-helpers.ts';

const corpus = generateCorpus();
let scanner: SecretScanner;
const results = new Map<PositiveSample, SecretFinding[]>();

beforeAll(async () => {
  scanner = await createSecretScanner();
  for (const sample of corpus.positives) results.set(sample, await scanner.scan(input(sample.path, sample.lines)));
});

describe('labelled corpus of FAKE credentials (test/fixtures/secrets)', () => {
  it('covers ~50 providers in many contexts', () => {
    const providers = new Set(corpus.positives.map((s) => s.provider));
    expect(providers.size).toBeGreaterThanOrEqual(50);
    expect(new Set(corpus.positives.map((s) => s.context)).size).toBeGreaterThanOrEqual(20);
    expect(corpus.negatives.length).toBeGreaterThanOrEqual(500);
  });

  it('finds ≥ 95 % of the planted credentials and flags ≤ 2 % of the hard negatives', async () => {
    const missed = corpus.positives.filter((s) => !results.get(s)!.some((f) => f.line === s.line));
    const recall = 1 - missed.length / corpus.positives.length;

    const flagged: string[] = [];
    for (const sample of corpus.negatives) {
      const findings = await scanner.scan(input(sample.path, sample.lines));
      if (findings.length > 0) flagged.push(`${sample.kind}: ${findings.map((f) => `${f.ruleId}@${f.line}`).join(', ')}`);
    }
    const falsePositiveRate = flagged.length / corpus.negatives.length;

    const byContext = new Map<string, { found: number; total: number }>();
    for (const sample of corpus.positives) {
      const row = byContext.get(sample.context) ?? { found: 0, total: 0 };
      row.total += 1;
      if (!missed.includes(sample)) row.found += 1;
      byContext.set(sample.context, row);
    }
    console.log(
      [
        `secret scanner recall: ${(recall * 100).toFixed(1)} % (${corpus.positives.length - missed.length}/${corpus.positives.length} FAKE credentials, ${new Set(corpus.positives.map((s) => s.provider)).size} providers)`,
        `secret scanner false positives: ${(falsePositiveRate * 100).toFixed(1)} % (${flagged.length}/${corpus.negatives.length} hard negatives)`,
        `by context: ${[...byContext].map(([c, r]) => `${c} ${r.found}/${r.total}`).join(', ')}`,
        ...missed.map((s) => `  missed ${s.provider} in ${s.context}`),
        ...flagged.map((f) => `  flagged ${f}`),
      ].join('\n'),
    );
    expect(recall).toBeGreaterThanOrEqual(0.95);
    expect(falsePositiveRate).toBeLessThanOrEqual(0.02);
  });

  it('names the expected rule for nearly every credential it finds', () => {
    const found = corpus.positives.filter((s) => results.get(s)!.some((f) => f.line === s.line));
    const right = found.filter((s) => results.get(s)!.some((f) => f.line === s.line && f.ruleId === s.ruleId));
    expect(right.length / found.length).toBeGreaterThanOrEqual(0.97);
  });

  it('never reports a secret: previews show the public prefix and at most 4 characters', () => {
    for (const sample of corpus.positives) {
      for (const finding of results.get(sample)!) {
        expect(JSON.stringify(finding)).not.toContain(sample.secret);
        const [shown] = finding.preview.split('…');
        expect(finding.preview).toMatch(/…\[redacted \d+ chars\]$/);
        const provider = tokenProviders.find((p) => p.name === sample.provider);
        if (provider && sample.secret.startsWith(shown!)) expect(shown!.length).toBeLessThanOrEqual(Math.max(provider.prefixLength, 13) + 4);
      }
    }
  });

  it('fingerprints the secret value itself, decoded when it was found encoded', () => {
    const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
    const tokens = corpus.positives.filter((s) => tokenProviders.some((p) => p.name === s.provider));
    let checked = 0;
    for (const sample of tokens) {
      const finding = results.get(sample)!.find((f) => f.line === sample.line && f.ruleId === sample.ruleId);
      if (!finding || ['azure-storage-key', 'slack-webhook', 'discord-webhook'].includes(sample.ruleId)) continue;
      expect(finding.fingerprint, `${sample.provider} in ${sample.context}`).toBe(sha256(sample.secret));
      checked += 1;
    }
    expect(checked).toBeGreaterThan(500);
  });
});
