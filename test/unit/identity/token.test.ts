import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateToken, hashToken, redactToken, tokenKindOf } from '../../../src/identity/token.ts';
import type { TokenKind } from '../../../src/identity/token.ts';

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const randomPart = fc.string({ unit: fc.constantFrom(...BASE64URL), minLength: 43, maxLength: 43 });

describe('generateToken', () => {
  it.each(['agent', 'admin'] as const)('makes pcl_%s_ tokens of 256 random bits that tokenKindOf recognises', (kind) => {
    const tokens = Array.from({ length: 50 }, () => generateToken(kind));
    for (const token of tokens) {
      expect(token).toMatch(new RegExp(`^pcl_${kind}_[A-Za-z0-9_-]{43}$`));
      expect(Buffer.from(token.slice(`pcl_${kind}_`.length), 'base64url')).toHaveLength(32);
      expect(tokenKindOf(token)).toBe(kind);
    }
    expect(new Set(tokens).size).toBe(tokens.length);
  });
});

describe('tokenKindOf', () => {
  const body = 'A'.repeat(43);
  it.each([
    [`pcl_agent_${body}`, 'agent'],
    [`pcl_admin_${body}`, 'admin'],
    [`pcl_agent_${'_'.repeat(43)}`, 'agent'],
    [`pcl_admin_${'-'.repeat(43)}`, 'admin'],
    [`pcl_agent_${body.slice(1)}`, null], // 42 characters
    [`pcl_agent_${body}A`, null], // 44 characters
    [`pcl_agent_${body.slice(1)}=`, null], // not base64url
    [`pcl_agent_${body.slice(1)}+`, null],
    [`pcl_root_${body}`, null],
    [`PCL_AGENT_${body}`, null],
    [` pcl_agent_${body}`, null],
    [`pcl_agent_${body}\n`, null],
    ['ghp_0123456789abcdefghijklmnopqrstuvwxyz', null],
    ['eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', null],
    ['', null],
  ] as Array<[string, TokenKind | null]>)('%j → %s', (token, kind) => {
    expect(tokenKindOf(token)).toBe(kind);
  });
});

describe('hashToken', () => {
  it('is the hex sha256 of the token text', () => {
    const token = `pcl_agent_${'B'.repeat(43)}`;
    expect(hashToken(token)).toBe(createHash('sha256').update(token).digest('hex'));
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('differs for tokens that differ in one character', () => {
    expect(hashToken(`pcl_agent_${'B'.repeat(43)}`)).not.toBe(hashToken(`pcl_agent_${'B'.repeat(42)}C`));
  });
});

describe('redactToken', () => {
  it.each([
    { what: 'an agent token', token: `pcl_agent_${'x'.repeat(43)}`, prefix: 'pcl_agent_' },
    { what: 'an admin token', token: `pcl_admin_${'y'.repeat(43)}`, prefix: 'pcl_admin_' },
    // the random part is base64url, so it may contain "_": none of it may show
    { what: 'a token with "_" in its random part', token: `pcl_agent_SECRETSECRET_${'z'.repeat(30)}`, prefix: 'pcl_agent_' },
    { what: 'a token ending in "_"', token: `pcl_admin_${'q'.repeat(42)}_`, prefix: 'pcl_admin_' },
    { what: 'something that is not a portcullis token', token: 'ghp_FAKEFAKEFAKEFAKE', prefix: '' },
    { what: 'a near-miss portcullis token', token: `pcl_agent_${'w'.repeat(20)}`, prefix: '' },
  ])('shows the kind and a hash fingerprint of $what', ({ token, prefix }) => {
    const redacted = redactToken(token);
    expect(redacted).toBe(`${prefix}…[sha256:${hashToken(token).slice(0, 12)}]`);
    expect(redacted).not.toContain(token.slice(prefix.length, prefix.length + 8));
  });

  it('never contains any 6-character piece of the random part (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom<TokenKind>('agent', 'admin'), randomPart, (kind, random) => {
        const token = `pcl_${kind}_${random}`;
        const redacted = redactToken(token);
        expect(redacted.startsWith(`pcl_${kind}_…[sha256:`)).toBe(true);
        const fingerprint = redacted.slice(redacted.indexOf('[') + 1);
        for (let i = 0; i + 6 <= random.length; i++) {
          expect(redacted.replace(fingerprint, '')).not.toContain(random.slice(i, i + 6));
        }
      }),
    );
  });

  it('never contains a generated token', () => {
    for (let i = 0; i < 200; i++) {
      const token = generateToken(i % 2 ? 'agent' : 'admin');
      expect(redactToken(token)).not.toContain(token.slice(10));
      expect(redactToken(token)).toHaveLength(`pcl_agent_…[sha256:`.length + 12 + 1);
    }
  });
});
