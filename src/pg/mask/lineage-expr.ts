/**
 * The origin of an expression: the union of the origins of everything it reads. Function calls,
 * casts, operators, CASE, COALESCE, concatenation, aggregates and constructors all carry their
 * inputs through, so the walk is generic over the raw parse tree and only a few node types are
 * special: column references (resolved in scope), sub-queries (their output columns), field
 * selection from a row (`(u).email`), and calls of SQL functions whose body the catalog knows.
 *
 * Only values flow: what filters rows (WHERE, EXISTS, FILTER, ORDER BY inside an aggregate) is
 * recorded as referenced (`seen`) but does not become part of the value's origin.
 */
import { Origin } from './lineage-origin.ts';
import { resolveEntry, resolveNames, type Col, type ResolveContext, type Scope } from './lineage-scope.ts';

export type AnyNode = Record<string, unknown>;

export interface QueryResult {
  columns: Col[] | null;
  /** Everything the query referenced; stands in for its columns when they cannot be aligned. */
  everything: Origin;
}

export interface ExprContext extends ResolveContext {
  /** A sub-query evaluated inside `scope` (so correlated references resolve). */
  subquery(node: AnyNode, scope: Scope | null): QueryResult;
  /**
   * For a call of `name` with `argCount` arguments: the result columns of a SQL function the
   * catalog knows, 'opaque' for a procedural-language function, undefined for built-ins and
   * anything unknown (their result is a function of their arguments).
   */
  callResult(name: string[], argCount: number): QueryResult | 'opaque' | undefined;
}

/** The origin of `node`; everything it reads is also added to `ctx.seen`. */
export function exprOrigin(node: unknown, scope: Scope | null, ctx: ExprContext): Origin {
  const acc = new Origin();
  visit(node, scope, ctx, acc);
  ctx.seen.add(acc);
  return acc;
}

/** Records what `node` reads without it flowing into a value (filters, sort keys). */
export function noteReferences(node: unknown, scope: Scope | null, ctx: ExprContext): void {
  if (node !== undefined && node !== null) exprOrigin(node, scope, ctx);
}

function visit(value: unknown, scope: Scope | null, ctx: ExprContext, acc: Origin): void {
  if (Array.isArray(value)) {
    for (const item of value) visit(item, scope, ctx, acc);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const node = value as AnyNode;
  for (const key in node) {
    const body = node[key];
    if (body === null || typeof body !== 'object') continue;
    switch (key) {
      case 'ColumnRef':
        columnRef(body as AnyNode, scope, acc);
        break;
      case 'SubLink':
        subLink(body as AnyNode, scope, ctx, acc);
        break;
      case 'SelectStmt':
      case 'InsertStmt':
      case 'UpdateStmt':
      case 'DeleteStmt':
      case 'MergeStmt': {
        const result = ctx.subquery(node, scope);
        addColumns(acc, result);
        break;
      }
      case 'A_Indirection':
        indirection(body as AnyNode, scope, ctx, acc);
        break;
      case 'FuncCall':
        funcCall(body as AnyNode, scope, ctx, acc);
        break;
      default:
        visit(body, scope, ctx, acc);
    }
  }
}

function addColumns(acc: Origin, result: QueryResult): void {
  if (result.columns) for (const c of result.columns) acc.add(c.origin);
  else acc.add(result.everything);
}

export function stringsOf(nodes: unknown): string[] {
  if (!Array.isArray(nodes)) return [];
  const out: string[] = [];
  for (const n of nodes) {
    const s = (n as AnyNode)?.String as { sval?: string } | undefined;
    if (s) out.push(s.sval ?? '');
  }
  return out;
}

function hasStar(fields: unknown[]): boolean {
  return fields.some((f) => (f as AnyNode)?.A_Star !== undefined);
}

function columnRef(ref: AnyNode, scope: Scope | null, acc: Origin): void {
  const fields = (ref.fields as unknown[]) ?? [];
  const parts = stringsOf(fields);
  if (hasStar(fields)) {
    if (parts.length === 0) {
      for (let s = scope; s; s = s.parent) for (const item of s.items) for (const e of item.entries) acc.add(e.row);
      return;
    }
    acc.add(resolveEntry(parts, scope)?.row);
    return;
  }
  const found = resolveNames(parts, scope);
  if (found.kind === 'column') acc.add(found.col.origin);
  else if (found.kind === 'row') acc.add(found.entry.row);
}

/** The column a plain reference (or `(alias).field`) names, if it is one. */
export function directColumn(node: unknown, scope: Scope | null): Col | undefined {
  const ref = (node as AnyNode)?.ColumnRef as AnyNode | undefined;
  if (ref) {
    const fields = (ref.fields as unknown[]) ?? [];
    if (hasStar(fields)) return undefined;
    const found = resolveNames(stringsOf(fields), scope);
    return found.kind === 'column' ? found.col : undefined;
  }
  const ind = (node as AnyNode)?.A_Indirection as AnyNode | undefined;
  const argRef = (ind?.arg as AnyNode | undefined)?.ColumnRef as AnyNode | undefined;
  const field = stringsOf(ind?.indirection);
  if (!argRef || field.length !== 1 || (ind!.indirection as unknown[]).length !== 1) return undefined;
  const found = resolveNames([...stringsOf(argRef.fields), field[0]!], scope);
  return found.kind === 'column' ? found.col : undefined;
}

function indirection(ind: AnyNode, scope: Scope | null, ctx: ExprContext, acc: Origin): void {
  const col = directColumn({ A_Indirection: ind }, scope);
  if (col) {
    acc.add(col.origin);
    visit(ind.indirection, scope, ctx, acc); // subscripts
    return;
  }
  visit(ind.arg, scope, ctx, acc);
  visit(ind.indirection, scope, ctx, acc);
}

function subLink(link: AnyNode, scope: Scope | null, ctx: ExprContext, acc: Origin): void {
  const select = link.subselect as AnyNode | undefined;
  if (link.subLinkType === 'EXISTS_SUBLINK') {
    if (select) ctx.subquery(select, scope); // a yes/no answer: referenced, not carried
    return;
  }
  visit(link.testexpr, scope, ctx, acc);
  if (select) addColumns(acc, ctx.subquery(select, scope));
}

function funcCall(call: AnyNode, scope: Scope | null, ctx: ExprContext, acc: Origin): void {
  const args = (call.args as unknown[]) ?? [];
  visit(args, scope, ctx, acc);
  noteReferences(call.agg_filter, scope, ctx);
  noteReferences(call.agg_order, scope, ctx);
  noteReferences(call.over, scope, ctx);
  const result = ctx.callResult(stringsOf(call.funcname), args.length);
  if (result === 'opaque') acc.opaque = true;
  else if (result) addColumns(acc, result);
}

const TYPE_OIDS: Record<string, number> = {
  bool: 16, boolean: 16, bytea: 17, char: 1042, name: 19, int8: 20, bigint: 20, int2: 21, smallint: 21, int4: 23, int: 23, integer: 23,
  text: 25, json: 114, xml: 142, float4: 700, real: 700, float8: 701, 'double precision': 701, bpchar: 1042, varchar: 1043,
  date: 1082, time: 1083, timestamp: 1114, timestamptz: 1184, interval: 1186, timetz: 1266, numeric: 1700, decimal: 1700, uuid: 2950, jsonb: 3802,
};
const ARRAY_OIDS: Record<number, number> = { 25: 1009, 1043: 1015, 23: 1007, 20: 1016, 21: 1005, 3802: 3807, 114: 199, 2950: 2951 };

/** The result type when it is evident from the tree: a plain column reference or a cast to a built-in type. */
export function exprType(node: unknown, scope: Scope | null): number | null {
  const cast = (node as AnyNode)?.TypeCast as AnyNode | undefined;
  if (cast) {
    const typeName = cast.typeName as AnyNode | undefined;
    const names = stringsOf(typeName?.names).filter((n) => n !== 'pg_catalog');
    const oid = names.length === 1 ? TYPE_OIDS[names[0]!] : undefined;
    if (oid === undefined) return null;
    return Array.isArray(typeName?.arrayBounds) ? (ARRAY_OIDS[oid] ?? null) : oid;
  }
  return directColumn(node, scope)?.typeOid ?? null;
}
