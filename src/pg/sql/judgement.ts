import type { SqlPolicy } from '../../policy/sql.ts';
import type { SqlVerdict } from './rules.ts';

/** What the classifier says about one top-level statement of a query string. */
export interface StatementJudgement {
  verdict: SqlVerdict;
  /**
   * The rule that decided (a SqlRule; typed as string so callers can add their own refusals, such
   * as a read-only session), or null when none applies (then the verdict is allow).
   */
  rule: string | null;
  /** A sentence for people: 'DELETE without a WHERE clause would remove every row of public.orders'. */
  reason: string;
  /** 'SELECT', 'DELETE', 'CREATE TABLE', ... */
  kind: string;
}

/** What the classifier says about a whole query string: the strictest of its statements. */
export interface SqlJudgement {
  verdict: SqlVerdict;
  rule: string | null;
  reason: string;
  /** One per top-level statement, in order. */
  statements: StatementJudgement[];
  /**
   * The verdict is not cacheable by normalized text: it used a literal's value (`WHERE 1=1`,
   * `set_config('role', …)`, a SQL function body) or this session's prepared statements (EXECUTE).
   */
  dependsOnConstants: boolean;
  /** The verdict used Bind parameter values (`DELETE … WHERE $1`): judge again once they are known. */
  dependsOnParameters: boolean;
  /** `PREPARE name AS …` in this string, as the session holds them after it (see createPreparedStatements). */
  prepares: { name: string; judgement: SqlJudgement }[];
  /** Prepared statements this string removes (DEALLOCATE name / ALL, DISCARD ALL); applied before `prepares`. */
  deallocates: string[] | 'all';
  /**
   * Relations the statements read or write, as written (`schema.table`, or `table` when the
   * statement leaves the schema to the search_path), each part quoted as SQL needs
   * (`public."Users"`), so `'…'::regclass` resolves it. For catalog prefetch.
   */
  relations: string[];
  /**
   * Present on a judgement that depends on parameters and came from a tree (a PREPARE body): the
   * same statement judged with parameter values, for `EXECUTE name(args)`.
   */
  withParameters?: (parameterText: (index: number) => string | null | undefined) => SqlJudgement;
}

export interface ClassifyContext {
  policy: SqlPolicy;
  /** For `EXECUTE name`: the session's prepared statement of that name (unknown name → block). */
  preparedStatement(name: string): SqlJudgement | undefined;
  /** $n (1-based) bound value in text form, when known; null is SQL NULL, undefined is not known. */
  parameterText?(index: number): string | null | undefined;
  /**
   * Base relations of a view (same spelling as `relations`), from the catalog, for protected
   * tables through views; null or undefined when the name is not a view or not known.
   */
  viewBases?(qualifiedName: string): readonly string[] | null | undefined;
}
