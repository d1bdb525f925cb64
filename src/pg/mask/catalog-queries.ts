/**
 * Catalog queries for the cache. Each returns one row with one text column `r` holding a JSON
 * array, and takes its lists as JSON text (`$1::text::json`: typed text, so no driver serialises
 * it as a JSON value a second time): so the rows read the same whichever driver or
 * protocol runs them (text or binary results, arrays parsed or not).
 */

export const SETTINGS_SQL = `select json_build_object(
  'path', current_schemas(true),
  'version', current_setting('server_version_num')::int
)::text as r`;

export const TYPES_SQL = `select coalesce(json_agg(json_build_object(
  'oid', t.oid, 'name', t.typname, 'category', t.typcategory, 'base', t.typbasetype, 'elem', t.typelem
)), '[]')::text as r
from pg_type t
where t.oid >= 16384 and t.typtype in ('b', 'd', 'e', 'r', 'm') and t.typrelid = 0
  and (t.typelem = 0 or not exists (select 1 from pg_type e where e.oid = t.typelem and e.typrelid <> 0))`;

/** $1: JSON array of relation names (unqualified), $2: JSON array of OIDs. */
export const RELATIONS_SQL = `select coalesce(json_agg(json_build_object(
  'oid', c.oid, 'schema', n.nspname, 'name', c.relname, 'kind', c.relkind,
  'columns', (select coalesce(json_agg(case when a.attisdropped then null else a.attname end order by a.attnum), '[]')
              from pg_attribute a where a.attrelid = c.oid and a.attnum > 0),
  'types', (select coalesce(json_agg(a.atttypid order by a.attnum), '[]')
            from pg_attribute a where a.attrelid = c.oid and a.attnum > 0),
  'definition', case when c.relkind in ('v', 'm') then pg_get_viewdef(c.oid) end
)), '[]')::text as r
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p', 'v', 'm', 'f')
  and (c.relname in (select json_array_elements_text($1::text::json))
       or c.oid in (select json_array_elements_text($2::text::json)::oid))`;

/** $1: JSON array of function names (unqualified). SQL bodies: BEGIN ATOMIC ones need PostgreSQL 14's pg_get_function_sqlbody. */
export function functionsSql(serverVersion: number): string {
  const body = serverVersion >= 140000 ? `case when p.prosqlbody is not null then pg_get_function_sqlbody(p.oid) else p.prosrc end` : `p.prosrc`;
  return `select coalesce(json_agg(json_build_object(
  'schema', n.nspname, 'name', p.proname, 'language', l.lanname, 'returnsSet', p.proretset, 'argCount', p.pronargs,
  'body', case when l.lanname = 'sql' then ${body} end,
  'returnsRelation', (select quote_ident(rn.nspname) || '.' || quote_ident(rc.relname)
                      from pg_type rt join pg_class rc on rc.oid = rt.typrelid join pg_namespace rn on rn.oid = rc.relnamespace
                      where rt.oid = p.prorettype and rt.typrelid <> 0),
  'outputColumns', (select json_agg(u.nm order by u.i)
                    from unnest(p.proargnames, p.proargmodes::text[]) with ordinality as u(nm, md, i)
                    where u.md in ('o', 'b', 't'))
)), '[]')::text as r
from pg_proc p join pg_namespace n on n.oid = p.pronamespace join pg_language l on l.oid = p.prolang
where p.prokind in ('f', 'a', 'w') and p.proname in (select json_array_elements_text($1::text::json))`;
}

/**
 * A SQL function body as plain statements: `BEGIN ATOMIC … END` unwrapped, `RETURN expr` read as
 * `SELECT expr` (the two SQL-standard body forms pg_get_function_sqlbody prints).
 */
export function normalizeFunctionBody(body: string): string {
  const trimmed = body.trim();
  const atomic = /^BEGIN\s+ATOMIC\b([\s\S]*)\bEND;?$/i.exec(trimmed);
  if (atomic) return atomic[1]!.trim();
  const ret = /^RETURN\b([\s\S]*)$/i.exec(trimmed);
  if (ret) return `SELECT ${ret[1]!.trim()}`;
  return trimmed;
}
