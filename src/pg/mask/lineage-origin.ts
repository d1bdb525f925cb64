/**
 * Where a value came from: the table columns it was computed from, the whole rows it carries
 * (`row_to_json(u)`, `u.*` as a value), and whether part of it came from somewhere we could not
 * see into. Origins only grow (union); sensitivity is judged once, against the mask policy.
 */
import type { CatalogSnapshot } from './catalog.ts';
import type { ColumnMatcher } from './columns.ts';

export interface ColumnSource {
  schema: string;
  table: string;
  column: string;
}

export interface RowSource {
  schema: string;
  table: string;
}

export class Origin {
  columns: Map<string, ColumnSource> | null = null;
  rows: Map<string, RowSource> | null = null;
  /** Produced by a function whose body is not known (PL/pgSQL, C): its inputs are recorded, its reads are not. */
  opaque = false;
  /** Could not be followed (nesting too deep): assume sensitive when any column is configured. */
  unsure = false;

  static column(schema: string, table: string, column: string): Origin {
    const origin = new Origin();
    origin.addColumn({ schema, table, column });
    return origin;
  }

  /** An origin that could not be followed: judged sensitive whenever any column is configured. */
  static unsure(): Origin {
    const origin = new Origin();
    origin.unsure = true;
    return origin;
  }

  static row(schema: string, table: string): Origin {
    const origin = new Origin();
    (origin.rows = new Map()).set(`${schema}\u0000${table}`, { schema, table });
    return origin;
  }

  addColumn(source: ColumnSource): void {
    (this.columns ??= new Map()).set(`${source.schema}\u0000${source.table}\u0000${source.column}`, source);
  }

  add(other: Origin | null | undefined): this {
    if (!other || other === this) return this;
    if (other.columns) for (const [key, value] of other.columns) (this.columns ??= new Map()).set(key, value);
    if (other.rows) for (const [key, value] of other.rows) (this.rows ??= new Map()).set(key, value);
    this.opaque ||= other.opaque;
    this.unsure ||= other.unsure;
    return this;
  }

  get isEmpty(): boolean {
    return !this.columns && !this.rows && !this.opaque && !this.unsure;
  }
}

export function unionOrigins(origins: Iterable<Origin>): Origin {
  const out = new Origin();
  for (const origin of origins) out.add(origin);
  return out;
}

/**
 * A configured column, or a whole row of a table that has one. A table the catalog does not know
 * counts when some glob could match one of its columns (fail closed).
 */
export function isOriginSensitive(origin: Origin, catalog: CatalogSnapshot, matcher: ColumnMatcher): boolean {
  if (matcher.empty) return false;
  if (origin.unsure) return true;
  if (origin.columns) for (const c of origin.columns.values()) if (matcher.isSensitiveColumn(c.schema, c.table, c.column)) return true;
  if (origin.rows) for (const r of origin.rows.values()) if (isRowSensitive(r, catalog, matcher)) return true;
  return false;
}

export function isRowSensitive(row: RowSource, catalog: CatalogSnapshot, matcher: ColumnMatcher): boolean {
  const relation = catalog.relation(row.schema, row.table);
  if (!relation) return matcher.mayHaveSensitiveColumns(row.schema, row.table);
  return relation.columns.some((column) => column !== null && matcher.isSensitiveColumn(relation.schema, relation.name, column));
}

export function formatColumnSource(c: ColumnSource): string {
  return `${c.schema}.${c.table}.${c.column}`;
}

export function formatRowSource(r: RowSource): string {
  return `${r.schema}.${r.table}`;
}
