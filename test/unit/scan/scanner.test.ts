import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { beforeAll, describe, expect, it } from 'vitest';
import { isPortcullisError } from '../../../src/errors.ts';
import { ALLOW_MARKER, createSecretScanner, type ScanInput, type SecretScanner } from '../../../src/scan/index.ts';
import { fakeGitHubToken, pemLines, privateKeys, tokenProviders } from '../../fixtures/secrets/providers.ts';
import { createRng } from '../../fixtures/secrets/random.ts';
import { input } from './scan-helpers.ts';

const rng = createRng(7);
const fake = (ruleId: string) => tokenProviders.find((p) => p.ruleId === ruleId)!.make(rng);
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let scanner: SecretScanner;
beforeAll(async () => {
  scanner = await createSecretScanner();
});

describe('findings', () => {
  it('give the 1-based line and column, a redacted preview and the sha256 of the secret', async () => {
    const token = fakeGitHubToken(rng);
    const [finding] = await scanner.scan(input('src/app.ts', ['// FAKE test credential', `const t = "${token}";`], 40));
    expect(finding).toEqual({
      ruleId: 'github-token',
      message: expect.stringContaining('GitHub token'),
      path: 'src/app.ts',
      line: 41,
      column: 12,
      preview: `${token.slice(0, 8)}…[redacted 36 chars]`,
      fingerprint: sha256(token),
    });
  });

  it('report one finding per secret and line, from the most specific rule', async () => {
    const key = fake('anthropic-api-key');
    const findings = await scanner.scan(input('.env', [`api_key = "${key}"  # FAKE test credential`]));
    expect(findings.map((f) => f.ruleId)).toEqual(['anthropic-api-key']);
  });

  it('drop GitHub look-alikes whose checksum is wrong, though secretlint reports them', async () => {
    const bad = `${fakeGitHubToken(rng).slice(0, -1)}0`;
    expect(await scanner.scan(input('doc.md', [`use ${bad} here`]))).toEqual([]);
  });

  it('find a PEM key across consecutive lines, and not across a gap in the line numbers', async () => {
    const body = privateKeys.find((k) => k.name === 'ed25519-pkcs8')!.body(rng);
    const lines = pemLines('PRIVATE KEY', body, 32);
    const together = await scanner.scan(input('id', lines, 10));
    expect(together).toMatchObject([{ ruleId: 'private-key', line: 10, column: 1, fingerprint: sha256(body) }]);

    const cut: ScanInput = { path: 'id', lines: lines.map((text, i) => ({ line: i === 0 ? 1 : 100 + i, text })) };
    expect((await scanner.scan(cut)).filter((f) => f.ruleId === 'private-key')).toEqual([]);
  });

  it('fingerprint a base64-encoded secret by its decoded value, at the column of the encoded run', async () => {
    const token = fake('gitlab-token');
    const encoded = Buffer.from(token).toString('base64');
    const [finding] = await scanner.scan(input('secret.yaml', [`  token: ${encoded}`]));
    expect(finding).toMatchObject({ ruleId: 'gitlab-token', column: 10, fingerprint: sha256(token) });
    expect(finding!.message).toContain('base64-encoded');
  });

  it('rejoin a secret split by string concatenation', async () => {
    const key = fake('openai-api-key');
    const findings = await scanner.scan(input('a.py', [`KEY = "${key.slice(0, 10)}" + "${key.slice(10)}"`]));
    expect(findings).toMatchObject([{ ruleId: 'openai-api-key', column: 8, fingerprint: sha256(key) }]);
  });
});

describe('allowing', () => {
  it(`never reports a line carrying ${ALLOW_MARKER}`, async () => {
    const token = fakeGitHubToken(rng);
    expect(await scanner.scan(input('t.ts', [`const fixture = '${token}'; // ${ALLOW_MARKER}`]))).toEqual([]);
  });

  it('never reports an allowed fingerprint, in any form of the secret', async () => {
    const token = fakeGitHubToken(rng);
    const allowing = await createSecretScanner({ allowFingerprints: [`sha256:${sha256(token).toUpperCase()}`] });
    const lines = [`a = '${token}'`, `b: ${Buffer.from(token).toString('base64')}`, `c = '${fakeGitHubToken(rng)}'`];
    expect((await allowing.scan(input('t.ts', lines))).map((f) => f.line)).toEqual([3]);
  });
});

describe('failing closed', () => {
  it('turns an error inside the scan into SCAN_FAILED', async () => {
    const broken = { path: 'x.ts', lines: [{ line: 1, text: undefined as unknown as string }] };
    const error = await scanner.scan(broken).catch((e: unknown) => e);
    expect(isPortcullisError(error) && error.code).toBe('SCAN_FAILED');
  });

  it('turns running past timeoutMs into SCAN_FAILED', async () => {
    const slow = await createSecretScanner({ timeoutMs: 1 });
    const lines = Array.from({ length: 40_000 }, (_, i) => `password_${i} = "${'x'.repeat(60)}" # ${i}`);
    const error = await slow.scan(input('big.txt', lines)).catch((e: unknown) => e);
    expect(isPortcullisError(error) && error.code).toBe('SCAN_FAILED');
    expect((error as Error).message).toMatch(/did not finish within 1 ms/);
  });
});

describe('the secretlint profiler', () => {
  it('is off: scanning leaves no performance marks', async () => {
    performance.clearMarks();
    await scanner.scan(input('a.env', [`GITHUB_TOKEN=${fakeGitHubToken(rng)}`, 'aws_secret_access_key = x']));
    expect(performance.getEntriesByType('mark')).toEqual([]);
  });
});
