/**
 * FROM items as lineage sees them: tables and views (columns from the catalog, views through their
 * definitions), CTE references, sub-queries, joins (USING / NATURAL merge columns, an aliased join
 * renames them), set-returning functions (SQL bodies the catalog knows, declared result columns,
 * a few built-ins of known shape), XMLTABLE / JSON_TABLE and TABLESAMPLE.
 */
import type { RelationInfo } from './catalog.ts';
import { exprOrigin, noteReferences, stringsOf, type AnyNode, type ExprContext } from './lineage-expr.ts';
import { Origin } from './lineage-origin.ts';
import { findCte, mergeCols, renameColumns, rowOfColumns, type Col, type Entry, type FromItem, type Scope } from './lineage-scope.ts';

export interface FromContext extends ExprContext {
  /** Schema assumed for an unqualified relation the catalog does not know. */
  defaultSchema: string;
  /** A relation's columns: a table's own, a view's through its definition; null when unknown. */
  relationColumns(relation: RelationInfo): Col[] | null;
  /** Columns a function call in FROM returns, when the catalog can tell; undefined otherwise. */
  functionColumns(name: string[], argCount: number): Col[] | null | undefined;
}

/** Built-in set-returning functions whose output column count does not depend on the catalog. */
const BUILTIN_COLUMNS: Record<string, string[]> = {
  generate_series: ['generate_series'],
  generate_subscripts: ['generate_subscripts'],
  regexp_split_to_table: ['regexp_split_to_table'],
  string_to_table: ['string_to_table'],
  regexp_matches: ['regexp_matches'],
  json_array_elements: ['value'],
  json_array_elements_text: ['value'],
  jsonb_array_elements: ['value'],
  jsonb_array_elements_text: ['value'],
  json_object_keys: ['json_object_keys'],
  jsonb_object_keys: ['jsonb_object_keys'],
  jsonb_path_query: ['jsonb_path_query'],
  json_each: ['key', 'value'],
  json_each_text: ['key', 'value'],
  jsonb_each: ['key', 'value'],
  jsonb_each_text: ['key', 'value'],
};

const EMPTY_ITEM = (): FromItem => ({ entries: [], columns: null, merged: new Map() });

export function fromItem(node: AnyNode, scope: Scope, ctx: FromContext): FromItem {
  const [tag, body] = Object.entries(node)[0] ?? [];
  const b = (body ?? {}) as AnyNode;
  switch (tag) {
    case 'RangeVar':
      return single(rangeVarEntry(b, scope, ctx));
    case 'RangeSubselect':
      return single(subselectEntry(b, scope, ctx));
    case 'JoinExpr':
      return joinItem(b, scope, ctx);
    case 'RangeFunction':
      return single(functionEntry(b, scope, ctx));
    case 'RangeTableSample':
      noteReferences(b.args, scope, ctx);
      noteReferences(b.repeatable, scope, ctx);
      return fromItem(b.relation as AnyNode, scope, ctx);
    case 'RangeTableFunc':
      return single(tableFuncEntry(b, ((b.columns as AnyNode[]) ?? []).map((c) => ((c.RangeTableFuncCol as AnyNode)?.colname as string) ?? ''), [b.docexpr, b.rowexpr, b.columns], scope, ctx));
    case 'JsonTable':
      return single(tableFuncEntry(b, jsonTableColumnNames(b.columns), [b.context_item, b.passing, b.columns], scope, ctx));
    default:
      return EMPTY_ITEM();
  }
}

function single(entry: Entry): FromItem {
  return { entries: [entry], columns: entry.columns, merged: new Map() };
}

function aliasOf(b: AnyNode): { name: string | undefined; columns: string[] } {
  const alias = b.alias as AnyNode | undefined;
  return { name: alias?.aliasname as string | undefined, columns: stringsOf(alias?.colnames) };
}

export function rangeVarEntry(rv: AnyNode, scope: Scope, ctx: FromContext): Entry {
  const relname = (rv.relname as string) ?? '';
  const schema = (rv.schemaname as string | undefined) ?? null;
  const alias = aliasOf(rv);
  const name = alias.name ?? relname;
  if (schema === null) {
    const cte = findCte(scope.ctes, relname);
    if (cte) {
      const columns = renameColumns(cte.columns, alias.columns);
      return { alias: name, columns, guess: null, row: columns ? rowOfColumns(columns, null) : Origin.unsure() };
    }
  }
  const relation = ctx.catalog.relation(schema, relname);
  if (!relation) {
    const guessSchema = schema ?? ctx.defaultSchema;
    return { alias: name, columns: null, guess: { schema: guessSchema, table: relname }, row: Origin.row(guessSchema, relname) };
  }
  const columns = renameColumns(ctx.relationColumns(relation), alias.columns);
  const base = relation.kind === 'view' || relation.kind === 'matview' ? null : Origin.row(relation.schema, relation.name);
  return { alias: name, columns, guess: null, row: columns || base ? rowOfColumns(columns, base) : Origin.unsure() };
}

function subselectEntry(b: AnyNode, scope: Scope, ctx: FromContext): Entry {
  const result = ctx.subquery(b.subquery as AnyNode, scope);
  const alias = aliasOf(b);
  const columns = renameColumns(result.columns, alias.columns);
  return { alias: alias.name ?? 'unnamed_subquery', columns, guess: null, row: columns ? rowOfColumns(columns, null) : result.everything };
}

function itemColumn(item: FromItem, name: string): Col {
  const found = item.merged.get(name) ?? item.columns?.find((c) => c.name === name);
  if (found) return found;
  const origin = new Origin();
  for (const e of item.entries) origin.add(e.guess ? Origin.column(e.guess.schema, e.guess.table, name) : e.row);
  return { name, origin, typeOid: null };
}

function joinItem(b: AnyNode, scope: Scope, ctx: FromContext): FromItem {
  const left = fromItem(b.larg as AnyNode, scope, ctx);
  const lateral: Scope = { ...scope, items: [...scope.items, left] };
  const right = fromItem(b.rarg as AnyNode, lateral, ctx);
  let using = stringsOf(b.usingClause);
  if (b.isNatural) {
    using = left.columns && right.columns ? left.columns.map((c) => c.name).filter((n) => right.columns!.some((c) => c.name === n)) : [];
  }
  const mergedCols = using.map((name) => mergeCols(name, [itemColumn(left, name), itemColumn(right, name)]));
  const naturalUnknown = b.isNatural === true && (!left.columns || !right.columns);
  const columns =
    left.columns && right.columns && !naturalUnknown
      ? [...mergedCols, ...left.columns.filter((c) => !using.includes(c.name)), ...right.columns.filter((c) => !using.includes(c.name))]
      : null;
  const merged = new Map([...left.merged, ...right.merged, ...mergedCols.map((c) => [c.name, c] as const)]);
  const entries = [...left.entries, ...right.entries];
  const alias = aliasOf(b);
  if (alias.name) {
    const renamed = renameColumns(columns, alias.columns);
    entries.push({ alias: alias.name, columns: renamed, guess: null, row: renamed ? rowOfColumns(renamed, null) : rowOfEntries(entries) });
  }
  const usingAlias = (b.join_using_alias as AnyNode | undefined)?.aliasname as string | undefined;
  if (usingAlias) entries.push({ alias: usingAlias, columns: mergedCols, guess: null, row: rowOfColumns(mergedCols, null) });
  noteReferences(b.quals, { ...scope, items: [...scope.items, left, right] }, ctx);
  return { entries, columns, merged };
}

function rowOfEntries(entries: Entry[]): Origin {
  const row = new Origin();
  for (const e of entries) row.add(e.row);
  return row;
}

function functionEntry(b: AnyNode, scope: Scope, ctx: FromContext): Entry {
  const alias = aliasOf(b);
  let columns: Col[] | null = [];
  let firstName = 'unnamed';
  let scalar = true;
  const functions = (b.functions as AnyNode[]) ?? [];
  for (const [k, fn] of functions.entries()) {
    const items = ((fn.List as AnyNode | undefined)?.items as AnyNode[]) ?? [];
    const call = items[0] ?? {};
    // `f() AS t(a int)` puts the column definitions on the RangeFunction; ROWS FROM (f() AS (a int)) beside each call.
    const defs = ((items[1]?.List as AnyNode | undefined)?.items as AnyNode[] | undefined) ?? (functions.length === 1 ? (b.coldeflist as AnyNode[] | undefined) : undefined) ?? [];
    const coldefs = defs.map((d) => ((d.ColumnDef as AnyNode)?.colname as string) ?? '');
    const produced = functionColumns(call, coldefs, scope, ctx);
    if (k === 0) firstName = produced.name;
    scalar &&= produced.scalar;
    columns = columns && produced.columns ? [...columns, ...produced.columns] : null;
  }
  if (columns && b.ordinality) columns.push({ name: 'ordinality', origin: new Origin(), typeOid: 20 });
  // A function returning a scalar takes the alias as its column name: `FROM lower(x) AS l` gives column l.
  if (columns && scalar && columns.length === 1 && alias.name && alias.columns.length === 0) columns = [{ ...columns[0]!, name: alias.name }];
  columns = renameColumns(columns, alias.columns);
  return { alias: alias.name ?? firstName, columns, guess: null, row: columns ? rowOfColumns(columns, null) : exprOrigin(b.functions, scope, ctx) };
}

function functionColumns(call: AnyNode, coldefs: string[], scope: Scope, ctx: FromContext): { name: string; columns: Col[] | null; scalar: boolean } {
  const fc = call.FuncCall as AnyNode | undefined;
  if (!fc) {
    const origin = exprOrigin(call, scope, ctx);
    return { name: 'unnamed', columns: [{ name: 'unnamed', origin, typeOid: null }], scalar: true };
  }
  const names = stringsOf(fc.funcname);
  const name = names[names.length - 1] ?? 'unnamed';
  const args = (fc.args as unknown[]) ?? [];
  const argOrigin = exprOrigin(args, scope, ctx);
  const withArgs = (cols: Col[]) => cols.map((c) => ({ ...c, origin: new Origin().add(c.origin).add(argOrigin) }));
  const declared = ctx.functionColumns(names, args.length);
  if (coldefs.length > 0) {
    const origin = new Origin().add(argOrigin);
    if (declared) for (const c of declared) origin.add(c.origin);
    else if (declared === null) origin.opaque = true;
    return { name, columns: coldefs.map((n) => ({ name: n, origin, typeOid: null })), scalar: false };
  }
  // One result column: almost always a scalar function (a one-column row type is rare), named by its alias.
  if (declared) return { name, columns: withArgs(declared), scalar: declared.length === 1 };
  const builtin = name === 'unnest' ? args.map(() => 'unnest') : BUILTIN_COLUMNS[name];
  if (builtin && names.length <= 2) return { name, columns: builtin.map((n) => ({ name: n, origin: argOrigin, typeOid: null })), scalar: builtin.length === 1 };
  return { name, columns: null, scalar: false };
}

function tableFuncEntry(b: AnyNode, names: string[], inputs: unknown[], scope: Scope, ctx: FromContext): Entry {
  const origin = exprOrigin(inputs, scope, ctx);
  const alias = aliasOf(b);
  const columns = renameColumns(names.map((name) => ({ name, origin, typeOid: null })), alias.columns);
  return { alias: alias.name ?? 'unnamed', columns, guess: null, row: origin };
}

/** JSON_TABLE columns, NESTED PATH columns flattened in order. */
function jsonTableColumnNames(columns: unknown): string[] {
  const names: string[] = [];
  for (const c of (columns as AnyNode[]) ?? []) {
    const col = (c.JsonTableColumn as AnyNode) ?? {};
    if (col.coltype === 'JTC_NESTED') names.push(...jsonTableColumnNames(col.columns));
    else names.push((col.name as string) ?? '');
  }
  return names;
}
