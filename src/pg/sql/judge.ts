import type { Node, RangeVar, RawStmt } from 'libpg-query';
import type { SqlPolicy } from '../../policy/sql.ts';
import { judgeCall } from './call-rules.ts';
import type { ClassifyContext, SqlJudgement, StatementJudgement } from './judgement.ts';
import { qualifiedName, quoteIdentifier } from './names.ts';
import { parseSql } from './parser.ts';
import { protectedTablesOf, type ProtectedTables } from './protected-tables.ts';
import { isStricter, verdictForRule, type SqlRule, type SqlVerdict } from './rules.ts';
import { statementKind } from './statement-kind.ts';
import { judgeStatement } from './statement-rules.ts';
import type { WhereEnvironment } from './where-clause.ts';

/**
 * One classification: walks every node of every statement once, generically (every key of every
 * object), so a function call or a data-modifying statement is found wherever the grammar lets
 * it appear. Node types with a rule are handed to statement-rules.ts and call-rules.ts; the walk
 * itself allocates nothing for nodes without one. A Judge is used for one query string (or one
 * PREPARE body) and thrown away.
 */

export type Fields = Record<string, unknown>;

/** In SQL text found inside a statement, $n are a function's arguments, not Bind parameters. */
const EMBEDDED_ENVIRONMENT: WhereEnvironment = { parameterText: undefined, bindParameters: false };
/** SQL text inside SQL text (a function body calling query_to_xml on a string...) is judged this deep. */
const MAX_EMBEDDING = 8;

type ParameterText = (index: number) => string | null | undefined;

export class Judge {
  readonly policy: SqlPolicy;
  readonly context: ClassifyContext;
  readonly protectedTables: ProtectedTables;
  private readonly parameterText: ParameterText | undefined;
  private bindEnvironment: WhereEnvironment | null = null;

  /** False under plain EXPLAIN: the statement is planned, not run, so what it would do is not judged. */
  executing = true;
  /** Depth of SQL text being judged inside the statement (function bodies, query_to_xml). */
  embedding = 0;
  /** Says where a finding inside embedded SQL text was made: 'in the body of function f: '. */
  private reasonPrefix = '';
  dependsOnConstants = false;
  dependsOnParameters = false;

  /** PREPAREs of this string still standing, in order. */
  readonly prepared = new Map<string, SqlJudgement>();
  private deallocatedNames: string[] = [];
  private deallocatedAll = false;
  private relations: string[] | null = null;
  private cteNames: Set<string> | null = null;

  // The statement being judged: its strictest finding so far.
  private verdict: SqlVerdict = 'allow';
  private rule: string | null = null;
  private reason = '';

  constructor(context: ClassifyContext, parameterText: ParameterText | undefined) {
    this.context = context;
    this.policy = context.policy;
    this.protectedTables = protectedTablesOf(context.policy.protectedTables);
    this.parameterText = parameterText;
  }

  /** How $n read in WHERE clauses here: Bind values at top level, unknown inside embedded SQL. */
  get whereEnvironment(): WhereEnvironment {
    if (this.embedding > 0) return EMBEDDED_ENVIRONMENT;
    this.bindEnvironment ??= { parameterText: this.parameterText, bindParameters: true };
    return this.bindEnvironment;
  }

  /** $n's bound text (see ClassifyContext.parameterText), or undefined inside embedded SQL. */
  boundParameter(index: number): string | null | undefined {
    return this.embedding > 0 ? undefined : this.parameterText?.(index);
  }

  /** A rule about what a statement does: skipped under plain EXPLAIN, which does not run it. */
  noteStatement(rule: SqlRule, reason: string): void {
    if (this.executing) this.note(rule, reason);
  }

  /** A rule that applies wherever its construct appears (a dangerous function call). */
  note(rule: SqlRule, reason: string): void {
    this.adopt(verdictForRule(this.policy, rule), rule, this.reasonPrefix === '' ? reason : this.reasonPrefix + reason);
  }

  /** Keeps the strictest finding; the first one wins a tie, so reasons follow the text's order. */
  adopt(verdict: SqlVerdict, rule: string | null, reason: string): void {
    if (rule === null) return;
    if (this.rule === null || isStricter(verdict, this.verdict)) {
      this.verdict = verdict;
      this.rule = rule;
      this.reason = reason;
    }
  }

  walk(value: object): void {
    if (Array.isArray(value)) {
      for (const item of value) if (typeof item === 'object' && item !== null) this.walk(item);
      return;
    }
    const fields = value as Fields;
    for (const key in fields) {
      const child = fields[key];
      if (typeof child !== 'object' || child === null) continue;
      const first = key.charCodeAt(0);
      // Node wrappers are the only keys that start with a capital: { FuncCall: {...} }.
      if (first >= 65 && first <= 90) this.visitNode(key, child as Fields);
      // The few places the tree holds a node unwrapped, under a field name.
      else if (key === 'funccall') this.visitNode('FuncCall', child as Fields);
      else if (key === 'setstmt') this.visitNode('VariableSetStmt', child as Fields);
      else {
        if (typeof (child as Fields).relname === 'string') this.noteRelation(child as RangeVar);
        this.walk(child);
      }
    }
  }

  private visitNode(type: string, body: Fields): void {
    switch (type) {
      // Leaves and near-leaves: nothing below them can call a function or hold a statement.
      case 'A_Const':
      case 'String':
      case 'Integer':
      case 'Float':
      case 'Boolean':
      case 'ColumnRef':
      case 'ParamRef':
      case 'A_Star':
        return;
      case 'RangeVar':
        this.noteRelation(body as RangeVar);
        return;
      case 'FuncCall':
        judgeCall(this, body);
        break;
      case 'CommonTableExpr':
        // Kept in the relations' spelling, so `WITH d AS (…) SELECT * FROM d` does not prefetch a table d.
        if (typeof body.ctename === 'string') (this.cteNames ??= new Set()).add(quoteIdentifier(body.ctename));
        break;
      default:
        if (type.endsWith('Stmt') && !judgeStatement(this, type, body)) return;
    }
    this.walk(body);
  }

  noteRelation(relation: RangeVar): void {
    if (this.embedding > 0 || !relation.relname) return;
    const name = qualifiedName(relation.schemaname, relation.relname);
    this.relations ??= [];
    if (!this.relations.includes(name)) this.relations.push(name);
  }

  addRelations(names: readonly string[]): void {
    if (this.embedding > 0 || names.length === 0) return;
    this.relations ??= [];
    for (const name of names) if (!this.relations.includes(name)) this.relations.push(name);
  }

  /** Walks `node` as not executed (plain EXPLAIN's statement): only rules that apply anywhere count. */
  walkPlanned(node: object): void {
    const was = this.executing;
    this.executing = false;
    try {
      this.walk(node);
    } finally {
      this.executing = was;
    }
  }

  /** Judges SQL found as text inside the statement (a function body, query_to_xml's query) as part of it. */
  judgeEmbeddedSql(text: string, where: string): void {
    if (this.embedding >= MAX_EMBEDDING) {
      this.note('unparsable', `${where} nests SQL text too deeply to judge`);
      return;
    }
    const parsed = parseSql(text);
    if (!parsed.ok) {
      this.note('unparsable', `${where} does not parse: ${parsed.message}`);
      return;
    }
    this.walkEmbedded(parsed.tree.stmts ?? [], where);
  }

  /** Walks statements whose $n are not Bind parameters (function bodies, embedded SQL), found `where`. */
  walkEmbedded(value: object, where: string): void {
    const prefix = this.reasonPrefix;
    this.reasonPrefix = `${prefix}in ${where}: `;
    this.embedding += 1;
    try {
      this.walk(value);
    } finally {
      this.embedding -= 1;
      this.reasonPrefix = prefix;
    }
  }

  /** A statement judged on its own (a PREPARE body), for EXECUTE to use later. */
  judgeAlone(statement: Node): SqlJudgement {
    return judgeStandalone(this.context, statement, undefined);
  }

  /** The prepared statement `name` as this string leaves it so far, the session's otherwise. */
  lookUpPrepared(name: string): SqlJudgement | undefined {
    const local = this.prepared.get(name);
    if (local) return local;
    if (this.deallocatedAll || this.deallocatedNames.includes(name)) return undefined;
    return this.context.preparedStatement(name);
  }

  /** DEALLOCATE name, or (null) DEALLOCATE ALL / DISCARD ALL. */
  deallocate(name: string | null): void {
    if (this.embedding > 0) return;
    if (name === null) {
      this.prepared.clear();
      this.deallocatedAll = true;
      this.deallocatedNames = [];
      return;
    }
    this.prepared.delete(name);
    if (!this.deallocatedAll && !this.deallocatedNames.includes(name)) this.deallocatedNames.push(name);
  }

  run(statements: readonly RawStmt[]): SqlJudgement {
    const judged: StatementJudgement[] = [];
    for (const raw of statements) {
      const statement = raw.stmt;
      if (!statement) continue;
      this.verdict = 'allow';
      this.rule = null;
      this.reason = '';
      let kind = 'UNKNOWN';
      for (const type in statement) {
        kind = statementKind(type, (statement as Fields)[type] as Fields);
        break;
      }
      this.walk(statement);
      judged.push({ verdict: this.verdict, rule: this.rule, reason: this.rule ? this.reason : `no rule applies to ${kind}`, kind });
    }
    return this.summarize(judged);
  }

  private summarize(statements: StatementJudgement[]): SqlJudgement {
    let strictest: StatementJudgement | undefined;
    for (const statement of statements) {
      if (!strictest || isStricter(statement.verdict, strictest.verdict) || (strictest.rule === null && statement.rule !== null && statement.verdict === strictest.verdict)) {
        strictest = statement;
      }
    }
    const prepares: SqlJudgement['prepares'] = [];
    for (const [name, judgement] of this.prepared) prepares.push({ name, judgement });
    const cteNames = this.cteNames;
    const relations = !this.relations ? [] : cteNames ? this.relations.filter((name) => !cteNames.has(name)) : this.relations;
    return {
      verdict: strictest?.verdict ?? 'allow',
      rule: strictest?.rule ?? null,
      reason: strictest?.reason ?? 'an empty query runs nothing',
      statements,
      dependsOnConstants: this.dependsOnConstants,
      dependsOnParameters: this.dependsOnParameters,
      prepares,
      deallocates: this.deallocatedAll ? 'all' : this.deallocatedNames,
      relations,
    };
  }
}

/**
 * A statement judged on its own, as PREPARE stores it for EXECUTE. When the verdict depends on
 * parameters, `withParameters` judges it again with EXECUTE's arguments.
 */
export function judgeStandalone(context: ClassifyContext, statement: Node, parameterText: ParameterText | undefined): SqlJudgement {
  const judgement = new Judge(context, parameterText).run([{ stmt: statement }]);
  if (judgement.dependsOnParameters) judgement.withParameters = (values) => judgeStandalone(context, statement, values);
  return judgement;
}
