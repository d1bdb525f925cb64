import { beforeAll, describe, expect, it } from 'vitest';
import { computeLineage, planResult, type RowField, type StatementLineage } from '../../../../src/pg/mask/index.ts';
import { loadSqlParser, parseSql } from '../../../../src/pg/sql/parser.ts';
import { catalog, CITEXT_OID, CONTACTS_V2_OID, CONTACTS_VIEW_OID, MV_OID, ORDERS_OID, rulesFor, USERS_OID } from './catalog-fixture.ts';

beforeAll(() => loadSqlParser());

const rules = rulesFor();

function lineageOf(text: string): StatementLineage {
  const parsed = parseSql(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return computeLineage(parsed.tree.stmts![0]!.stmt!, catalog, rules.columns);
}

const f = (name: string, typeOid: number, tableOid = 0, attnum = 0, format: 0 | 1 = 0): RowField => ({ name, tableOid, attnum, typeOid, format });
const actions = (fields: RowField[], lineage: StatementLineage, r = rules) => planResult(fields, lineage, catalog, r).columns.map((c) => c.action).join(' ');

describe('planResult', () => {
  it('origin through the catalog: configured columns mask, others pass or detect by type', () => {
    const lineage = lineageOf('select id, email, name, password_hash from users');
    expect(actions([f('id', 23, USERS_OID, 1), f('email', 25, USERS_OID, 2), f('name', 25, USERS_OID, 3), f('password_hash', 25, USERS_OID, 5)], lineage)).toBe('pass mask detect mask');
  });

  it('an alias keeps the origin (the server reports it) even where lineage is not consulted', () => {
    expect(actions([f('contact', 25, USERS_OID, 2)], { columns: null, referencedSensitive: false })).toBe('mask');
  });

  it("a view's OID: sensitivity through the view's definition, nested views too", () => {
    expect(actions([f('id', 23, CONTACTS_VIEW_OID, 1), f('contact', 25, CONTACTS_VIEW_OID, 2), f('name', 25, CONTACTS_VIEW_OID, 3)], { columns: null, referencedSensitive: false })).toBe('pass mask detect');
    expect(actions([f('contact', 25, CONTACTS_V2_OID, 1), f('number', 25, CONTACTS_V2_OID, 2)], { columns: null, referencedSensitive: false })).toBe('mask mask');
    expect(actions([f('email', 25, MV_OID, 2)], { columns: null, referencedSensitive: false })).toBe('mask');
  });

  it('attribute 0 is the whole row: sensitive when the table has a sensitive column', () => {
    expect(actions([f('u', 16_999, USERS_OID, 0)], { columns: null, referencedSensitive: false })).toBe('mask');
    expect(actions([f('o', 16_998, ORDERS_OID, 0)], { columns: null, referencedSensitive: false })).toBe('detect');
  });

  it('no origin: the lineage position decides when aligned', () => {
    const lineage = lineageOf('select lower(email), id + 1, name || \'!\' from users');
    expect(actions([f('lower', 25), f('?column?', 23), f('?column?', 25)], lineage)).toBe('mask pass detect');
    expect(actions([f('x', 23)], lineageOf('select length(email) as x from users'))).toBe('mask'); // int, but derived: masked to 0
  });

  it('not aligned and something sensitive referenced: every column without an origin is masked', () => {
    const lineage = lineageOf('select * from unknown_table, users');
    expect(lineage.columns).toBeNull();
    expect(actions([f('a', 25), f('b', 23), f('id', 23, USERS_OID, 1)], lineage)).toBe('mask mask pass');
    expect(actions([f('a', 25), f('b', 23)], { columns: null, referencedSensitive: false })).toBe('detect pass');
    // a field count that differs from lineage counts as not aligned
    expect(actions([f('a', 25), f('b', 23)], lineageOf('select email from users'))).toBe('mask mask');
  });

  it('output names matching bare globs mask whatever their origin', () => {
    expect(actions([f('my_password', 25), f('passwordless', 16)], { columns: null, referencedSensitive: false })).toBe('mask mask');
  });

  it('detect only on types a detector can hit; user types resolved through the catalog', () => {
    expect(actions([f('a', 1184), f('b', 2950), f('c', 1009), f('d', 3802), f('e', CITEXT_OID), f('f', 99_999), f('g', 1007)], { columns: null, referencedSensitive: false })).toBe('pass pass detect detect detect detect pass');
  });

  it('no detectors enabled: text columns pass', () => {
    const none = { ...rules, detectors: 0 };
    const plan = planResult([f('a', 25), f('password', 25)], { columns: null, referencedSensitive: false }, catalog, none);
    expect(plan.columns.map((c) => c.action)).toEqual(['pass', 'mask']);
    expect(plan.maskedColumns).toEqual(['password']);
    expect(planResult([f('a', 25)], { columns: null, referencedSensitive: false }, catalog, none).needsRowWork).toBe(false);
  });
});
