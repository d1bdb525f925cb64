/**
 * One true and one false case for every rule of ours (STYLE: table-driven). True cases are FAKE
 * values from the corpus generator, built at run time so that no credential-shaped literal sits in
 * this file; false cases are near misses: the same shape with a placeholder body, or a known
 * look-alike.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createSecretScanner, type SecretScanner } from '../../../src/scan/index.ts';
import { listRuleIds } from '../../../src/scan/rules/index.ts';
import { fakeGitHubToken, fakePassword, pemLines, privateKeys, tokenProviders } from '../../fixtures/secrets/providers.ts';
import { ALNUM, B64URL, HEX, UPPER_ALNUM, createRng } from '../../fixtures/secrets/random.ts';
import { input } from './scan-helpers.ts';

const rng = createRng(42);

/** The body of a value with every letter and digit replaced by a repeating 'abcd': same shape, no entropy. */
function flatten(value: string, keep: number): string {
  let i = 0;
  return value.slice(0, keep) + value.slice(keep).replace(/[A-Za-z0-9]/g, () => 'abcd'[i++ % 4]!);
}

interface Case {
  yes: string[];
  no: string[];
}

const cases = new Map<string, Case>();
for (const provider of tokenProviders) {
  if (cases.has(provider.ruleId)) continue;
  const value = provider.make(rng);
  const key = provider.ruleId === 'aws-secret-key' ? 'aws_secret_access_key' : provider.envName;
  cases.set(provider.ruleId, { yes: [`${key}=${value}`], no: [`${key}=${flatten(value, provider.prefixLength)}`] });
}

const pw = fakePassword(rng);
const pem = pemLines('EC PRIVATE KEY', privateKeys.find((k) => k.name === 'ec-p256-sec1')!.body(rng));
const extra: Record<string, Case> = {
  'github-token': { yes: [`token: ${fakeGitHubToken(rng)}`], no: [`token: ${fakeGitHubToken(rng).slice(0, -1)}Z`] },
  'google-oauth-token': { yes: [`Authorization: ya29.${rng.chars(B64URL, 80)}`], no: [`Authorization: ya29.${'a'.repeat(80)}`] },
  'onepassword-secret-key': {
    yes: [`A3-${rng.chars(UPPER_ALNUM, 6)}-${rng.chars(UPPER_ALNUM, 6)}-${rng.chars(UPPER_ALNUM, 5)}-${rng.chars(UPPER_ALNUM, 5)}-${rng.chars(UPPER_ALNUM, 5)}-${rng.chars(UPPER_ALNUM, 5)}`],
    no: ['A3-XXXXXX-XXXXXX-XXXXX-XXXXX-XXXXX-XXXXX'],
  },
  'cloudflare-origin-ca-key': { yes: [`v1.0-${rng.chars(HEX, 24)}-${rng.chars(HEX, 146)}`], no: [`v1.0-${'0'.repeat(24)}-${'0'.repeat(146)}`] },
  'database-url-password': { yes: [`DATABASE_URL=postgres://app:${pw}@db:5432/app`], no: ['DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app'] },
  'url-password': { yes: [`git remote add origin https://deploy:${pw}@git.fake.test/org/repo.git`], no: ['see https://user:password@example.com/docs'] },
  'cli-password': { yes: [`mysql -uroot -p'${pw}' app`], no: ['docker run -p 8080:80 -p 443:443 nginx'] },
  'generic-secret': { yes: [`client_secret: "${rng.chars(ALNUM, 32)}"`], no: ['client_secret: "${CLIENT_SECRET}"'] },
  'bearer-token': { yes: [`curl -H "Authorization: Bearer ${rng.chars(B64URL, 40)}"`], no: ['curl -H "Authorization: Bearer $TOKEN"'] },
  'basic-auth-header': { yes: [`Authorization: Basic ${Buffer.from(`deploy:${pw}`).toString('base64')}`], no: [`Authorization: Basic ${Buffer.from('user:password').toString('base64')}`] },
  'private-key': { yes: pem, no: ['-----BEGIN EC PRIVATE KEY-----', 'MHcCAQEEI...', '-----END EC PRIVATE KEY-----'] },
};
for (const [id, c] of Object.entries(extra)) cases.set(id, c);

let scanner: SecretScanner;
beforeAll(async () => {
  scanner = await createSecretScanner();
});

describe('every rule of ours has a true and a false case', () => {
  it('the table covers every rule id', () => {
    expect(listRuleIds().filter((id) => !cases.has(id))).toEqual([]);
  });

  it.each([...cases.keys()].sort())('%s', async (ruleId) => {
    const { yes, no } = cases.get(ruleId)!;
    const found = await scanner.scan(input('case.txt', yes));
    expect(found.map((f) => f.ruleId), yes.join('\n')).toContain(ruleId);
    const notFound = await scanner.scan(input('case.txt', no));
    expect(notFound.map((f) => f.ruleId), no.join('\n')).not.toContain(ruleId);
  });
});

describe('rules from the issue, with their usual look-alikes', () => {
  const byRule = (id: string) => tokenProviders.find((p) => p.ruleId === id)!;
  it.each([
    ['anthropic-api-key', (v: string) => v.slice(0, 40)], // truncated
    ['openai-api-key', (v: string) => v.replace('sk-', 'sk_')], // another separator
    ['huggingface-token', (v: string) => `${v}1`], // digits are not in HF's alphabet
    ['gitlab-token', (v: string) => v.slice(0, 20)], // too short
    ['stripe-secret-key', (v: string) => v.replace(/^[sr]k_live_/, 'pk_live_')], // publishable
    ['slack-token', (v: string) => v.split('-').slice(0, 2).join('-')], // no secret part
    ['google-api-key', (v: string) => v.slice(0, 30)],
    ['portcullis-token', (v: string) => v.replace('pcl_agent_', 'pcl_guest_')],
  ])('%s', async (ruleId, nearMiss) => {
    const value = byRule(ruleId).make(rng);
    expect((await scanner.scan(input('a.txt', [value]))).map((f) => f.ruleId)).toContain(ruleId);
    expect((await scanner.scan(input('a.txt', [nearMiss(value)]))).map((f) => f.ruleId)).not.toContain(ruleId);
  });
});
