/**
 * The catalog, loaded from the upstream database on demand and kept for `ttlMs`: before a
 * statement runs, the engine prefetches what it names (collectCatalogNeeds); views' definitions
 * and SQL function bodies are followed so everything lineage will ask for is already here, and
 * lineage and the planner then read it synchronously. Names not found are remembered too (CTE
 * names, temp tables), so they are not asked for again until the cache expires.
 */
import { loadSqlParser } from '../sql/parser.ts';
import { formatQualified, qualifiedKey, splitQualified, type CatalogSnapshot, type FunctionInfo, type RelationInfo, type RelationKind, type TypeInfo } from './catalog.ts';
import { functionsSql, normalizeFunctionBody, RELATIONS_SQL, SETTINGS_SQL, TYPES_SQL } from './catalog-queries.ts';
import { parseCached } from './parse-cache.ts';
import { collectCatalogNeeds } from './references.ts';

export type CatalogQuery = (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>;

export interface CatalogPrefetch {
  relations?: string[];
  oids?: number[];
  functions?: string[];
}

export interface CatalogCacheOptions {
  /** How long loaded entries are trusted (default 60 s); call invalidate() after DDL to forget sooner. */
  ttlMs?: number;
  /** Views within views (and functions within them) followed when prefetching (default 8). */
  maxDepth?: number;
  now?: () => number;
}

export interface CatalogCache {
  prefetch(needs: CatalogPrefetch): Promise<void>;
  /** What is loaded now; later prefetches of the same generation show through. */
  snapshot(): CatalogSnapshot;
  /**
   * Base relations (`schema.name`) a view reads, through nested views; [] for a table or a name
   * that does not exist; undefined when the name has not been prefetched yet.
   */
  viewBases(qualifiedName: string): string[] | undefined;
  invalidate(): void;
}

interface Generation {
  loadedAt: number;
  settings: { path: string[]; version: number } | null;
  settingsLoad: Promise<{ path: string[]; version: number }> | null;
  /** Loads under way, by relationKey / oidKey / functionKey. */
  inflight: Map<string, Promise<void>>;
  /** Names and OIDs whose views and function bodies have been followed. */
  followed: Set<string>;
  relationsByName: Map<string, RelationInfo[]>;
  functionsByName: Map<string, FunctionInfo[]>;
  relations: Map<string, RelationInfo>;
  byOid: Map<number, RelationInfo>;
  types: Map<number, TypeInfo>;
  functions: Map<string, FunctionInfo[]>;
  askedRelations: Set<string>;
  askedOids: Set<number>;
  askedFunctions: Set<string>;
}

const KINDS: Record<string, RelationKind> = { r: 'table', p: 'table', v: 'view', m: 'matview', f: 'foreign' };

export function createCatalogCache(query: CatalogQuery, options: CatalogCacheOptions = {}): CatalogCache {
  const ttl = options.ttlMs ?? 60_000;
  const maxDepth = options.maxDepth ?? 8;
  const now = options.now ?? Date.now;
  let gen = freshGeneration(now());

  const current = (): Generation => {
    if (now() - gen.loadedAt > ttl) gen = freshGeneration(now());
    return gen;
  };

  async function loadJson(sql: string, params: unknown[]): Promise<unknown> {
    const rows = await query(sql, params);
    const r = rows[0]?.r;
    return typeof r === 'string' ? JSON.parse(r) : r;
  }

  function ensureSettings(g: Generation): Promise<{ path: string[]; version: number }> {
    g.settingsLoad ??= (async () => {
      const settings = (await loadJson(SETTINGS_SQL, [])) as { path: string[]; version: number };
      for (const t of (await loadJson(TYPES_SQL, [])) as Array<Record<string, unknown>>) {
        const info: TypeInfo = { oid: Number(t.oid), name: String(t.name), category: String(t.category), baseOid: Number(t.base), elemOid: Number(t.elem) };
        g.types.set(info.oid, info);
      }
      g.settings = settings;
      return settings;
    })().catch((error: unknown) => {
      g.settingsLoad = null; // the next prefetch tries again
      throw error;
    });
    return g.settingsLoad;
  }

  /**
   * Loads what is neither loaded nor being loaded (waiting for loads other prefetches started, so
   * concurrent statements naming the same tables share one query), then follows the views and SQL
   * function bodies among them, so lineage finds what they read already loaded.
   */
  async function prefetchAt(needs: CatalogPrefetch, depth: number): Promise<void> {
    const g = current();
    await ensureSettings(g);
    const relNames = unique((needs.relations ?? []).map((n) => splitQualified(n).name));
    const oids = unique(needs.oids ?? []);
    const fnNames = unique((needs.functions ?? []).map((n) => splitQualified(n).name));
    const waits = new Set<Promise<void>>();
    const pick = <T>(values: T[], key: (v: T) => string, done: (v: T) => boolean): T[] =>
      values.filter((v) => {
        if (done(v)) return false;
        const running = g.inflight.get(key(v));
        if (running) waits.add(running);
        return !running;
      });
    const newRels = pick(relNames, relationKey, (n) => g.askedRelations.has(n));
    const newOids = pick(oids, oidKey, (o) => g.byOid.has(o) || g.askedOids.has(o));
    const newFns = pick(fnNames, functionKey, (n) => g.askedFunctions.has(n));
    if (newRels.length + newOids.length + newFns.length > 0) {
      const keys = [...newRels.map(relationKey), ...newOids.map(oidKey), ...newFns.map(functionKey)];
      const load = loadBatch(g, newRels, newOids, newFns).finally(() => keys.forEach((k) => g.inflight.delete(k)));
      keys.forEach((k) => g.inflight.set(k, load));
      waits.add(load);
    }
    await Promise.all(waits);
    if (depth >= maxDepth) return;

    const follow: CatalogPrefetch = { relations: [], functions: [] };
    const following = [...relNames.map(relationKey), ...oids.map(oidKey), ...fnNames.map(functionKey)].filter((k) => !g.followed.has(k));
    if (following.length === 0) return;
    const named = [...relNames.flatMap((n) => g.relationsByName.get(n) ?? []), ...oids.map((o) => g.byOid.get(o)).filter((r) => r !== undefined)];
    for (const relation of named) if (relation.viewDefinition) addNeeds(follow, relation.viewDefinition);
    for (const fn of fnNames.flatMap((n) => g.functionsByName.get(n) ?? [])) {
      if (fn.body) addNeeds(follow, fn.body);
      if (fn.returnsRelation) follow.relations!.push(fn.returnsRelation);
    }
    if (follow.relations!.length > 0 || follow.functions!.length > 0) await prefetchAt(follow, depth + 1);
    following.forEach((k) => g.followed.add(k));
  }

  async function loadBatch(g: Generation, relNames: string[], oids: number[], fnNames: string[]): Promise<void> {
    const settings = await ensureSettings(g);
    const [relations, functions] = await Promise.all([
      relNames.length + oids.length > 0 ? loadJson(RELATIONS_SQL, [JSON.stringify(relNames), JSON.stringify(oids.map(String))]) : [],
      fnNames.length > 0 ? loadJson(functionsSql(settings.version), [JSON.stringify(fnNames)]) : [],
    ]);
    for (const raw of relations as Array<Record<string, unknown>>) {
      const relation = toRelation(raw);
      if (g.byOid.has(relation.oid)) continue; // also asked for by name or OID in another batch
      g.relations.set(qualifiedKey(relation.schema, relation.name), relation);
      g.byOid.set(relation.oid, relation);
      g.relationsByName.set(relation.name, [...(g.relationsByName.get(relation.name) ?? []), relation]);
    }
    for (const raw of functions as Array<Record<string, unknown>>) {
      const fn = toFunction(raw);
      const key = qualifiedKey(fn.schema, fn.name);
      g.functions.set(key, [...(g.functions.get(key) ?? []), fn]);
      g.functionsByName.set(fn.name, [...(g.functionsByName.get(fn.name) ?? []), fn]);
    }
    relNames.forEach((n) => g.askedRelations.add(n));
    oids.forEach((o) => g.askedOids.add(o));
    fnNames.forEach((n) => g.askedFunctions.add(n));
  }

  const cache: CatalogCache = {
    async prefetch(needs) {
      await loadSqlParser();
      await prefetchAt(needs, 0);
    },
    snapshot() {
      return snapshotOf(current());
    },
    viewBases(qualifiedName) {
      const g = current();
      const { schema, name } = splitQualified(qualifiedName);
      if (!g.askedRelations.has(name)) return undefined;
      const snap = snapshotOf(g);
      const view = snap.relation(schema, name);
      if (!view || (view.kind !== 'view' && view.kind !== 'matview')) return [];
      const bases = new Set<string>();
      collectBases(snap, view, bases, new Set(), maxDepth);
      return [...bases];
    },
    invalidate() {
      gen = freshGeneration(now());
    },
  };
  return cache;
}

function freshGeneration(loadedAt: number): Generation {
  return {
    loadedAt,
    settings: null,
    settingsLoad: null,
    inflight: new Map(),
    followed: new Set(),
    relationsByName: new Map(),
    functionsByName: new Map(),
    relations: new Map(),
    byOid: new Map(),
    types: new Map(),
    functions: new Map(),
    askedRelations: new Set(),
    askedOids: new Set(),
    askedFunctions: new Set(),
  };
}

function snapshotOf(g: Generation): CatalogSnapshot {
  const path = () => g.settings?.path ?? ['pg_catalog', 'public'];
  return {
    relation(schema, name) {
      if (schema !== null) return g.relations.get(qualifiedKey(schema, name));
      for (const s of path()) {
        const found = g.relations.get(qualifiedKey(s, name));
        if (found) return found;
      }
      return undefined;
    },
    relationByOid: (oid) => g.byOid.get(oid),
    functions(schema, name) {
      if (schema !== null) return g.functions.get(qualifiedKey(schema, name)) ?? [];
      for (const s of path()) {
        const found = g.functions.get(qualifiedKey(s, name));
        if (found) return found;
      }
      return [];
    },
    type: (oid) => g.types.get(oid),
  };
}

function collectBases(snap: CatalogSnapshot, view: RelationInfo, out: Set<string>, visited: Set<number>, depth: number): void {
  if (visited.has(view.oid) || depth < 0 || !view.viewDefinition) return;
  visited.add(view.oid);
  for (const stmt of parseCached(view.viewDefinition) ?? []) {
    for (const name of collectCatalogNeeds(stmt).relations) {
      const { schema, name: relname } = splitQualified(name);
      const relation = snap.relation(schema, relname);
      if (!relation) continue; // a CTE name, or not loaded
      if (relation.kind === 'view' || relation.kind === 'matview') collectBases(snap, relation, out, visited, depth - 1);
      if (relation.kind !== 'view') out.add(formatQualified(relation.schema, relation.name));
    }
  }
}

function addNeeds(into: CatalogPrefetch, sql: string): void {
  for (const stmt of parseCached(sql) ?? []) {
    const needs = collectCatalogNeeds(stmt);
    into.relations!.push(...needs.relations);
    into.functions!.push(...needs.functions);
  }
}

function toRelation(raw: Record<string, unknown>): RelationInfo {
  const relation: RelationInfo = {
    oid: Number(raw.oid),
    schema: String(raw.schema),
    name: String(raw.name),
    kind: KINDS[String(raw.kind)] ?? 'other',
    columns: (raw.columns as (string | null)[]) ?? [],
    columnTypes: ((raw.types as unknown[]) ?? []).map(Number),
  };
  if (typeof raw.definition === 'string') relation.viewDefinition = raw.definition;
  return relation;
}

function toFunction(raw: Record<string, unknown>): FunctionInfo {
  return {
    schema: String(raw.schema),
    name: String(raw.name),
    language: String(raw.language),
    body: typeof raw.body === 'string' ? normalizeFunctionBody(raw.body) : null,
    returnsSet: raw.returnsSet === true,
    argCount: Number(raw.argCount),
    returnsRelation: typeof raw.returnsRelation === 'string' ? raw.returnsRelation : null,
    outputColumns: Array.isArray(raw.outputColumns) ? raw.outputColumns.map(String) : null,
  };
}

const relationKey = (name: string) => `r\u0000${name}`;
const oidKey = (oid: number) => `o\u0000${oid}`;
const functionKey = (name: string) => `f\u0000${name}`;

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
