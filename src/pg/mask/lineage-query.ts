/**
 * Lineage of queries: SELECT (with set operations, VALUES, CTEs including recursive ones, star
 * expansion) and INSERT / UPDATE / DELETE / MERGE … RETURNING. One `QueryEngine` serves one
 * statement; views and functions are followed through the catalog by its CatalogReader.
 */
import type { CatalogSnapshot, RelationInfo } from './catalog.ts';
import { CatalogReader } from './lineage-catalog.ts';
import { fromItem, rangeVarEntry, type FromContext } from './lineage-from.ts';
import { exprOrigin, exprType, noteReferences, stringsOf, type AnyNode, type QueryResult } from './lineage-expr.ts';
import { figureColumnName } from './lineage-names.ts';
import { Origin } from './lineage-origin.ts';
import { mergeCols, newScope, renameColumns, resolveEntry, rowOfColumns, type Col, type CteTable, type Entry, type FromItem, type Scope } from './lineage-scope.ts';

export interface QueryEngineOptions {
  defaultSchema: string;
  maxDepth: number;
}

export class QueryEngine implements FromContext {
  seen = new Origin();
  readonly defaultSchema: string;
  private readonly reader: CatalogReader;

  constructor(
    readonly catalog: CatalogSnapshot,
    options: QueryEngineOptions,
  ) {
    this.defaultSchema = options.defaultSchema;
    this.reader = new CatalogReader(catalog, options.maxDepth, (stmt) => this.query(stmt, null, null));
  }

  /** Output columns of a statement node (`{ SelectStmt: … }` etc.), and everything it referenced. */
  query(node: AnyNode, outer: Scope | null, ctes: CteTable | null): QueryResult {
    const saved = this.seen;
    this.seen = new Origin();
    try {
      const columns = this.dispatch(node, outer, ctes);
      return { columns, everything: this.seen };
    } finally {
      this.seen = saved.add(this.seen);
    }
  }

  subquery(node: AnyNode, scope: Scope | null): QueryResult {
    return this.query(node, scope, scope?.ctes ?? null);
  }

  private dispatch(node: AnyNode, outer: Scope | null, ctes: CteTable | null): Col[] | null {
    if (node.SelectStmt) return this.select(node.SelectStmt as AnyNode, outer, ctes);
    for (const tag of ['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt'] as const) {
      if (node[tag]) return this.modify(tag, node[tag] as AnyNode, outer, ctes);
    }
    noteReferences(node, outer, this);
    return null;
  }

  private select(s: AnyNode, outer: Scope | null, parentCtes: CteTable | null): Col[] | null {
    const ctes = s.withClause ? this.withCtes(s.withClause as AnyNode, outer, parentCtes) : parentCtes;
    if (s.op && s.op !== 'SETOP_NONE') {
      const left = this.query({ SelectStmt: s.larg }, outer, ctes).columns;
      const right = this.query({ SelectStmt: s.rarg }, outer, ctes).columns;
      if (s.op !== 'SETOP_EXCEPT') return combinePositions(left, right);
      // EXCEPT returns rows of its left side only; UNION and INTERSECT values come from either.
      return left && right && left.length === right.length ? left : null;
    }
    const scope = newScope(outer, ctes);
    if (Array.isArray(s.valuesLists)) return this.values(s.valuesLists as AnyNode[], scope);
    for (const node of (s.fromClause as AnyNode[]) ?? []) scope.items.push(fromItem(node, scope, this));
    const columns = this.targets((s.targetList as AnyNode[]) ?? [], scope);
    scope.outputs = columns;
    for (const clause of [s.whereClause, s.groupClause, s.havingClause, s.windowClause, s.sortClause, s.distinctClause, s.limitOffset, s.limitCount]) {
      noteReferences(clause, scope, this);
    }
    return s.intoClause ? [] : columns; // SELECT INTO creates a table and returns no rows
  }

  private values(lists: AnyNode[], scope: Scope): Col[] {
    const columns: Col[] = [];
    for (const list of lists) {
      const items = ((list.List as AnyNode | undefined)?.items as unknown[]) ?? [];
      items.forEach((item, i) => {
        const origin = exprOrigin(item, scope, this);
        const col = (columns[i] ??= { name: `column${i + 1}`, origin: new Origin(), typeOid: null });
        col.origin.add(origin);
      });
    }
    return columns;
  }

  /** A target list; null when a `*` cannot be expanded (columns unknown). */
  targets(list: AnyNode[], scope: Scope): Col[] | null {
    const out: Col[] = [];
    let aligned = true;
    for (const target of list) {
      const rt = (target.ResTarget as AnyNode) ?? {};
      const val = rt.val as AnyNode | undefined;
      const ref = val?.ColumnRef as AnyNode | undefined;
      const fields = (ref?.fields as AnyNode[]) ?? [];
      if (ref && fields.some((f) => f.A_Star !== undefined)) {
        aligned = this.expandStar(stringsOf(fields), scope, out) && aligned;
        continue;
      }
      out.push({ name: (rt.name as string | undefined) ?? figureColumnName(val), origin: exprOrigin(val, scope, this), typeOid: exprType(val, scope) });
    }
    return aligned ? out : null;
  }

  private expandStar(parts: string[], scope: Scope, out: Col[]): boolean {
    if (parts.length > 0) {
      const entry = resolveEntry(parts, scope);
      this.seen.add(entry?.row);
      if (!entry?.columns) return false;
      out.push(...entry.columns);
      return true;
    }
    let aligned = true;
    for (const item of scope.items) {
      for (const e of item.entries) this.seen.add(e.row);
      if (item.columns) out.push(...item.columns);
      else aligned = false;
    }
    return aligned;
  }

  private withCtes(wc: AnyNode, outer: Scope | null, parent: CteTable | null): CteTable {
    const table: CteTable = { defs: new Map(), parent };
    for (const node of (wc.ctes as AnyNode[]) ?? []) {
      const cte = (node.CommonTableExpr as AnyNode) ?? {};
      const name = cte.ctename as string;
      const aliases = stringsOf(cte.aliascolnames);
      const q = (cte.ctequery as AnyNode) ?? {};
      const setop = q.SelectStmt as AnyNode | undefined;
      let columns: Col[] | null;
      if (wc.recursive && setop?.op && setop.op !== 'SETOP_NONE') {
        columns = this.recursiveCte(name, aliases, setop, outer, table);
      } else {
        columns = renameColumns(this.query(q, outer, table).columns, aliases);
      }
      table.defs.set(name, columns ? [...columns, ...cteExtraColumns(cte, columns)] : null);
    }
    return table;
  }

  /** Non-recursive term first, then the recursive term over it until origins stop growing. */
  private recursiveCte(name: string, aliases: string[], setop: AnyNode, outer: Scope | null, table: CteTable): Col[] | null {
    table.defs.set(name, null);
    const base = renameColumns(this.query({ SelectStmt: setop.larg }, outer, table).columns, aliases);
    let columns = base;
    for (let round = 0; round < 6 && columns; round += 1) {
      table.defs.set(name, columns);
      const next = renameColumns(combinePositions(base, this.query({ SelectStmt: setop.rarg }, outer, table).columns), aliases);
      if (next && originSize(next) === originSize(columns)) return next;
      columns = next;
    }
    return columns;
  }

  private modify(tag: string, stmt: AnyNode, outer: Scope | null, parentCtes: CteTable | null): Col[] | null {
    const ctes = stmt.withClause ? this.withCtes(stmt.withClause as AnyNode, outer, parentCtes) : parentCtes;
    const scope = newScope(outer, ctes);
    const target = ownCopy(rangeVarEntry((stmt.relation as AnyNode) ?? {}, scope, this));
    const targetItem: FromItem = { entries: [target], columns: target.columns, merged: new Map() };
    scope.items.push(targetItem);
    if (tag === 'InsertStmt' && stmt.selectStmt) {
      const source = this.query(stmt.selectStmt as AnyNode, outer, ctes).columns;
      flowInto(target, ((stmt.cols as AnyNode[]) ?? []).map((c) => ((c.ResTarget as AnyNode)?.name as string) ?? ''), source);
    }
    for (const node of [...((stmt.fromClause as AnyNode[]) ?? []), ...((stmt.usingClause as AnyNode[]) ?? [])]) scope.items.push(fromItem(node, scope, this));
    if (stmt.sourceRelation) scope.items.push(fromItem(stmt.sourceRelation as AnyNode, scope, this));
    if (tag === 'UpdateStmt') this.assignments(target, (stmt.targetList as AnyNode[]) ?? [], scope);
    for (const node of (stmt.mergeWhenClauses as AnyNode[]) ?? []) this.mergeAction((node.MergeWhenClause as AnyNode) ?? {}, target, scope);
    const conflict = stmt.onConflictClause as AnyNode | undefined;
    if (conflict) {
      const excluded: FromItem = { entries: [{ ...target, alias: 'excluded' }], columns: null, merged: new Map() };
      const withExcluded = { ...scope, items: [...scope.items, excluded] };
      this.assignments(target, (conflict.targetList as AnyNode[]) ?? [], withExcluded);
      noteReferences(conflict.whereClause, withExcluded, this);
    }
    for (const clause of [stmt.whereClause, stmt.joinCondition, stmt.mergeWhenClauses]) noteReferences(clause, scope, this);
    const returning = stmt.returningClause as AnyNode | undefined;
    if (!returning) return [];
    // RETURNING old.* / new.* (PostgreSQL 18), possibly renamed with RETURNING WITH (OLD AS o).
    const names = { old: 'old', new: 'new' };
    for (const option of (returning.options as AnyNode[]) ?? []) {
      const o = (option.ReturningOption as AnyNode) ?? {};
      if (o.option === 'RETURNING_OPTION_OLD') names.old = o.value as string;
      if (o.option === 'RETURNING_OPTION_NEW') names.new = o.value as string;
    }
    targetItem.entries.push({ ...target, alias: names.old }, { ...target, alias: names.new });
    return this.targets((returning.exprs as AnyNode[]) ?? [], scope);
  }

  /** MERGE … THEN UPDATE SET / THEN INSERT (cols) VALUES (…): values flow into the target's columns. */
  private mergeAction(clause: AnyNode, target: Entry, scope: Scope): void {
    const targets = (clause.targetList as AnyNode[]) ?? [];
    if (clause.commandType === 'CMD_UPDATE') return this.assignments(target, targets, scope);
    if (clause.commandType !== 'CMD_INSERT') return;
    const names = targets.map((t) => ((t.ResTarget as AnyNode)?.name as string) ?? '');
    const values = ((clause.values as unknown[]) ?? []).map((v) => ({ name: '', origin: exprOrigin(v, scope, this), typeOid: null }));
    flowInto(target, names, values);
  }

  /** `SET col = expr`: the new value of the target column carries the expression's origin. */
  private assignments(target: Entry, list: AnyNode[], scope: Scope): void {
    for (const node of list) {
      const rt = (node.ResTarget as AnyNode) ?? {};
      const origin = exprOrigin(rt.val, scope, this);
      const col = target.columns?.find((c) => c.name === rt.name);
      if (col) col.origin.add(origin);
      else target.row.add(origin);
    }
  }

  relationColumns(relation: RelationInfo): Col[] | null {
    return this.reader.relationColumns(relation);
  }

  callResult(name: string[], argCount: number): QueryResult | 'opaque' | undefined {
    return this.reader.callResult(name, argCount);
  }

  functionColumns(name: string[], argCount: number): Col[] | null | undefined {
    return this.reader.functionColumns(name, argCount);
  }
}

/** Positional union of two branches (UNION / INTERSECT / EXCEPT); names from the left. */
export function combinePositions(left: Col[] | null, right: Col[] | null): Col[] | null {
  if (!left || !right || left.length !== right.length) return null;
  return left.map((c, i) => ({ ...mergeCols(c.name, [c, right[i]!]) }));
}

/** SEARCH … SET col and CYCLE … SET mark USING path add columns to a recursive CTE. */
function cteExtraColumns(cte: AnyNode, columns: Col[]): Col[] {
  const extra: Col[] = [];
  const carrying = (names: string[]) => rowOfColumns(columns.filter((c) => names.includes(c.name)), null);
  const search = cte.search_clause as AnyNode | undefined;
  if (search?.search_seq_column) extra.push({ name: search.search_seq_column as string, origin: carrying(stringsOf(search.search_col_list)), typeOid: null });
  const cycle = cte.cycle_clause as AnyNode | undefined;
  if (cycle?.cycle_mark_column) extra.push({ name: cycle.cycle_mark_column as string, origin: new Origin(), typeOid: null });
  if (cycle?.cycle_path_column) extra.push({ name: cycle.cycle_path_column as string, origin: carrying(stringsOf(cycle.cycle_col_list)), typeOid: null });
  return extra;
}

/** INSERT … SELECT: each target column also carries the origin of the value inserted into it. */
function flowInto(target: Entry, named: string[], source: Col[] | null): void {
  if (!target.columns) return;
  const columns = named.length > 0 ? named.map((n) => target.columns!.find((c) => c.name === n)) : target.columns;
  if (!source) {
    for (const c of columns) c?.origin.add(Origin.unsure());
    return;
  }
  source.forEach((s, i) => columns[i]?.origin.add(s.origin));
}

/** The target's columns are about to gain origins: copies, so the relation cache stays clean. */
function ownCopy(entry: Entry): Entry {
  const columns = entry.columns?.map((c) => ({ ...c, origin: new Origin().add(c.origin) })) ?? null;
  return { ...entry, columns, row: new Origin().add(entry.row) };
}

function originSize(columns: Col[]): number {
  let size = 0;
  for (const c of columns) size += (c.origin.columns?.size ?? 0) + (c.origin.rows?.size ?? 0) + (c.origin.opaque ? 1 : 0) + (c.origin.unsure ? 1 : 0);
  return size;
}

