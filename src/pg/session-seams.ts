import type { DbStatementRow } from '../audit/index.ts';
import type { RowField } from './codec/index.ts';
import type { PgRefusal } from './refusal.ts';

/**
 * What the relay (protocol only) asks of the rest of a database session: a decision per statement,
 * a masking plan per result, a place to record. Each is built per session in session.ts, so the
 * relay never sees policy, catalog or store.
 */

export type Verdict = 'allow' | 'hold' | 'block';

/** One top-level statement of a string, as judged. `node` is its parse tree (for result lineage). */
export interface StatementPart {
  text: string;
  kind: string;
  node: unknown;
}

export interface StatementDecision {
  allowed: boolean;
  verdict: Verdict;
  rule: string | null;
  reason: string;
  parts: StatementPart[];
  /** Held statements and statements allowed by consuming an approval. */
  approvalId: string | null;
  /** Present when not allowed. */
  refusal?: PgRefusal;
  /** The verdict needs the bound parameter values (extended protocol): decide again at Bind. */
  dependsOnParameters: boolean;
}

export interface StatementGuard {
  /**
   * A Query string (`run`) or a Parse's text (`prepare`: a held statement with an unused approval may
   * be prepared; each Bind then uses one up). Synchronous when the verdict is cached.
   */
  decide(text: string, mode: 'run' | 'prepare'): StatementDecision | Promise<StatementDecision>;
  /** A Bind of a statement whose verdict depends on parameters or needs an approval per execution. */
  decideBound(text: string, parameters: ReadonlyArray<string | null>): StatementDecision | Promise<StatementDecision>;
  /** The FunctionCall message: a function by OID, with no SQL text to judge. */
  decideFunctionCall(functionOid: number): StatementDecision;
}

/** How one result's columns are treated. `rowWork` false: DataRows are forwarded untouched. */
export interface ResultPlan {
  rowWork: boolean;
  maskedColumns: string[];
}

export interface ResultMasking {
  planRows(part: StatementPart | null, fields: readonly RowField[]): ResultPlan | Promise<ResultPlan>;
  /** A DataRow body masked by the plan, or null when unchanged; `masked` counts cells changed. */
  maskRow(body: Buffer, plan: ResultPlan): { body: Buffer | null; masked: number };
  /** COPY … TO STDOUT: the format (text, csv, options) comes from the statement; `binary` from CopyOutResponse. */
  planCopy(part: StatementPart | null, columnCount: number, binary: boolean): ResultPlan | Promise<ResultPlan>;
  /** One CopyData of that COPY, in order (a header line passes). */
  maskCopy(data: Buffer, plan: ResultPlan): { data: Buffer | null; masked: number };
  /** ErrorResponse / NoticeResponse fields, masked in place; true when something changed. */
  maskFields(fields: Map<string, string>): boolean;
  /** Bind parameters as they may be recorded: sensitive values redacted. */
  redactParameters(values: ReadonlyArray<Buffer | null>, formats: readonly number[]): Array<string | null>;
  /** A statement's text as it may be recorded: detected sensitive literals masked. */
  redactText(text: string): string;
  /** Text of the cells of a (masked) row, for `sql.recordRows`. */
  rowText(body: Buffer, fields: readonly RowField[]): Array<string | null>;
}

/** One statement as it goes on the record (the audit layer's shape). */
export type StatementRecord = DbStatementRow;

export interface StatementRecorder {
  record(statement: StatementRecord): void;
}
