import { describe, expect, it } from 'vitest';
import { compileColumnMatcher } from '../../../../src/pg/mask/index.ts';

describe('mask column globs', () => {
  const m = compileColumnMatcher(['*email*', 'users.ssn', 'billing.cards.num*', 'card_number', '*secret*']);

  it('bare globs match a column of any table and output names, case-insensitively', () => {
    expect(m.isSensitiveColumn('public', 'orders', 'contact_Email')).toBe(true);
    expect(m.isSensitiveName('EMAIL_ADDRESS')).toBe(true);
    expect(m.isSensitiveName('card_number')).toBe(true);
    expect(m.isSensitiveName('card_numbers')).toBe(false);
    expect(m.isSensitiveName('a/secret')).toBe(true); // quoted identifiers may hold a slash
  });

  it('table.column matches in any schema, schema.table.column only there', () => {
    expect(m.isSensitiveColumn('public', 'users', 'ssn')).toBe(true);
    expect(m.isSensitiveColumn('archive', 'USERS', 'SSN')).toBe(true);
    expect(m.isSensitiveColumn('public', 'people', 'ssn')).toBe(false);
    expect(m.isSensitiveName('ssn')).toBe(false); // only bare globs name output columns
    expect(m.isSensitiveColumn('billing', 'cards', 'number')).toBe(true);
    expect(m.isSensitiveColumn('public', 'cards', 'number')).toBe(false);
  });

  it('says whether an unknown table could have a sensitive column', () => {
    expect(m.mayHaveSensitiveColumns('public', 'anything')).toBe(true); // bare globs match any table
    const tablesOnly = compileColumnMatcher(['users.email']);
    expect(tablesOnly.mayHaveSensitiveColumns('public', 'users')).toBe(true);
    expect(tablesOnly.mayHaveSensitiveColumns('public', 'orders')).toBe(false);
    expect(compileColumnMatcher([]).empty).toBe(true);
  });
});
