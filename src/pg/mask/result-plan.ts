/**
 * Deciding, once per result (at RowDescription), what each column needs on every row:
 * 'pass' (bytes forwarded as they are, no per-row work), 'detect' (text-like: value detectors on
 * each value) or 'mask' (sensitive: every value masked). A result whose columns all pass needs no
 * row work at all, and the caller forwards its DataRows without looking inside.
 *
 * A column is sensitive when (issue 5, item 4):
 * - its origin (table OID, attribute number) is a configured column, a view column derived from
 *   one, or a whole row (attnum 0) of a table that has one;
 * - its output name matches a bare column glob (`*email*`);
 * - lineage says its value derives from a sensitive column (positions aligned with the fields);
 * - or lineage cannot align positions, the statement references something sensitive, and the
 *   column has no origin of its own: then it is masked, since it may carry that value.
 */
import type { CatalogSnapshot, RelationInfo } from './catalog.ts';
import { compileColumnMatcher, type ColumnMatcher } from './columns.ts';
import { detectorSet, type DetectorSet } from './detectors.ts';
import { viewColumnSensitivity, wholeRowSensitive, type StatementLineage } from './lineage.ts';
import type { MaskPolicy, MaskStyle, RowField } from './types.ts';
import { isDetectionFree, typeShape, type TypeShape } from './value-kinds.ts';

/** A policy compiled once, plus the engine's hash key. */
export interface MaskRules {
  style: MaskStyle;
  hashKey: Buffer;
  detectors: DetectorSet;
  columns: ColumnMatcher;
}

export function compileMaskPolicy(policy: MaskPolicy, hashKey: Buffer): MaskRules {
  return { style: policy.style, hashKey, detectors: detectorSet(policy.detectors), columns: compileColumnMatcher(policy.columns) };
}

/** Per-statement state of the masking: the rules and how many cells were masked so far. */
export interface MaskContext {
  readonly rules: MaskRules;
  maskedCells: number;
}

export function createMaskContext(rules: MaskRules): MaskContext {
  return { rules, maskedCells: 0 };
}

export type ColumnAction = 'pass' | 'detect' | 'mask';

export interface ColumnPlan {
  action: ColumnAction;
  shape: TypeShape;
  format: 0 | 1;
}

export interface ResultPlan {
  columns: ColumnPlan[];
  /** False when every column passes: DataRows need not even be parsed. */
  needsRowWork: boolean;
  /** Names of the columns masked whole (for the record). */
  maskedColumns: string[];
}

export function planResult(fields: readonly RowField[], lineage: StatementLineage, catalog: CatalogSnapshot, rules: MaskRules): ResultPlan {
  const aligned = lineage.columns !== null && lineage.columns.length === fields.length ? lineage.columns : null;
  const columns = fields.map((field, i): ColumnPlan => {
    const shape = typeShape(field.typeOid, (oid) => catalog.type(oid));
    const sensitive =
      rules.columns.isSensitiveName(field.name) ||
      (aligned !== null && aligned[i]!.sensitive) ||
      originSensitive(field, catalog, rules.columns) ||
      (aligned === null && lineage.referencedSensitive && !hasKnownOrigin(field, catalog));
    if (sensitive) return { action: 'mask', shape, format: field.format };
    const detect = rules.detectors !== 0 && !isDetectionFree(shape);
    return { action: detect ? 'detect' : 'pass', shape, format: field.format };
  });
  return {
    columns,
    needsRowWork: columns.some((c) => c.action !== 'pass'),
    maskedColumns: fields.filter((_, i) => columns[i]!.action === 'mask').map((f) => f.name),
  };
}

function hasKnownOrigin(field: RowField, catalog: CatalogSnapshot): boolean {
  return field.tableOid !== 0 && catalog.relationByOid(field.tableOid) !== undefined;
}

function originSensitive(field: RowField, catalog: CatalogSnapshot, matcher: ColumnMatcher): boolean {
  if (field.tableOid === 0 || matcher.empty) return false;
  const relation = catalog.relationByOid(field.tableOid);
  if (!relation) return false;
  if (field.attnum === 0) return wholeRowSensitive(relation, catalog, matcher);
  if (relation.kind === 'view' || relation.kind === 'matview') return cachedViewSensitivity(relation, catalog, matcher)[field.attnum - 1] ?? false;
  const column = relation.columns[field.attnum - 1];
  return column !== null && column !== undefined && matcher.isSensitiveColumn(relation.schema, relation.name, column);
}

const viewCache = new WeakMap<ColumnMatcher, Map<string, boolean[]>>();
const VIEW_CACHE_LIMIT = 1_000;

/** A view's column sensitivity, computed once per policy and view definition. */
function cachedViewSensitivity(view: RelationInfo, catalog: CatalogSnapshot, matcher: ColumnMatcher): boolean[] {
  let byView = viewCache.get(matcher);
  if (!byView) viewCache.set(matcher, (byView = new Map()));
  const key = `${view.oid}\u0000${view.viewDefinition ?? ''}`;
  let found = byView.get(key);
  if (!found) {
    if (byView.size >= VIEW_CACHE_LIMIT) byView.clear();
    byView.set(key, (found = viewColumnSensitivity(view, catalog, matcher)));
  }
  return found;
}
