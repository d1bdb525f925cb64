/**
 * Column lineage of one parsed statement (issue 5, item 4): for each output column, the table
 * columns and whole rows its value is computed from, so that a sensitive column stays masked
 * through aliases, functions, casts, concatenation, aggregates, row_to_json, UNION branches,
 * CTEs, sub-queries, views and SQL functions — where RowDescription reports no origin at all.
 *
 * `columns` is null when the output positions cannot be aligned with the statement (a `*` over a
 * relation the catalog does not know, an EXECUTE or FETCH whose statement is unknown); the
 * planner then falls back on `referencedSensitive`.
 */
import type { CatalogSnapshot, RelationInfo } from './catalog.ts';
import type { ColumnMatcher } from './columns.ts';
import type { AnyNode } from './lineage-expr.ts';
import { formatColumnSource, formatRowSource, isOriginSensitive, type Origin } from './lineage-origin.ts';
import { QueryEngine } from './lineage-query.ts';
import { newScope, rowOfColumns, type Col } from './lineage-scope.ts';
import { rangeVarEntry } from './lineage-from.ts';

export interface ColumnLineage {
  name: string;
  /** `schema.table.column` of every column the value is computed from. */
  sources: string[];
  /** `schema.table` of every table whose whole row flows into the value. */
  wholeRows: string[];
  /** Part of the value comes from a function whose body is not known (PL/pgSQL, …). */
  opaque: boolean;
  /** Type OID when evident (a plain column or a cast to a built-in type), for COPY. */
  typeOid: number | null;
  /** Derived from a sensitive column under the policy the lineage was computed with. */
  sensitive: boolean;
}

export interface StatementLineage {
  /** One per output column; null when positions cannot be aligned; [] when no rows come back. */
  columns: ColumnLineage[] | null;
  /** Some sensitive column, or a whole row of a table with one, is referenced anywhere in the statement. */
  referencedSensitive: boolean;
}

export interface LineageOptions {
  /** Schema of unqualified relations the catalog does not know (default `public`). */
  defaultSchema?: string;
  /** Nesting of views and SQL functions followed (default 8). */
  maxDepth?: number;
  /** Lineage of open cursors (DECLARE), by name, for FETCH. */
  cursors?: ReadonlyMap<string, StatementLineage>;
  /** Lineage of SQL-level prepared statements (PREPARE), by name, for EXECUTE. */
  prepared?: ReadonlyMap<string, StatementLineage>;
}

const NO_ROWS: StatementLineage = { columns: [], referencedSensitive: false };
const NOT_DERIVED: StatementLineage = { columns: null, referencedSensitive: false };
const UNKNOWN: StatementLineage = { columns: null, referencedSensitive: true };

/** `stmt` is one `RawStmt.stmt` of a parse tree (`{ SelectStmt: … }`, `{ CopyStmt: … }`, …). */
export function computeLineage(stmt: object, catalog: CatalogSnapshot, matcher: ColumnMatcher, options: LineageOptions = {}): StatementLineage {
  const node = stmt as AnyNode;
  const engine = new QueryEngine(catalog, { defaultSchema: options.defaultSchema ?? 'public', maxDepth: options.maxDepth ?? 8 });
  const finish = (columns: Col[] | null): StatementLineage => ({
    columns: columns?.map((c) => describe(c, catalog, matcher)) ?? null,
    referencedSensitive: isOriginSensitive(engine.seen, catalog, matcher),
  });
  const [tag, body] = Object.entries(node)[0] ?? [];
  const b = (body ?? {}) as AnyNode;
  switch (tag) {
    case 'SelectStmt':
    case 'InsertStmt':
    case 'UpdateStmt':
    case 'DeleteStmt':
    case 'MergeStmt':
      return finish(engine.query(node, null, null).columns);
    case 'DeclareCursorStmt':
    case 'PrepareStmt':
    case 'CreateTableAsStmt':
      return b.query ? finish(engine.query(b.query as AnyNode, null, null).columns) : NOT_DERIVED;
    case 'CopyStmt':
      if (b.is_from) return NO_ROWS;
      if (b.query) return finish(engine.query(b.query as AnyNode, null, null).columns);
      return finish(copiedColumns(engine, b));
    case 'ExecuteStmt':
      return options.prepared?.get(b.name as string) ?? UNKNOWN;
    case 'FetchStmt':
      if (b.ismove) return NO_ROWS;
      return options.cursors?.get(b.portalname as string) ?? UNKNOWN;
    default:
      // EXPLAIN (even ANALYZE) returns the plan, not the rows; SHOW, utility statements: no table data.
      return NOT_DERIVED;
  }
}

/** `COPY table [(cols)] TO …`: the table's columns, or the listed ones in the listed order. */
function copiedColumns(engine: QueryEngine, copy: AnyNode): Col[] | null {
  const entry = rangeVarEntry((copy.relation as AnyNode) ?? {}, newScope(null, null), engine);
  engine.seen.add(entry.row);
  const listed = ((copy.attlist as AnyNode[]) ?? []).map((n) => ((n.String as AnyNode)?.sval as string) ?? '');
  if (!entry.columns) return null;
  if (listed.length === 0) return entry.columns;
  const picked = listed.map((name) => entry.columns!.find((c) => c.name === name));
  return picked.every((c): c is Col => c !== undefined) ? picked : null;
}

function describe(col: Col, catalog: CatalogSnapshot, matcher: ColumnMatcher): ColumnLineage {
  const origin: Origin = col.origin;
  return {
    name: col.name,
    sources: [...(origin.columns?.values() ?? [])].map(formatColumnSource),
    wholeRows: [...(origin.rows?.values() ?? [])].map(formatRowSource),
    opaque: origin.opaque,
    typeOid: col.typeOid,
    sensitive: isOriginSensitive(origin, catalog, matcher),
  };
}

/**
 * Which columns of a view (or materialized view) are sensitive, index attnum − 1: RowDescription
 * reports a view's own OID, and the view's definition says where each column comes from.
 */
export function viewColumnSensitivity(view: RelationInfo, catalog: CatalogSnapshot, matcher: ColumnMatcher, maxDepth = 8): boolean[] {
  const engine = new QueryEngine(catalog, { defaultSchema: 'public', maxDepth });
  const columns = engine.relationColumns(view) ?? [];
  const byName = new Map(columns.map((c) => [c.name, c]));
  return view.columns.map((name) => {
    const col = name === null ? undefined : byName.get(name);
    return col ? isOriginSensitive(col.origin, catalog, matcher) : false;
  });
}

/** Whether the whole row of a relation (attnum 0 in RowDescription) carries a sensitive column. */
export function wholeRowSensitive(relation: RelationInfo, catalog: CatalogSnapshot, matcher: ColumnMatcher): boolean {
  const engine = new QueryEngine(catalog, { defaultSchema: 'public', maxDepth: 8 });
  const columns = engine.relationColumns(relation);
  return isOriginSensitive(rowOfColumns(columns, null), catalog, matcher);
}
