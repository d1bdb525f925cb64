/**
 * The masking catalog cache against real PostgreSQL: relations (dropped columns, types), views
 * followed recursively, SQL function bodies in all three forms, procedural functions, user types,
 * the TTL; then lineage and result plans computed from it, checked against the RowDescriptions
 * the server really sends (table OID, attribute number) through node-postgres.
 */
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSqlParser, parseSql } from '../../../src/pg/sql/parser.ts';
import { compileMaskPolicy, computeLineage, createCatalogCache, collectCatalogNeeds, planResult } from '../../../src/pg/mask/index.ts';
import type { RowField } from '../../../src/pg/mask/index.ts';
import { createTestDatabase, postgresAvailable } from '../../helpers/postgres.ts';

const pgUp = await postgresAvailable();
if (!pgUp && process.env.CI) throw new Error('CI must provide PostgreSQL at 127.0.0.1:5432');

const SETUP = `
  create schema billing;
  create table users (id int primary key, email text, name text, dropme int, password_hash text);
  alter table users drop column dropme;
  alter table users add column phone varchar(20);
  create table billing.cards (id int, user_id int, number text);
  create view user_contacts as select id, lower(email) as contact, name from users;
  create view contacts_v2 as select c.contact, b.number from user_contacts c join billing.cards b on b.user_id = c.id;
  create materialized view mv_emails as select id, email from users;
  create function emails_of(uid int) returns setof text language sql as $$ select email from users where id = uid $$;
  create function user_rows() returns setof users language plpgsql as $$ begin return query select * from users; end $$;
  create function atomic_email(uid int) returns text language sql begin atomic select email from users where id = uid; end;
  create function ret_email(uid int) returns text language sql return (select email from users where id = uid);
  create function tbl() returns table(mail text, n int) language plpgsql as $$ begin return; end $$;
  create domain email_address as text;
  create type mood as enum ('ok', 'sad');
  insert into users (id, email, name, password_hash, phone) values (1, 'a@example.com', 'Ann', 'x', '555');
  insert into billing.cards values (1, 1, '4111111111111111');
`;

describe.skipIf(!pgUp)('masking catalog cache on PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sql: postgres.Sql;
  let queries = 0;
  let clock = 0;
  const query = async (text: string, params: unknown[]) => {
    queries += 1;
    return (await sql.unsafe(text, params as never[])) as unknown as Record<string, unknown>[];
  };

  beforeAll(async () => {
    await loadSqlParser();
    db = await createTestDatabase();
    sql = postgres(db.url, { max: 2, onnotice: () => {} });
    await sql.unsafe(SETUP);
  });
  afterAll(async () => {
    await sql?.end({ timeout: 2 });
    await db?.drop();
  });

  it('loads relations with dropped columns and types, by name and by OID', async () => {
    const cache = createCatalogCache(query);
    await cache.prefetch({ relations: ['users', 'billing.cards'] });
    const snap = cache.snapshot();
    const users = snap.relation(null, 'users')!;
    expect(users).toMatchObject({ schema: 'public', name: 'users', kind: 'table', columns: ['id', 'email', 'name', null, 'password_hash', 'phone'] });
    expect(users.columnTypes?.filter((_, i) => users.columns[i] !== null)).toEqual([23, 25, 25, 25, 1043]);
    expect(snap.relation('billing', 'cards')?.columns).toEqual(['id', 'user_id', 'number']);
    expect(snap.relation(null, 'cards')).toBeUndefined(); // billing is not on the search path
    expect(snap.relationByOid(users.oid)?.name).toBe('users');

    const byOid = createCatalogCache(query);
    await byOid.prefetch({ oids: [users.oid] });
    expect(byOid.snapshot().relationByOid(users.oid)?.name).toBe('users');
  });

  it('follows views recursively and answers viewBases', async () => {
    const cache = createCatalogCache(query);
    expect(cache.viewBases('contacts_v2')).toBeUndefined();
    await cache.prefetch({ relations: ['contacts_v2', 'mv_emails', 'users'] });
    const snap = cache.snapshot();
    expect(snap.relation(null, 'contacts_v2')?.kind).toBe('view');
    expect(snap.relation(null, 'user_contacts')?.viewDefinition).toMatch(/lower\(users\.email\)/i); // loaded through contacts_v2
    expect(snap.relation(null, 'mv_emails')?.kind).toBe('matview');
    expect(cache.viewBases('contacts_v2')?.sort()).toEqual(['billing.cards', 'public.users']);
    expect(cache.viewBases('users')).toEqual([]);
  });

  it('loads SQL function bodies (plain, BEGIN ATOMIC, RETURN), procedural functions and declared columns', async () => {
    const cache = createCatalogCache(query);
    await cache.prefetch({ functions: ['emails_of', 'user_rows', 'atomic_email', 'ret_email', 'tbl'] });
    const snap = cache.snapshot();
    expect(snap.functions(null, 'emails_of')[0]).toMatchObject({ language: 'sql', returnsSet: true, argCount: 1 });
    expect(snap.functions(null, 'user_rows')[0]).toMatchObject({ language: 'plpgsql', body: null, returnsRelation: 'public.users' });
    expect(snap.functions(null, 'atomic_email')[0]!.body).toMatch(/^SELECT users\.email/i);
    expect(snap.functions(null, 'ret_email')[0]!.body).toMatch(/^SELECT \(/);
    expect(snap.functions(null, 'tbl')[0]!.outputColumns).toEqual(['mail', 'n']);
    for (const name of ['atomic_email', 'ret_email', 'emails_of']) expect(parseSql(snap.functions(null, name)[0]!.body!).ok).toBe(true);
    expect(snap.relation(null, 'users')).toBeDefined(); // read by the bodies, so prefetched with them
  });

  it('knows user-defined types: domains and enums', async () => {
    const cache = createCatalogCache(query);
    await cache.prefetch({});
    const [row] = await sql<Array<{ domain: number; mood: number }>>`select 'email_address'::regtype::oid::int as domain, 'mood'::regtype::oid::int as mood`;
    const { domain, mood } = row!;
    expect(cache.snapshot().type(domain)).toMatchObject({ name: 'email_address', baseOid: 25 });
    expect(cache.snapshot().type(mood)).toMatchObject({ name: 'mood', category: 'E' });
  });

  it('asks once per name until the TTL passes (missing names included)', async () => {
    const cache = createCatalogCache(query, { ttlMs: 1_000, now: () => clock });
    await cache.prefetch({ relations: ['users', 'no_such_table'] });
    const after = queries;
    await cache.prefetch({ relations: ['users', 'no_such_table'] });
    expect(queries).toBe(after);
    clock += 2_000;
    expect(cache.snapshot().relation(null, 'users')).toBeUndefined(); // expired
    await cache.prefetch({ relations: ['users'] });
    expect(queries).toBeGreaterThan(after);
    expect(cache.snapshot().relation(null, 'users')).toBeDefined();
  });

  it('shares one load between concurrent prefetches of the same names', async () => {
    const alone = createCatalogCache(query);
    const before = queries;
    await alone.prefetch({ relations: ['contacts_v2'], functions: ['emails_of'] });
    const single = queries - before;

    const shared = createCatalogCache(query);
    const start = queries;
    await Promise.all([1, 2, 3].map(() => shared.prefetch({ relations: ['contacts_v2'], functions: ['emails_of'] })));
    expect(queries - start).toBe(single);
    expect(shared.viewBases('contacts_v2')?.sort()).toEqual(['billing.cards', 'public.users']);
    const again = queries;
    await shared.prefetch({ relations: ['contacts_v2'], functions: ['emails_of'] });
    expect(queries).toBe(again);
  });

  describe('lineage and plans over the real catalog', () => {
    const rules = compileMaskPolicy({ columns: ['users.email', 'billing.cards.number', '*password*'], detectors: 'all', style: 'redact' }, Buffer.from('k'));

    async function prepared(text: string) {
      const parsed = parseSql(text);
      if (!parsed.ok) throw new Error(parsed.message);
      const stmt = parsed.tree.stmts![0]!.stmt!;
      const cache = createCatalogCache(query);
      await cache.prefetch(collectCatalogNeeds(stmt));
      const catalog = cache.snapshot();
      return { stmt, catalog, lineage: computeLineage(stmt, catalog, rules.columns) };
    }

    async function describeFields(text: string): Promise<RowField[]> {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const result = await client.query(text);
        return result.fields.map((f) => ({ name: f.name, tableOid: f.tableID, attnum: f.columnID, typeOid: f.dataTypeID, format: f.format === 'binary' ? 1 : 0 }));
      } finally {
        await client.end();
      }
    }

    it.each([
      ['select * from contacts_v2', [true, true]],
      ['select * from emails_of(1)', [true]],
      ['select * from user_rows()', [false, true, false, true, false]],
      ['select atomic_email(1), ret_email(1), emails_of(1)', [true, true, true]],
      ['select * from tbl()', [false, false]],
      ['select email from mv_emails', [true]],
    ])('%s', async (text, expected) => {
      const { lineage } = await prepared(text);
      expect(lineage.columns?.map((c) => c.sensitive)).toEqual(expected);
    });

    it.each([
      // [statement, expected actions]: RowDescription origins as the server reports them
      ['select id, email, name, phone from users', ['pass', 'mask', 'detect', 'detect']],
      ['select * from user_contacts', ['pass', 'mask', 'detect']], // the view's own OID, followed through its definition
      ['select u from users u', ['mask']], // whole row: attribute 0
      ['select lower(email) as x, id + 1 as y from users', ['mask', 'pass']], // no origin: lineage
      ['select c.number from billing.cards c', ['mask']],
      ['select email from mv_emails', ['mask']],
      ['select password_hash from users', ['mask']],
    ])('plans %s', async (text, expected) => {
      const { catalog, lineage } = await prepared(text);
      const fields = await describeFields(text);
      const plan = planResult(fields, lineage, catalog, rules);
      expect(plan.columns.map((c) => c.action)).toEqual(expected);
      expect(plan.needsRowWork).toBe(true);
    });

    it('a result with only non-text, non-sensitive columns needs no row work', async () => {
      const text = 'select id, id * 2 as twice, now() as at from users';
      const { catalog, lineage } = await prepared(text);
      expect(planResult(await describeFields(text), lineage, catalog, rules).needsRowWork).toBe(false);
    });
  });
});
