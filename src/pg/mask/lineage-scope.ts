/**
 * Name resolution for lineage, following PostgreSQL's rules closely enough to find what a column
 * reference reads (parse_relation.c): FROM items and their aliases, USING-merged join columns,
 * outer queries for correlated references, and a bare name that is no column but a FROM alias
 * meaning the whole row. Where the catalog does not know a relation's columns, references into it
 * are attributed to it by name, so they can still be judged.
 */
import type { CatalogSnapshot } from './catalog.ts';
import { Origin } from './lineage-origin.ts';

/** One output column of a query or FROM item. */
export interface Col {
  name: string;
  origin: Origin;
  /** Known when the column is a plain reference to a table column or a cast to a built-in type. */
  typeOid: number | null;
}

/** A name visible in FROM: a table, view, subquery, function, CTE or aliased join. */
export interface Entry {
  alias: string;
  /** Null when the columns are not known (a relation missing from the catalog, an unknown function). */
  columns: Col[] | null;
  /** For an unknown relation: where to attribute references to its columns. */
  guess: { schema: string; table: string } | null;
  /** The whole row as a value. */
  row: Origin;
}

/** One top-level FROM item (a join is one item holding several entries). */
export interface FromItem {
  entries: Entry[];
  /** What `*` expands to, in order; null when not known. */
  columns: Col[] | null;
  /** Join columns merged by USING / NATURAL, referenced unqualified. */
  merged: Map<string, Col>;
}

export interface CteTable {
  defs: Map<string, Col[] | null>;
  parent: CteTable | null;
}

export interface Scope {
  items: FromItem[];
  parent: Scope | null;
  ctes: CteTable | null;
  /** Output columns, for ORDER BY / GROUP BY names that refer to them. */
  outputs: Col[] | null;
}

export interface ResolveContext {
  catalog: CatalogSnapshot;
  /** Every origin referenced anywhere in the statement (for `referencedSensitive`). */
  seen: Origin;
}

export function newScope(parent: Scope | null, ctes: CteTable | null): Scope {
  return { items: [], parent, ctes, outputs: null };
}

export function findCte(ctes: CteTable | null, name: string): { columns: Col[] | null } | undefined {
  for (let t = ctes; t; t = t.parent) if (t.defs.has(name)) return { columns: t.defs.get(name)! };
  return undefined;
}

function findEntry(scope: Scope, alias: string, schema: string | null): Entry | undefined {
  for (const item of scope.items) {
    for (const entry of item.entries) {
      if (entry.alias !== alias) continue;
      if (schema !== null && entry.guess && entry.guess.schema !== schema) continue;
      return entry;
    }
  }
  return undefined;
}

/** A column of an entry, or its attribution by name when the entry's columns are unknown. */
function entryColumn(entry: Entry, name: string): Col | undefined {
  if (entry.columns) return entry.columns.find((c) => c.name === name);
  if (entry.guess) return { name, origin: Origin.column(entry.guess.schema, entry.guess.table, name), typeOid: null };
  const opaque = new Origin();
  opaque.add(entry.row);
  return { name, origin: opaque, typeOid: null };
}

export type Resolved = { kind: 'column'; col: Col; guessed?: boolean } | { kind: 'row'; entry: Entry } | { kind: 'none' };

/**
 * Resolves a column reference's name parts (without `*`) from the innermost scope outwards. A name
 * only attributed to a relation of unknown columns might as well be an outer reference, so the
 * search goes on and both are kept.
 */
export function resolveNames(parts: string[], scope: Scope | null): Resolved {
  let guessed: Col | null = null;
  for (let s = scope; s; s = s.parent) {
    const found = resolveInScope(parts, s);
    if (found.kind === 'column' && found.guessed) {
      guessed = guessed ? mergeCols(found.col.name, [guessed, found.col]) : found.col;
      continue;
    }
    if (found.kind === 'column' && guessed) return { kind: 'column', col: mergeCols(found.col.name, [guessed, found.col]) };
    if (found.kind !== 'none') return found;
  }
  return guessed ? { kind: 'column', col: guessed } : { kind: 'none' };
}

function resolveInScope(parts: string[], scope: Scope): Resolved {
  if (parts.length === 1) {
    const name = parts[0]!;
    const matches: Col[] = [];
    for (const item of scope.items) {
      const merged = item.merged.get(name);
      if (merged) {
        matches.push(merged);
        continue;
      }
      for (const entry of item.entries) {
        const col = entry.columns?.find((c) => c.name === name);
        if (col) matches.push(col);
      }
    }
    if (matches.length === 1) return { kind: 'column', col: matches[0]! };
    if (matches.length > 1) return { kind: 'column', col: mergeCols(name, matches) }; // ambiguous: the server refuses; be safe
    const entry = findEntry(scope, name, null);
    if (entry) return { kind: 'row', entry };
    // Not a known column: attribute it to every relation whose columns we do not know.
    const guesses = scope.items.flatMap((item) => item.entries.filter((e) => e.columns === null));
    if (guesses.length > 0) return { kind: 'column', col: mergeCols(name, guesses.map((e) => entryColumn(e, name)!)), guessed: true };
    const output = scope.outputs?.find((c) => c.name === name);
    if (output) return { kind: 'column', col: output };
    return { kind: 'none' };
  }
  // alias.column, schema.table.column, catalog.schema.table.column
  const column = parts[parts.length - 1]!;
  const alias = parts[parts.length - 2]!;
  const schema = parts.length >= 3 ? parts[parts.length - 3]! : null;
  const entry = findEntry(scope, alias, schema);
  if (!entry) return { kind: 'none' };
  const col = entryColumn(entry, column);
  return col ? { kind: 'column', col } : { kind: 'none' };
}

/** `alias.*` or `alias` as a whole row: the entry whose row it is. */
export function resolveEntry(parts: string[], scope: Scope | null): Entry | undefined {
  const alias = parts[parts.length - 1]!;
  const schema = parts.length >= 2 ? parts[parts.length - 2]! : null;
  for (let s = scope; s; s = s.parent) {
    const entry = findEntry(s, alias, schema);
    if (entry) return entry;
  }
  return undefined;
}

export function mergeCols(name: string, cols: Col[]): Col {
  const origin = new Origin();
  for (const c of cols) origin.add(c.origin);
  const type = cols[0]?.typeOid ?? null;
  return { name, origin, typeOid: cols.every((c) => c.typeOid === type) ? type : null };
}

/** The whole-row origin of an entry with known columns: every column, plus the table row itself. */
export function rowOfColumns(columns: Col[] | null, base: Origin | null): Origin {
  const row = new Origin();
  if (base) row.add(base);
  if (columns) for (const c of columns) row.add(c.origin);
  return row;
}

/** Columns renamed by an alias's column list (`AS t(a, b)`); extra columns keep their names. */
export function renameColumns(columns: Col[] | null, names: string[]): Col[] | null {
  if (!columns || names.length === 0) return columns;
  return columns.map((c, i) => (i < names.length ? { ...c, name: names[i]! } : c));
}
