import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lintSource } from '@secretlint/core';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import { describe, expect, it } from 'vitest';
import { isPortcullisError } from '../../../src/errors.ts';
import { buildKeywordIndex, type KeywordHits } from '../../../src/scan/keyword-index.ts';
import { loadSecretlintRules } from '../../../src/scan/secretlint/config.ts';
import { SECRETLINT_KEYWORDS, createSecretlintEngine } from '../../../src/scan/secretlint/engine.ts';
import { generateCorpus } from '../../fixtures/secrets/corpus.ts';

describe('rules/secretlint.json', () => {
  it('is the preset with AWS ID scanning on, account ids allowed and comment filters off', async () => {
    const rules = await loadSecretlintRules();
    const ids = rules.map((r) => r.id);
    expect(ids).toContain('@secretlint/secretlint-rule-github');
    expect(ids).not.toContain('@secretlint/secretlint-rule-filter-comments');
    expect(rules.find((r) => r.id === '@secretlint/secretlint-rule-aws')).toMatchObject({
      options: { enableIDScanRule: true },
      allowMessageIds: ['AWSAccountID'],
    });
  });

  it('has prefilter keywords for every rule the preset ships (a new rule would otherwise run on every chunk)', () => {
    expect(recommended.rules.map((r) => r.meta.id).filter((id) => !SECRETLINT_KEYWORDS.has(id))).toEqual([]);
  });

  it.each([
    ['not JSON', '{ rules: '],
    ['an unknown preset', JSON.stringify({ rules: [{ id: 'secretlint-rule-from-somewhere' }] })],
    ['an unknown rule of the preset', JSON.stringify({ rules: [{ id: recommended.meta.id, rules: [{ id: 'nope' }] }] })],
  ])('refuses %s with CONFIG_INVALID', async (_, text) => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'pcl-secretlint-')), 'secretlint.json');
    await writeFile(file, text);
    const error = await loadSecretlintRules(file).catch((e: unknown) => e);
    expect(isPortcullisError(error) && error.code).toBe('CONFIG_INVALID');
  });
});

describe('keyword prefilter', () => {
  it('switches on every rule that would report something (same messages as running them all)', async () => {
    const rules = await loadSecretlintRules();
    const engine = await createSecretlintEngine();
    const index = buildKeywordIndex([], SECRETLINT_KEYWORDS);
    const { positives } = generateCorpus(99);
    let compared = 0;
    for (const sample of positives) {
      const content = sample.lines.join('\n');
      const all = await lintSource({
        source: { filePath: sample.path, content, contentType: 'text', ext: path.extname(sample.path) },
        options: { config: { rules }, noPhysicFilePath: true },
      });
      const hits: KeywordHits = { secretlintRules: new Set() };
      index.search(content, hits);
      for (const message of all.messages) expect(hits.secretlintRules, `${message.ruleId} in ${sample.provider}/${sample.context}`).toContain(message.ruleId);
      compared += all.messages.length;
      expect(Array.isArray(await engine.lint(content, sample.path, hits.secretlintRules))).toBe(true);
    }
    expect(compared).toBeGreaterThan(100);
  });
});
