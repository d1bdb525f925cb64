import { beforeAll, describe, expect, it } from 'vitest';
import { collectCatalogNeeds, createStaticCatalog } from '../../../../src/pg/mask/index.ts';
import { formatQualified, splitQualified } from '../../../../src/pg/mask/catalog.ts';
import { normalizeFunctionBody } from '../../../../src/pg/mask/catalog-queries.ts';
import { loadSqlParser, parseSql } from '../../../../src/pg/sql/parser.ts';

beforeAll(() => loadSqlParser());

describe('catalog helpers', () => {
  it('resolves unqualified names along the search path', () => {
    const table = (schema: string, oid: number) => ({ oid, schema, name: 't', kind: 'table' as const, columns: ['a'] });
    const catalog = createStaticCatalog({ relations: [table('public', 1), table('app', 2)], searchPath: ['pg_catalog', 'app', 'public'] });
    expect(catalog.relation(null, 't')?.oid).toBe(2);
    expect(catalog.relation('public', 't')?.oid).toBe(1);
    expect(catalog.relationByOid(1)?.schema).toBe('public');
  });

  it('splits and formats qualified names, quoting dots and quotes', () => {
    expect(splitQualified('public.users')).toEqual({ schema: 'public', name: 'users' });
    expect(splitQualified('users')).toEqual({ schema: null, name: 'users' });
    expect(splitQualified('"my.schema"."we""ird"')).toEqual({ schema: 'my.schema', name: 'we"ird' });
    expect(formatQualified('my.schema', 'we"ird')).toBe('"my.schema"."we""ird"');
    expect(splitQualified(formatQualified('a', 'b.c'))).toEqual({ schema: 'a', name: 'b.c' });
  });

  it('reads SQL-standard function bodies as plain statements', () => {
    expect(normalizeFunctionBody('BEGIN ATOMIC\n SELECT 1;\n SELECT users.email FROM users;\nEND')).toBe('SELECT 1;\n SELECT users.email FROM users;');
    expect(normalizeFunctionBody('RETURN (SELECT 1)')).toBe('SELECT (SELECT 1)');
    expect(normalizeFunctionBody(' select 1 ')).toBe('select 1');
  });

  it('collects the relations and functions a statement names, wrapped or bare', () => {
    const parsed = parseSql('insert into audit.log select lower(email), app.f(1) from users u join (select * from "Orders") o using (id)');
    if (!parsed.ok) throw new Error('parse');
    const needs = collectCatalogNeeds(parsed.tree.stmts![0]!.stmt!);
    expect(needs.relations.sort()).toEqual(['Orders', 'audit.log', 'users']);
    expect(needs.functions.sort()).toEqual(['app.f', 'lower']);
  });
});
