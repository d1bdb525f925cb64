import { parseQualifiedName, qualifiedName } from './names.ts';

/**
 * Matching statement targets against `sql.protectedTables`. The policy's names follow SQL's
 * identifier rules (`users` is public.users, `"Users"` is another table). A statement that names
 * no schema matches a protected table of that name in any schema: the agent can change its
 * search_path, so "unqualified means public" would be a way around the list.
 */

export interface ProtectedTables {
  readonly empty: boolean;
  /** The protected table's canonical name when `schema.name` (or bare `name`) is one, else null. */
  match(schema: string | undefined, name: string): string | null;
}

interface Index extends ProtectedTables {
  readonly qualified: ReadonlyMap<string, string>;
  readonly byName: ReadonlyMap<string, string>;
}

// Built once per policy list (policies are immutable once loaded) rather than per statement.
const indexes = new WeakMap<readonly string[], Index>();

export function protectedTablesOf(list: readonly string[]): ProtectedTables {
  let index = indexes.get(list);
  if (!index) {
    index = buildIndex(list);
    indexes.set(list, index);
  }
  return index;
}

/** The canonical `schema.table` a policy entry names, or null when it is not a valid name. */
export function canonicalTableName(entry: string): string | null {
  const parts = parseQualifiedName(entry);
  if (!parts || parts.length > 2) return null;
  return parts.length === 2 ? qualifiedName(parts[0], parts[1]!) : qualifiedName('public', parts[0]!);
}

function buildIndex(list: readonly string[]): Index {
  const qualified = new Map<string, string>();
  const byName = new Map<string, string>();
  for (const entry of list) {
    const parts = parseQualifiedName(entry);
    if (!parts || parts.length > 2) continue; // the policy schema refuses these; never widen the match
    const [schema, name] = parts.length === 2 ? [parts[0]!, parts[1]!] : ['public', parts[0]!];
    const canonical = qualifiedName(schema, name);
    qualified.set(canonical, canonical);
    if (!byName.has(name)) byName.set(name, canonical);
  }
  return {
    empty: qualified.size === 0,
    qualified,
    byName,
    match(schema, name) {
      if (schema) return qualified.get(qualifiedName(schema, name)) ?? null;
      return byName.get(name) ?? null;
    },
  };
}

/**
 * The protected table a write to `relation` reaches, directly or through views (the catalog's
 * `viewBases`, followed a few levels deep), or null. Returns the protected table's name.
 */
export function protectedTarget(
  tables: ProtectedTables,
  schema: string | undefined,
  name: string,
  viewBases: ((qualifiedName: string) => readonly string[] | null | undefined) | undefined,
): string | null {
  if (tables.empty) return null;
  const direct = tables.match(schema, name);
  if (direct || !viewBases) return direct;
  const seen = new Set<string>();
  let frontier = [qualifiedName(schema, name)];
  // Views over views are followed; the depth bound only stops a catalog cycle from spinning.
  for (let depth = 0; depth < 8 && frontier.length > 0; depth += 1) {
    const next: string[] = [];
    for (const view of frontier) {
      if (seen.has(view)) continue;
      seen.add(view);
      for (const base of viewBases(view) ?? []) {
        const parts = parseQualifiedName(base);
        if (!parts || parts.length > 2) continue;
        const hit = parts.length === 2 ? tables.match(parts[0], parts[1]!) : tables.match(undefined, parts[0]!);
        if (hit) return hit;
        next.push(parts.length === 2 ? qualifiedName(parts[0], parts[1]!) : qualifiedName(undefined, parts[0]!));
      }
    }
    frontier = next;
  }
  return null;
}
