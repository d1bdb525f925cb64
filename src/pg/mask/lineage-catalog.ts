/**
 * What lineage reads from the catalog, once per statement: a table's columns, a view's columns
 * through its definition (views over views too), and functions — a SQL function through its body,
 * a function returning a table's row type through that table, declared OUT / TABLE columns, and
 * procedural functions as opaque. Nesting is followed `maxDepth` levels; past that, columns are
 * marked unsure (treated as sensitive).
 */
import { splitQualified, type CatalogSnapshot, type FunctionInfo, type RelationInfo } from './catalog.ts';
import type { AnyNode, QueryResult } from './lineage-expr.ts';
import { Origin } from './lineage-origin.ts';
import type { Col } from './lineage-scope.ts';
import { parseCached } from './parse-cache.ts';

/** Languages whose functions only compute from their arguments (or, for SQL, have a body we read). */
const TRANSPARENT_LANGUAGES = new Set(['sql', 'internal', 'c']);

export class CatalogReader {
  private depth = 0;
  private readonly relationCache = new Map<number, Col[] | null>();
  private readonly bodyCache = new Map<FunctionInfo, QueryResult | null>();

  constructor(
    private readonly catalog: CatalogSnapshot,
    private readonly maxDepth: number,
    /** Lineage of a statement read from the catalog (a view definition, a function body), in a fresh scope. */
    private readonly lineageOf: (stmt: AnyNode) => QueryResult,
  ) {}

  relationColumns(relation: RelationInfo): Col[] | null {
    if (this.relationCache.has(relation.oid)) return this.relationCache.get(relation.oid)!;
    const columns = relation.kind === 'view' || relation.kind === 'matview' ? this.viewColumns(relation) : tableColumns(relation);
    this.relationCache.set(relation.oid, columns);
    return columns;
  }

  /** Each view column carries what its defining expression reads, and the view column itself (globs may name it). */
  private viewColumns(view: RelationInfo): Col[] {
    const own = (name: string, from: Origin): Col => ({
      name,
      origin: new Origin().add(from).add(Origin.column(view.schema, view.name, name)),
      typeOid: view.columnTypes?.[view.columns.indexOf(name)] ?? null,
    });
    const names = view.columns.filter((c): c is string => c !== null);
    const stmt = view.viewDefinition ? this.nested(view.viewDefinition, 'first') : undefined;
    if (!stmt) return names.map((name) => own(name, Origin.unsure()));
    const result = this.follow(stmt);
    const aligned = result.columns && result.columns.length === names.length ? result.columns : null;
    return names.map((name, i) => own(name, aligned ? aligned[i]!.origin : result.everything));
  }

  callResult(name: string[], argCount: number): QueryResult | 'opaque' | undefined {
    const fn = this.lookupFunction(name, argCount);
    if (!fn) return undefined;
    if (fn.language === 'sql') return this.functionBody(fn) ?? undefined;
    return TRANSPARENT_LANGUAGES.has(fn.language) ? undefined : 'opaque';
  }

  functionColumns(name: string[], argCount: number): Col[] | null | undefined {
    const fn = this.lookupFunction(name, argCount);
    if (!fn) return undefined;
    const transparent = TRANSPARENT_LANGUAGES.has(fn.language);
    if (fn.language === 'sql') {
      const body = this.functionBody(fn);
      if (body?.columns) return body.columns;
    }
    if (fn.returnsRelation) {
      const { schema, name: relname } = splitQualified(fn.returnsRelation);
      const relation = this.catalog.relation(schema, relname);
      const columns = relation ? this.relationColumns(relation) : null;
      if (columns) return columns.map((c) => ({ ...c, origin: transparent ? c.origin : withOpaque(c.origin) }));
    }
    const produced = new Origin();
    produced.opaque = !transparent;
    if (fn.outputColumns && fn.outputColumns.length > 0) return fn.outputColumns.map((n) => ({ name: n, origin: produced, typeOid: null }));
    if (!fn.returnsSet && fn.language !== 'sql') return [{ name: fn.name, origin: produced, typeOid: null }];
    return fn.language === 'internal' ? undefined : null; // built-in set-returning functions: lineage-from knows their shape
  }

  private lookupFunction(name: string[], argCount: number): FunctionInfo | undefined {
    const fname = name[name.length - 1];
    if (!fname) return undefined;
    const candidates = this.catalog.functions(name.length >= 2 ? name[name.length - 2]! : null, fname);
    return candidates.find((f) => f.argCount === undefined || f.argCount === argCount) ?? candidates[0];
  }

  /** Result of the last statement of a SQL function body. */
  private functionBody(fn: FunctionInfo): QueryResult | null {
    if (this.bodyCache.has(fn)) return this.bodyCache.get(fn)!;
    this.bodyCache.set(fn, null); // a function reached again through its own body
    const last = fn.body ? this.nested(fn.body, 'last') : undefined;
    const result = last ? this.follow(last) : null;
    this.bodyCache.set(fn, result);
    return result;
  }

  private nested(sql: string, which: 'first' | 'last'): AnyNode | undefined {
    if (this.depth >= this.maxDepth) return undefined;
    const stmts = parseCached(sql);
    return which === 'first' ? stmts?.[0] : stmts?.[stmts.length - 1];
  }

  private follow(stmt: AnyNode): QueryResult {
    this.depth += 1;
    try {
      return this.lineageOf(stmt);
    } finally {
      this.depth -= 1;
    }
  }
}

function tableColumns(relation: RelationInfo): Col[] {
  const out: Col[] = [];
  relation.columns.forEach((name, i) => {
    if (name !== null) out.push({ name, origin: Origin.column(relation.schema, relation.name, name), typeOid: relation.columnTypes?.[i] ?? null });
  });
  return out;
}

function withOpaque(origin: Origin): Origin {
  const out = new Origin().add(origin);
  out.opaque = true;
  return out;
}
