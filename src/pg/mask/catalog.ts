/**
 * What masking needs to know about the upstream database, asked synchronously while a result
 * streams: relations (columns by attribute number, view definitions), SQL function bodies and
 * user-defined types. `createStaticCatalog` holds a fixed set (tests, and the cache's storage);
 * `createCatalogCache` (catalog-cache.ts) loads it from PostgreSQL.
 */

export type RelationKind = 'table' | 'view' | 'matview' | 'foreign' | 'other';

export interface RelationInfo {
  oid: number;
  schema: string;
  name: string;
  kind: RelationKind;
  /** Index attnum − 1; null for a dropped column. */
  columns: (string | null)[];
  /** Type OID per column, same indexes as `columns`, when known. */
  columnTypes?: number[];
  /** The view's (or materialized view's) query, as pg_get_viewdef prints it. */
  viewDefinition?: string;
}

export interface FunctionInfo {
  schema: string;
  name: string;
  language: string;
  /** SQL statements of the body (for `BEGIN ATOMIC` bodies, the statements inside); null when not SQL or unknown. */
  body: string | null;
  returnsSet: boolean;
  argCount?: number;
  /** `schema.table` when the function returns that table's row type (`RETURNS SETOF users`). */
  returnsRelation?: string | null;
  /** Names of OUT / TABLE columns, when declared. */
  outputColumns?: string[] | null;
}

export interface TypeInfo {
  oid: number;
  name: string;
  /** pg_type.typcategory: 'S' string, 'N' numeric, 'E' enum, 'A' array, 'U' user-defined… */
  category: string;
  /** For a domain, its base type; otherwise 0. */
  baseOid: number;
  /** For an array, its element type; otherwise 0. */
  elemOid: number;
}

export interface CatalogSnapshot {
  /** `schema` null: resolved along the search path, as PostgreSQL would. */
  relation(schema: string | null, name: string): RelationInfo | undefined;
  relationByOid(oid: number): RelationInfo | undefined;
  functions(schema: string | null, name: string): FunctionInfo[];
  type(oid: number): TypeInfo | undefined;
}

export interface StaticCatalogData {
  relations?: RelationInfo[];
  functions?: FunctionInfo[];
  types?: TypeInfo[];
  /** Schemas searched for unqualified names, in order (default: pg_catalog, public). */
  searchPath?: string[];
}

export const DEFAULT_SEARCH_PATH: readonly string[] = ['pg_catalog', 'public'];

export function createStaticCatalog(data: StaticCatalogData): CatalogSnapshot {
  const byName = new Map<string, RelationInfo>();
  const byOid = new Map<number, RelationInfo>();
  for (const relation of data.relations ?? []) {
    byName.set(qualifiedKey(relation.schema, relation.name), relation);
    byOid.set(relation.oid, relation);
  }
  const functionsByName = new Map<string, FunctionInfo[]>();
  for (const fn of data.functions ?? []) {
    const key = qualifiedKey(fn.schema, fn.name);
    functionsByName.set(key, [...(functionsByName.get(key) ?? []), fn]);
  }
  const types = new Map((data.types ?? []).map((t) => [t.oid, t]));
  const searchPath = data.searchPath ?? DEFAULT_SEARCH_PATH;

  return {
    relation(schema, name) {
      if (schema !== null) return byName.get(qualifiedKey(schema, name));
      for (const s of searchPath) {
        const found = byName.get(qualifiedKey(s, name));
        if (found) return found;
      }
      return undefined;
    },
    relationByOid: (oid) => byOid.get(oid),
    functions(schema, name) {
      if (schema !== null) return functionsByName.get(qualifiedKey(schema, name)) ?? [];
      for (const s of searchPath) {
        const found = functionsByName.get(qualifiedKey(s, name));
        if (found) return found;
      }
      return [];
    },
    type: (oid) => types.get(oid),
  };
}

/** Map key for a schema-qualified name; NUL cannot occur in an identifier. */
export function qualifiedKey(schema: string, name: string): string {
  return `${schema}\u0000${name}`;
}

/**
 * Splits `schema.name` or `name`; a part containing a dot or quote is written double-quoted
 * (`"my.schema".orders`), as `formatQualified` does.
 */
export function splitQualified(text: string): { schema: string | null; name: string } {
  const parts: string[] = [];
  let i = 0;
  while (i <= text.length) {
    if (text[i] === '"') {
      let part = '';
      i += 1;
      while (i < text.length) {
        if (text[i] === '"' && text[i + 1] === '"') (part += '"'), (i += 2);
        else if (text[i] === '"') break;
        else (part += text[i]), (i += 1);
      }
      parts.push(part);
      i += 2; // closing quote and the dot
    } else {
      const dot = text.indexOf('.', i);
      const end = dot === -1 ? text.length : dot;
      parts.push(text.slice(i, end));
      i = end + 1;
    }
  }
  if (parts.length >= 2) return { schema: parts[parts.length - 2]!, name: parts[parts.length - 1]! };
  return { schema: null, name: parts[0] ?? '' };
}

export function formatQualified(schema: string | null, name: string): string {
  const quote = (part: string) => (/[."]/.test(part) ? `"${part.replace(/"/g, '""')}"` : part);
  return schema === null ? quote(name) : `${quote(schema)}.${quote(name)}`;
}
