import { describe, expect, it } from 'vitest';
import { parseQualifiedName, qualifiedName, quoteIdentifier } from '../../../../src/pg/sql/index.ts';
import { canonicalTableName, protectedTablesOf, protectedTarget } from '../../../../src/pg/sql/protected-tables.ts';

describe('relation names', () => {
  it('quotes only what SQL would read differently', () => {
    expect(quoteIdentifier('users')).toBe('users');
    expect(quoteIdentifier('Users')).toBe('"Users"');
    expect(quoteIdentifier('my table')).toBe('"my table"');
    expect(quoteIdentifier('a"b')).toBe('"a""b"');
    expect(qualifiedName('public', 'Users')).toBe('public."Users"');
    expect(qualifiedName(undefined, 'orders')).toBe('orders');
  });

  it.each([
    ['users', ['users']],
    ['Public.Users', ['public', 'users']],
    ['"Users"', ['Users']],
    ['public."My ""Big"" Table"', ['public', 'My "Big" Table']],
    ['"a.b".c', ['a.b', 'c']],
    ['  billing.invoices ', ['billing', 'invoices']],
  ])('%s → %j', (text, parts) => {
    expect(parseQualifiedName(text)).toEqual(parts);
  });

  it.each(['', '.', 'a.', '.a', '"open', 'two words', 'a."b"c', '""'])('refuses %j', (text) => {
    expect(parseQualifiedName(text)).toBeNull();
  });

  it('reads policy entries with unqualified meaning public', () => {
    expect(canonicalTableName('users')).toBe('public.users');
    expect(canonicalTableName('"Users"')).toBe('public."Users"');
    expect(canonicalTableName('Billing.Invoices')).toBe('billing.invoices');
    expect(canonicalTableName('a.b.c')).toBeNull();
  });
});

describe('protected tables', () => {
  const tables = protectedTablesOf(['users', 'billing.invoices', '"Accounts"']);

  it('matches after identifier resolution', () => {
    expect(tables.match('public', 'users')).toBe('public.users');
    expect(tables.match(undefined, 'users')).toBe('public.users');
    expect(tables.match(undefined, 'Users')).toBeNull();
    expect(tables.match('other', 'users')).toBeNull();
    expect(tables.match(undefined, 'invoices')).toBe('billing.invoices'); // the agent controls its search_path
    expect(tables.match('public', 'Accounts')).toBe('public."Accounts"');
    expect(tables.match('public', 'accounts')).toBeNull();
  });

  it('follows views down to a protected base, and stops at cycles', () => {
    const views: Record<string, string[]> = { v1: ['public.v2'], 'public.v2': ['public.users'], loop: ['public.loop'], 'public.loop': ['loop'] };
    expect(protectedTarget(tables, undefined, 'v1', (name) => views[name])).toBe('public.users');
    expect(protectedTarget(tables, undefined, 'loop', (name) => views[name])).toBeNull();
    expect(protectedTarget(tables, undefined, 'v1', undefined)).toBeNull();
    expect(protectedTarget(protectedTablesOf([]), undefined, 'users', () => ['users'])).toBeNull();
  });

  it('builds the index once per list', () => {
    const list = ['users'];
    expect(protectedTablesOf(list)).toBe(protectedTablesOf(list));
  });
});
