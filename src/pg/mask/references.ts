/**
 * The relations and functions a parsed statement names, so the catalog cache can load them before
 * the statement's results arrive (lineage itself is synchronous). Names come out as written:
 * `schema.name` when qualified, bare otherwise (resolved along the search path), parts quoted
 * when they contain a dot or a quote.
 */
import { formatQualified } from './catalog.ts';
import type { AnyNode } from './lineage-expr.ts';

export interface CatalogNeeds {
  relations: string[];
  functions: string[];
}

export function collectCatalogNeeds(stmt: object): CatalogNeeds {
  const relations = new Set<string>();
  const functions = new Set<string>();
  walk(stmt, relations, functions);
  return { relations: [...relations], functions: [...functions] };
}

function walk(value: unknown, relations: Set<string>, functions: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, relations, functions);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const node = value as AnyNode;
  // A RangeVar appears wrapped (`{ RangeVar: … }` in FROM) and bare (InsertStmt.relation, CopyStmt.relation, IntoClause.rel).
  if (typeof node.relname === 'string') relations.add(formatQualified((node.schemaname as string | undefined) ?? null, node.relname));
  for (const key in node) {
    const body = node[key];
    if (body === null || typeof body !== 'object') continue;
    if (key === 'FuncCall') {
      const names = ((body as AnyNode).funcname as AnyNode[] | undefined)?.map((n) => ((n.String as AnyNode)?.sval as string) ?? '') ?? [];
      const name = names[names.length - 1];
      if (name) functions.add(formatQualified(names.length >= 2 ? names[names.length - 2]! : null, name));
    }
    walk(body, relations, functions);
  }
}
