import { describe, expect, it } from 'vitest';
import { maskMessageFields } from '../../../../src/pg/mask/index.ts';
import { catalog, rulesFor } from './catalog-fixture.ts';

const rules = rulesFor();

function fields(entries: Record<string, string>): Map<string, string> {
  return new Map(Object.entries(entries));
}

describe('maskMessageFields (ErrorResponse / NoticeResponse)', () => {
  it('masks a sensitive key value in a unique-violation DETAIL, keeping the rest', () => {
    const out = maskMessageFields(
      fields({ S: 'ERROR', C: '23505', M: 'duplicate key value violates unique constraint "users_email_key"', D: 'Key (email)=(Alice Liddell) already exists.', s: 'public', t: 'users', n: 'users_email_key' }),
      rules,
      catalog,
    );
    expect(out?.get('D')).toBe('Key (email)=(****) already exists.');
    expect(out?.get('n')).toBe('users_email_key');
    expect(out?.get('C')).toBe('23505');
  });

  it('masks only the sensitive parts of a multi-column key', () => {
    const out = maskMessageFields(fields({ D: 'Key (id, email)=(7, x) already exists.', t: 'users' }), rules, catalog);
    expect(out?.get('D')).toBe('Key (id, email)=(7, ****) already exists.');
  });

  it('leaves keys of other columns alone', () => {
    expect(maskMessageFields(fields({ D: 'Key (id)=(7) already exists.', t: 'users' }), rules, catalog)).toBeNull();
  });

  it('masks sensitive positions of a failing row', () => {
    const out = maskMessageFields(fields({ M: 'null value in column "name" violates not-null constraint', D: 'Failing row contains (1, secret-ish, null, $2b$x, {}).', t: 'users', s: 'public' }), rules, catalog);
    expect(out?.get('D')).toBe('Failing row contains (1, ****, null, ****, {}).');
  });

  it('runs the detectors over free text (RAISE NOTICE, hints, context)', () => {
    const out = maskMessageFields(fields({ S: 'NOTICE', M: 'customer carol@example.net', W: 'PL/pgSQL function shout() line 1 at RAISE' }), rules);
    expect(out?.get('M')).toBe('customer ****');
    expect(out?.get('W')).toBe('PL/pgSQL function shout() line 1 at RAISE');
  });

  it('returns null when nothing changed', () => {
    expect(maskMessageFields(fields({ S: 'ERROR', M: 'relation "nope" does not exist' }), rules)).toBeNull();
  });
});
