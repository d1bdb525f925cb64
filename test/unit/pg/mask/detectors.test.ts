import { describe, expect, it } from 'vitest';
import { ALL_DETECTORS, containsSensitive, detectorSet, findSensitiveSpans } from '../../../../src/pg/mask/index.ts';
import { passesLuhn } from '../../../../src/pg/mask/detect-pii.ts';

// Fake values that look real to the detectors; none is a live credential.
const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const BCRYPT = '$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW';
const AWS = 'AKIAIOSFODNN7QWERTY2';

function found(text: string, enabled = ALL_DETECTORS): string[] {
  return findSensitiveSpans(text, enabled).map((s) => `${s.detector}:${text.slice(s.start, s.end)}`);
}

describe('value detectors', () => {
  it.each([
    ['contact john.doe@example.com today.', ['email:john.doe@example.com']],
    ['<a.b+tag@sub.example.co.uk>', ['email:a.b+tag@sub.example.co.uk']],
    ['card 4111 1111 1111 1111 ok', ['card:4111 1111 1111 1111']],
    ['4111-1111-1111-1111', ['card:4111-1111-1111-1111']],
    ['amex 378282246310005', ['card:378282246310005']],
    ['mc 5500 0000 0000 0004', ['card:5500 0000 0000 0004']],
    ['ssn 078-05-1120.', ['ssn:078-05-1120']],
    ['ssn 123 45 6789', ['ssn:123 45 6789']],
    [`Bearer-less ${JWT}`, [`jwt:${JWT}`]],
    [BCRYPT, [`password-hash:${BCRYPT}`]],
    ['$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG', ['password-hash:$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG']],
    ['pbkdf2_sha256$600000$abcdefghijkl$AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg=', ['password-hash:pbkdf2_sha256$600000$abcdefghijkl$AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg=']],
    ['pbkdf2:sha256:600000$salt1234$' + 'ab'.repeat(32), [`password-hash:pbkdf2:sha256:600000$salt1234$${'ab'.repeat(32)}`]],
    ['$6$rounds=5000$saltsalt$' + 'a'.repeat(86), [`password-hash:$6$rounds=5000$saltsalt$${'a'.repeat(86)}`]],
    ['$5$saltsalt$' + 'b'.repeat(43), [`password-hash:$5$saltsalt$${'b'.repeat(43)}`]],
    ['$scrypt$ln=16,r=8,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG', ['password-hash:$scrypt$ln=16,r=8,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG']],
    [`key ${AWS} here`, [`secret:${AWS}`]],
    ['password=Tr0ub4dor&3xyz!', ['secret:Tr0ub4dor&3xyz!']],
  ])('finds %s', (text, expected) => {
    expect(found(text)).toEqual(expected);
  });

  it.each([
    'John Smith',
    'order 2024-01-01 shipped',
    'version 1.2.3 build 4111111111111112',
    '4111 1111 1111 1112', // Luhn fails
    '1234567890123456', // Luhn fails, and 1 is no issuer digit
    '0000000000000000',
    '411111111111111111111111', // longer than any card
    'ssn 666-45-6789',
    'ssn 000-12-3456',
    'ssn 123-00-4567',
    'ssn 900-12-3456',
    'phone 555-123-4567',
    'user@localhost',
    'not @ an email.',
    'eyJ is not a token',
    'costs $5 and $6',
    'password: changeme',
    'a quick brown fox jumps over the lazy dog',
    'https://example.com/path?query=1',
    'd41d8cd98f00b204e9800998ecf8427e', // an MD5 hex digest decodes to noise
  ])('leaves %s alone', (text) => {
    expect(found(text)).toEqual([]);
  });

  it('checks the Luhn sum', () => {
    expect(passesLuhn('4111111111111111')).toBe(true);
    expect(passesLuhn('4111111111111112')).toBe(false);
    expect(passesLuhn('79927398713')).toBe(true);
  });

  it('looks inside base64, hex and bytea text', () => {
    const email = 'john.doe@example.com';
    const b64 = Buffer.from(email).toString('base64');
    const hex = Buffer.from(`card 4111111111111111`).toString('hex');
    expect(found(`payload ${b64} end`)).toEqual([`email:${b64}`]);
    expect(found(Buffer.from(email).toString('base64url'))).toEqual([`email:${Buffer.from(email).toString('base64url')}`]);
    expect(found(`blob ${hex}`)).toEqual([`card:${hex}`]);
    expect(found(`\\x${Buffer.from(email).toString('hex')}`)).toEqual([`email:\\x${Buffer.from(email).toString('hex')}`]);
  });

  it('runs only the enabled detectors', () => {
    const text = `mail a@example.com card 4111111111111111 ${BCRYPT}`;
    expect(found(text, detectorSet(['card']))).toEqual(['card:4111111111111111']);
    expect(found(text, detectorSet(['email', 'password-hash'])).map((f) => f.split(':')[0])).toEqual(['email', 'password-hash']);
    expect(found(text, detectorSet([]))).toEqual([]);
    expect(containsSensitive(text, detectorSet(['ssn']))).toBe(false);
    expect(containsSensitive(text, ALL_DETECTORS)).toBe(true);
  });

  it('masks the password of a connection URL (the userinfo@host part also reads as an address)', () => {
    const text = 'postgres://app:S3cr3t-Passw0rd@db.internal:5432/app';
    const spans = findSensitiveSpans(text, ALL_DETECTORS);
    expect(spans.some((s) => text.slice(s.start, s.end).includes('S3cr3t-Passw0rd'))).toBe(true);
    expect(findSensitiveSpans(text, detectorSet(['secret'])).map((s) => text.slice(s.start, s.end))).toEqual(['S3cr3t-Passw0rd']);
  });

  it('merges overlapping spans', () => {
    const spans = findSensitiveSpans(`url https://u:${'Zq9'.repeat(5)}x@example.com/`, ALL_DETECTORS);
    for (let i = 1; i < spans.length; i += 1) expect(spans[i]!.start).toBeGreaterThan(spans[i - 1]!.end);
  });

  it('costs well under a microsecond for a short plain value', () => {
    const values = ['John Smith', 'Shipped to Berlin', 'pending', 'Alice Liddell-Hart', 'customer #4411'];
    const rounds = 200_000;
    const start = process.hrtime.bigint();
    let hits = 0;
    for (let i = 0; i < rounds; i += 1) hits += findSensitiveSpans(values[i % values.length]!, ALL_DETECTORS).length;
    const perValueNs = Number(process.hrtime.bigint() - start) / rounds;
    expect(hits).toBe(0);
    expect(perValueNs).toBeLessThan(1_000); // typically ~50 ns; generous for loaded CI machines
  });
});
