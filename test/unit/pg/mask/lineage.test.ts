import { beforeAll, describe, expect, it } from 'vitest';
import { computeLineage, type StatementLineage } from '../../../../src/pg/mask/index.ts';
import { loadSqlParser, parseSql } from '../../../../src/pg/sql/parser.ts';
import { catalog, rulesFor } from './catalog-fixture.ts';

beforeAll(() => loadSqlParser());

const matcher = rulesFor().columns;

function lineageOf(text: string, options = {}): StatementLineage {
  const parsed = parseSql(text);
  if (!parsed.ok) throw new Error(`${text}: ${parsed.message}`);
  return computeLineage(parsed.tree.stmts![0]!.stmt!, catalog, matcher, options);
}

/** Per output column: S sensitive, - not. `null` when positions cannot be aligned. */
function shape(l: StatementLineage): string | null {
  return l.columns === null ? null : l.columns.map((c) => (c.sensitive ? 'S' : '-')).join('');
}

// [statement, expected column sensitivity (S/-), referencedSensitive]
const TABLE: Array<[string, string | null, boolean]> = [
  ['select id, email, name from users', '-S-', true],
  ['select u.email as contact from users u', 'S', true],
  ['select lower(email) from users', 'S', true],
  ['select upper(trim(u.email)) from public.users u', 'S', true],
  ['select email::varchar(100), id::text from users', 'S-', true],
  ['select cast(email as bytea) from users', 'S', true],
  ["select name || ' <' || email || '>' from users", 'S', true],
  ["select concat(name, email), format('%s', email) from users", 'SS', true],
  ['select row_to_json(u) from users u', 'S', true],
  ['select to_jsonb(u.*) from users u', 'S', true],
  ['select row_to_json(o) from orders o', '-', false],
  ['select json_agg(u) from users u', 'S', true],
  ['select json_agg(email), count(*) from users', 'S-', true],
  ["select string_agg(email, ', ' order by id) from users", 'S', true],
  ['select array_agg(name order by email) from users', '-', true],
  ['select array_agg(password_hash) from users', 'S', true],
  ["select json_build_object('e', email) from users", 'S', true],
  ['select jsonb_build_object(\'u\', u) from users u', 'S', true],
  ['select name from users union select email from users', 'S', true],
  ['select id, name from users union all select id, note from orders', '--', false],
  ['select email from users intersect select note from orders', 'S', true],
  ['select name from users except select email from users', '-', true],
  ['with x as (select email e from users) select e from x', 'S', true],
  ['with x(a, b) as (select id, email from users) select b, a from x', 'S-', true],
  ['with recursive r(n, e) as (select 1, email from users union all select n + 1, e from r where n < 3) select n, e from r', '-S', true],
  ['with recursive r(a, b) as (select name, email from users union all select b, a from r) select a from r', 'S', true],
  ['select s.x from (select email as x, id from users) s', 'S', true],
  ['select * from (select email, id from users) s(e, i)', 'S-', true],
  ['select (select email from users u2 where u2.id = o.user_id) from orders o', 'S', true],
  ['select array(select email from users)', 'S', true],
  ['select exists(select email from users), 1', '--', true],
  ['select * from users', '-S--S-'.replace('--S-', '-S-'), true],
  ['select o.*, u.name from orders o join users u on u.id = o.user_id', '-----', false],
  ['select u.* from users u join orders o on o.user_id = u.id', '-S-S-', true],
  ['select * from users join orders using (id)', '-S-S----', true],
  ['select * from users natural join orders', '-S-S----', true],
  ['select j.email from (users join orders using (id)) as j', 'S', true],
  ['select * from user_contacts', '-S-', true],
  ['select contact, number from contacts_v2', 'SS', true],
  ['select * from mv_emails', '-S', true],
  ['select * from emails_of(1)', 'S', true],
  ['select e from emails_of(1) as e', 'S', true],
  ['select email_of(id) from orders', 'S', true],
  ['select * from user_rows()', '-S-S-', true],
  ['merge into orders o using users u on u.id = o.user_id when not matched then insert (note) values (u.email) returning o.note', 'S', true],
  ['select * from tbl()', '--', false],
  ['select x from unnest(array[1,2]) x', '-', false],
  ['select t, ord from unnest((select array_agg(email) from users)) with ordinality as u(t, ord)', 'S-', true],
  ['select * from jsonb_each((select to_jsonb(u) from users u limit 1))', 'SS', true],
  ['select k from json_each_text(\'{}\') as j(k, v)', '-', false],
  ['select case when id > 1 then email else name end from users', 'S', true],
  ['select coalesce(email, name), nullif(name, email) from users', 'SS', true],
  ['select greatest(email, name) from users', 'S', true],
  ['select (u).email, (u).name from users u', 'S-', true],
  ['select tags[1] from users', '-', false],
  ['select email = $1 from users', 'S', true],
  ['values (1, \'a\'), (2, \'b\')', '--', false],
  ['select * from (values (1, \'x\')) v(a, b)', '--', false],
  ['insert into orders (note) select email from users returning note, id', 'S-', true],
  ['insert into users (id, email) values ($1, $2) returning *', '-S-S-', true],
  ['update users set name = email where id = 1 returning name', 'S', true],
  ['update orders o set note = u.email from users u where u.id = o.user_id returning o.note, u.name', 'S-', true],
  ['delete from users where id = 1 returning email, id', 'S-', true],
  ['delete from orders using users u where u.id = orders.user_id returning u.password_hash', 'S', true],
  ['merge into orders o using users u on u.id = o.user_id when matched then update set note = u.email returning o.note', 'S', true],
  ['insert into orders (id) values (1) on conflict (id) do update set note = excluded.note returning note', '-', false],
  ['select 1 from users where email like \'%@x.com\'', '-', true],
  ['select count(*) from users', '-', false],
  ['select * from unknown_table', null, true],
  ['select a from unknown_table', '-', false],
  ['select 1 into tmp_copy from users', '', false],
  ['declare c cursor for select email from users', 'S', true],
  ['copy users to stdout', '-S-S-', true],
  ['copy users (name, email) to stdout', '-S', true],
  ['copy (select name, email from users) to stdout', '-S', true],
  ['copy users from stdin', '', false],
  ['explain analyze select email from users', null, false],
  ['show search_path', null, false],
  ['prepare p as select email from users', 'S', true],
  ['create table t2 as select email from users', 'S', true],
  ['select secret_of(1)', '-', false],
  ['select n.number from billing.cards n', 'S', true],
  ['select number from cards', '-', false],
  ['select x.email from users x, lateral (select 1) y', 'S', true],
  ['select * from users u, lateral (select u.email as m) s', '-S-S-S', true],
];

describe('lineage', () => {
  it('covers at least 40 statements', () => expect(TABLE.length).toBeGreaterThanOrEqual(40));

  it.each(TABLE)('%s', (text, expected, referenced) => {
    const lineage = lineageOf(text);
    expect(shape(lineage)).toBe(expected);
    expect(lineage.referencedSensitive).toBe(referenced);
  });

  it('names the sources and whole rows', () => {
    const [contact, row] = lineageOf('select lower(u.email) as contact, row_to_json(u) from users u').columns!;
    expect(contact).toMatchObject({ name: 'contact', sources: ['public.users.email'], wholeRows: [] });
    expect(row!.wholeRows).toEqual(['public.users']);
  });

  it('keeps types of plain columns and built-in casts (for COPY)', () => {
    expect(lineageOf('select id, email, email::varchar, tags, id + 1 from users').columns!.map((c) => c.typeOid)).toEqual([23, 25, 1043, 1009, null]);
  });

  it('marks values from procedural functions as opaque', () => {
    expect(lineageOf('select secret_of(1), lower(\'x\')').columns!.map((c) => c.opaque)).toEqual([true, false]);
  });

  it('follows FETCH and EXECUTE through the lineage the caller kept, and fails closed otherwise', () => {
    const declared = lineageOf('declare c cursor for select id, email from users');
    expect(lineageOf('fetch 10 from c', { cursors: new Map([['c', declared]]) })).toBe(declared);
    expect(lineageOf('fetch 10 from other')).toEqual({ columns: null, referencedSensitive: true });
    const prepared = lineageOf('prepare p as select email from users');
    expect(lineageOf('execute p', { prepared: new Map([['p', prepared]]) })).toBe(prepared);
    expect(lineageOf('execute q')).toEqual({ columns: null, referencedSensitive: true });
    expect(lineageOf('move 5 in c').columns).toEqual([]);
  });

  it('stops following views at the depth limit and treats what is beyond as sensitive', () => {
    expect(shape(lineageOf('select * from contacts_v2', { maxDepth: 1 }))).toBe('SS');
    expect(shape(lineageOf('select name from user_contacts', { maxDepth: 0 }))).toBe('S');
  });

  it('with no column globs nothing is sensitive', () => {
    const parsed = parseSql('select email, row_to_json(u) from users u');
    if (!parsed.ok) throw new Error('parse');
    const lineage = computeLineage(parsed.tree.stmts![0]!.stmt!, catalog, rulesFor('redact', []).columns);
    expect(shape(lineage)).toBe('--');
    expect(lineage.referencedSensitive).toBe(false);
  });
});
