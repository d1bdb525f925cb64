import { describe, expect, it } from 'vitest';
import { md5PasswordHash } from '../../../../src/pg/auth/md5.ts';

describe('md5PasswordHash', () => {
  it("matches PostgreSQL's own computation", () => {
    // psql: select 'md5' || md5(md5('pencil' || 'user') || 'abcd')
    expect(md5PasswordHash('user', 'pencil', Buffer.from('abcd'))).toBe('md5d621238dc9a10c6c869b264c13379ee7');
  });

  it('uses the salt as bytes', () => {
    const a = md5PasswordHash('agent', 'pw', Buffer.from([0xff, 0, 1, 2]));
    const b = md5PasswordHash('agent', 'pw', Buffer.from([0xfe, 0, 1, 2]));
    expect(a).toMatch(/^md5[0-9a-f]{32}$/);
    expect(a).not.toBe(b);
  });
});
