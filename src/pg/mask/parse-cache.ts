/**
 * Parsed view definitions and SQL function bodies, kept by text: the same view is read by many
 * statements, and parsing is the costliest step of following it.
 */
import { parseSql } from '../sql/parser.ts';
import type { AnyNode } from './lineage-expr.ts';

const LIMIT = 512;
const cache = new Map<string, AnyNode[] | null>();

/** The statement nodes of `text`, or null when it does not parse. The parser must be loaded. */
export function parseCached(text: string): AnyNode[] | null {
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  const outcome = parseSql(text);
  const stmts = outcome.ok ? (outcome.tree.stmts ?? []).map((s) => s.stmt as unknown as AnyNode).filter(Boolean) : null;
  if (cache.size >= LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(text, stmts);
  return stmts;
}
