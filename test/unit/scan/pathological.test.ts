/**
 * Inputs built to make regexes backtrack: 200 KB lines of keyword repeats, unterminated structures,
 * long runs of a token alphabet. The assertion is that each scan completes (within the test's
 * timeout), not how fast: timings are the benchmark's business (bench/scan.ts).
 */
import { describe, expect, it } from 'vitest';
import { createSecretScanner } from '../../../src/scan/index.ts';
import { input } from './scan-helpers.ts';

const SIZE = 200_000;
const repeat = (unit: string) => unit.repeat(Math.ceil(SIZE / unit.length)).slice(0, SIZE);

const shapes: Record<string, string> = {
  'one character': repeat('a'),
  'token alphabet with separators': repeat('aZ9_-'),
  'GitHub prefixes': repeat('ghp_'),
  'GitHub app tokens (4 s in secretlint 13.x)': repeat('ghs_1_a.'),
  'Anthropic prefix, long body': `sk-ant-api03-${repeat('A')}`,
  'OpenAI prefixes': repeat('sk-proj-'),
  'Slack segments': `xoxb-${repeat('1-')}`,
  'password assignments': repeat('password='),
  'quoted assignments, never closed': repeat('secret: "a'),
  'URL userinfo, never closed': `https://${repeat('a:')}`,
  'URL schemes': repeat('postgres://a:'),
  'PEM header, then spaces': `-----BEGIN PRIVATE KEY-----${repeat(' ')}`,
  'PEM headers': repeat('-----BEGIN RSA PRIVATE KEY-----MIIE'),
  'escaped quotes': repeat('\\"'),
  'escaped newlines': repeat('\\n'),
  'percent escapes': repeat('%41'),
  'one base64 run': repeat('QUJD'),
  'one hex run': repeat('6a'),
  'concatenation': repeat('"a" + '),
  'CLI flags': repeat(' -pX'),
  'bearer': repeat('Bearer '),
  'telegram separators': repeat('12345678:AA'),
  'Azure secret separators': repeat('abc1Q~'),
  'mailchimp separators': `${'a'.repeat(32)}${repeat('-us1')}`,
  'AWS secret key names': repeat('aws_secret_access_key='),
  whitespace: repeat(' \t'),
  // Many matches: @secretlint/core de-duplicates messages pairwise, so these test the piece size.
  'AWS key ids, 10,000 of them': repeat('AKIAQWERTYUIOPASDFGH '),
  'connection URLs, 7,000 of them': repeat('postgres://u:p4ssw0rdX@h/db '),
  'npm tokens, 5,000 of them': repeat(`npm_${'abcdefghijklmnopqrstuvwxyz0123456789'} `),
};

describe('pathological 200 KB lines', () => {
  it.each(Object.entries(shapes))('%s: the scan completes', async (_, line) => {
    const scanner = await createSecretScanner();
    const findings = await scanner.scan(input('long.txt', [line, line.slice(0, 1000)]));
    expect(Array.isArray(findings)).toBe(true);
  });

  it('many lines of keyword soup complete', async () => {
    const scanner = await createSecretScanner();
    const lines = Array.from({ length: 5_000 }, (_, i) => `ghp_ sk-ant- AKIA password= -----BEGIN ${i} %41 \\n "a" + "b"`);
    expect(Array.isArray(await scanner.scan(input('soup.txt', lines)))).toBe(true);
  });
});
