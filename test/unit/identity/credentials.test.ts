import { describe, expect, it } from 'vitest';
import { credentialFromAuthorization } from '../../../src/identity/index.ts';

const basic = (userPass: string) => `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`;
const TOKEN = 'pcl_agent_FAKE-token-for-tests_0123456789abcdefghijklmno';

describe('credentialFromAuthorization', () => {
  it.each([
    { what: 'Basic with any username', header: basic(`agent:${TOKEN}`), expected: TOKEN },
    { what: 'Basic with another username', header: basic(`x-access-token:${TOKEN}`), expected: TOKEN },
    { what: 'Basic with an empty username', header: basic(`:${TOKEN}`), expected: TOKEN },
    { what: 'Basic whose password holds colons', header: basic('u:pw:with:colons'), expected: 'pw:with:colons' },
    { what: 'Basic with a UTF-8 password', header: basic('u:pässwörd'), expected: 'pässwörd' },
    { what: 'Basic without padding characters', header: `Basic ${Buffer.from('u:ab').toString('base64').replace(/=+$/, '')}`, expected: 'ab' },
    { what: 'the scheme in any case', header: basic(`u:${TOKEN}`).replace('Basic', 'BASIC'), expected: TOKEN },
    { what: 'extra spaces after the scheme', header: `Basic   ${Buffer.from(`u:${TOKEN}`).toString('base64')}  `, expected: TOKEN },
    { what: 'Bearer', header: `Bearer ${TOKEN}`, expected: TOKEN },
    { what: 'bearer in lower case', header: `bearer ${TOKEN}`, expected: TOKEN },
    { what: 'Bearer with surrounding spaces', header: `Bearer   ${TOKEN}  `, expected: TOKEN },
    { what: 'a JWT as bearer', header: 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', expected: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln' },
  ])('takes the credential from $what', ({ header, expected }) => {
    expect(credentialFromAuthorization(header)).toBe(expected);
  });

  it.each([
    { what: 'no header', header: undefined },
    { what: 'a null header', header: null },
    { what: 'an empty header', header: '' },
    { what: 'a scheme without a value', header: 'Basic' },
    { what: 'Bearer without a value', header: 'Bearer' },
    { what: 'Bearer with only spaces', header: 'Bearer    ' },
    { what: 'Basic with only spaces', header: 'Basic   ' },
    { what: 'Basic with an empty password', header: basic('agent:') },
    { what: 'Basic with nothing at all', header: basic(':') },
    { what: 'Basic without a colon', header: basic(TOKEN) },
    { what: 'Basic of a raw token, not base64', header: `Basic ${TOKEN}` },
    { what: 'malformed base64 (invalid characters)', header: 'Basic !!!!' },
    { what: 'malformed base64 with a valid-looking start', header: `Basic ${Buffer.from('u:p').toString('base64')}!!` },
    { what: 'base64 with a space inside', header: `Basic ${Buffer.from('user:pass').toString('base64').replace(/^(.{4})/, '$1 ')}` },
    { what: 'base64 with padding in the middle', header: 'Basic dQ==OnA=' },
    { what: 'the Digest scheme', header: 'Digest username="u", response="x"' },
    { what: 'the Token scheme', header: `Token ${TOKEN}` },
    { what: 'a bare token with no scheme', header: TOKEN },
  ])('returns null for $what', ({ header }) => {
    expect(credentialFromAuthorization(header)).toBeNull();
  });
});
