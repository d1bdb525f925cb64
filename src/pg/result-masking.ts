import { decodeDataRow, type RowField } from './codec/index.ts';
import {
  collectCatalogNeeds,
  compileColumnMatcher,
  compileMaskPolicy,
  computeLineage,
  copyFormatOf,
  createCopyOutMasker,
  createMaskContext,
  detectorSet,
  inspectParameters,
  maskDataRow,
  maskMessageFields,
  planCopy,
  planResult,
  redactText,
  type CatalogCache,
  type MaskPolicy,
  type ResultPlan as MaskPlan,
  type StatementLineage,
} from './mask/index.ts';
import type { ResultMasking, ResultPlan, StatementPart } from './session-seams.ts';

export interface ResultMaskingDeps {
  policy: MaskPolicy;
  /** Keys the `hash` style (dataDir/mask.key). */
  key: Buffer;
  /** Shared by every session on the database. */
  catalog: CatalogCache;
}

interface Plan extends ResultPlan {
  rows: MaskPlan;
  copy: ((data: Buffer) => Buffer | null) | null;
}

/**
 * One session's masking over the mask module: a plan per result from the RowDescription's column
 * origins and the statement's lineage (catalog loaded on demand, synchronously when already known),
 * then per-row rewriting only when the plan says a column needs it. Cursors declared in the session
 * are remembered so FETCH is masked like the query behind it.
 */
export function createResultMasking(deps: ResultMaskingDeps): ResultMasking {
  const rules = compileMaskPolicy(deps.policy, deps.key);
  const matcher = compileColumnMatcher(deps.policy.columns);
  const detectors = detectorSet(deps.policy.detectors);
  const context = createMaskContext(rules);
  const cursors = new Map<string, StatementLineage>();
  const knownFunctions = new Set<string>();

  /** Loads what the statement and the result name that the shared catalog does not hold yet; null when nothing is missing. */
  const ensureCatalog = (node: object | null, fields: readonly RowField[]): Promise<void> | null => {
    const needs = node ? collectCatalogNeeds(node) : { relations: [], functions: [] };
    const relations = needs.relations.filter((name) => deps.catalog.viewBases(name) === undefined);
    const functions = needs.functions.filter((name) => !knownFunctions.has(name));
    const snapshot = deps.catalog.snapshot();
    const oids = [...new Set(fields.map((field) => field.tableOid))].filter((oid) => oid !== 0 && snapshot.relationByOid(oid) === undefined);
    if (relations.length === 0 && functions.length === 0 && oids.length === 0) return null;
    return deps.catalog.prefetch({ relations, functions, oids }).then(() => {
      for (const name of functions) knownFunctions.add(name);
    });
  };

  const lineageOf = (node: object | null): StatementLineage => {
    if (!node) return { columns: null, referencedSensitive: true };
    const lineage = computeLineage(node, deps.catalog.snapshot(), matcher, { cursors });
    const declared = (node as { DeclareCursorStmt?: { portalname?: string; query?: object } }).DeclareCursorStmt;
    if (declared?.portalname && declared.query) cursors.set(declared.portalname, computeLineage(declared.query, deps.catalog.snapshot(), matcher, { cursors }));
    return lineage;
  };

  /**
   * Plans by statement tree and columns: the guard hands out the same tree for the same normalized
   * text, so a repeated query (pgbench's) is planned once per catalog refresh, not once per run.
   */
  const plans = new WeakMap<object, Map<string, { plan: Plan; at: number }>>();
  const cacheableNode = (node: object | null): node is object => node !== null && !('DeclareCursorStmt' in node) && !('FetchStmt' in node);
  const cachedPlan = (node: object | null, fields: readonly RowField[]): Plan | null => {
    if (!cacheableNode(node)) return null;
    const cached = plans.get(node)?.get(fieldsKey(fields));
    return cached && Date.now() - cached.at < PLAN_TTL_MS ? cached.plan : null;
  };
  const rowPlan = (part: StatementPart | null, fields: readonly RowField[]): Plan => {
    const node = nodeOf(part);
    const rows = planResult(fields, lineageOf(node), deps.catalog.snapshot(), rules);
    const plan = { rowWork: rows.needsRowWork, maskedColumns: rows.maskedColumns, rows, copy: null };
    if (cacheableNode(node)) {
      const byFields = plans.get(node) ?? new Map<string, { plan: Plan; at: number }>();
      if (byFields.size > 16) byFields.clear();
      byFields.set(fieldsKey(fields), { plan, at: Date.now() });
      plans.set(node, byFields);
    }
    return plan;
  };

  const copyPlan = (part: StatementPart | null, columnCount: number, binary: boolean): Plan => {
    const node = nodeOf(part);
    const copyStatement = (node as { CopyStmt?: object } | null)?.CopyStmt;
    const format = binary ? 'binary' : copyStatement ? copyFormatOf(copyStatement) : 'text';
    const rows = planCopy(lineageOf(node), columnCount, format, deps.catalog.snapshot(), rules);
    return { rowWork: rows.needsRowWork, maskedColumns: rows.maskedColumns, rows, copy: createCopyOutMasker(format, rows, context) };
  };

  return {
    planRows(part, fields) {
      const cached = cachedPlan(nodeOf(part), fields);
      if (cached) return cached;
      const loading = ensureCatalog(nodeOf(part), fields);
      return loading ? loading.then(() => rowPlan(part, fields)) : rowPlan(part, fields);
    },

    maskRow(body, plan) {
      const before = context.maskedCells;
      const masked = maskDataRow(body, (plan as Plan).rows, context);
      return { body: masked, masked: context.maskedCells - before };
    },

    planCopy(part, columnCount, binary) {
      const loading = ensureCatalog(nodeOf(part), []);
      return loading ? loading.then(() => copyPlan(part, columnCount, binary)) : copyPlan(part, columnCount, binary);
    },

    maskCopy(data, plan) {
      const before = context.maskedCells;
      const masked = (plan as Plan).copy?.(data) ?? null;
      return { data: masked, masked: context.maskedCells - before };
    },

    maskFields(fields) {
      const masked = maskMessageFields(fields, rules, deps.catalog.snapshot());
      if (!masked) return false;
      fields.clear();
      for (const [code, value] of masked) fields.set(code, value);
      return true;
    },

    redactParameters: (values, formats) => inspectParameters(values, formats, detectors).redacted,
    redactText: (text) => redactText(text, detectors),

    rowText(body, fields) {
      return decodeDataRow(body).map((cell, index) => {
        if (cell === null) return null;
        return fields[index]?.format === 1 ? `\\x${cell.toString('hex')}` : cell.toString('utf8');
      });
    },
  };
}

/** As long as the catalog trusts what it loaded: a plan never outlives the catalog facts it used. */
const PLAN_TTL_MS = 30_000;

function fieldsKey(fields: readonly RowField[]): string {
  let key = '';
  for (const field of fields) key += `${field.name}\u0000${field.tableOid}.${field.attnum}.${field.typeOid}.${field.format}\u0000`;
  return key;
}

function nodeOf(part: StatementPart | null): object | null {
  return part && typeof part.node === 'object' && part.node !== null ? part.node : null;
}
