// Inline masking of PostgreSQL results (issue 5, item 4): value detectors, column lineage through
// the parse tree and the catalog, per-result plans, and maskers for DataRow, COPY OUT,
// ErrorResponse/NoticeResponse fields and Bind parameters.
export type { DetectorName, MaskPolicy, MaskStyle, RowField, SensitiveSpan } from './types.ts';
export { DETECTOR_NAMES } from './types.ts';
export { ALL_DETECTORS, containsSensitive, detectorSet, findSensitiveSpans, type DetectorSet } from './detectors.ts';
export { compileColumnMatcher, type ColumnMatcher } from './columns.ts';
export { createStaticCatalog, type CatalogSnapshot, type FunctionInfo, type RelationInfo, type RelationKind, type StaticCatalogData, type TypeInfo } from './catalog.ts';
export { createCatalogCache, type CatalogCache, type CatalogCacheOptions, type CatalogPrefetch, type CatalogQuery } from './catalog-cache.ts';
export { collectCatalogNeeds, type CatalogNeeds } from './references.ts';
export { computeLineage, type ColumnLineage, type LineageOptions, type StatementLineage } from './lineage.ts';
export { KEEP, maskDetectedValue, maskWholeValue, type CellResult } from './mask-value.ts';
export { typeShape, type TypeShape, type ValueKind } from './value-kinds.ts';
export {
  compileMaskPolicy,
  createMaskContext,
  planResult,
  type ColumnAction,
  type ColumnPlan,
  type MaskContext,
  type MaskRules,
  type ResultPlan,
} from './result-plan.ts';
export { maskDataRow } from './data-row.ts';
export { copyFormatOf, createCopyOutMasker, maskCopyRow, planCopy, type CopyFormat, type CopyFormatOptions } from './copy-row.ts';
export { maskMessageFields } from './message-fields.ts';
export { inspectParameters, redactText, type InspectedParameters } from './redact-for-record.ts';
