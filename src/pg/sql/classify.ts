import { Judge } from './judge.ts';
import type { ClassifyContext, SqlJudgement } from './judgement.ts';
import type { SqlPolicy } from '../../policy/sql.ts';
import { parseSql, type ParseResult } from './parser.ts';
import { verdictForRule, type SqlRule } from './rules.ts';

export type { ClassifyContext, SqlJudgement, StatementJudgement } from './judgement.ts';
export type { SqlRule, SqlVerdict } from './rules.ts';

/**
 * The statement guardrails' entry points. Pure and synchronous: the parser is loaded once at start
 * (loadSqlParser), after which judging a statement never yields to the event loop.
 */

/** Judges a parsed query string: every statement, the strictest one decides. */
export function classifyParsed(tree: ParseResult, ctx: ClassifyContext): SqlJudgement {
  const parameterText = ctx.parameterText ? (index: number) => ctx.parameterText!(index) : undefined;
  try {
    return new Judge(ctx, parameterText).run(tree.stmts ?? []);
  } catch (error) {
    // Fail closed: a tree too deep for the walk (RangeError) or a shape the rules did not expect.
    const detail = error instanceof RangeError ? 'it is nested too deeply' : error instanceof Error ? error.message : String(error);
    return refusedUnread(`the gateway could not judge this statement: ${detail}`);
  }
}

/** Parses and judges a query string; a string that does not parse is refused (rule `unparsable`). */
export function classifySql(text: string, ctx: ClassifyContext): SqlJudgement {
  // The parser refuses '' outright; the server answers it with EmptyQueryResponse, which is harmless.
  if (text.trim() === '') return classifyParsed({ version: 0, stmts: [] }, ctx);
  const parsed = parseSql(text);
  if (!parsed.ok) {
    const where = parsed.position > 0 ? ` (at character ${parsed.position})` : '';
    return refusedUnread(`the statement does not parse: ${parsed.message}${where}`);
  }
  return classifyParsed(parsed.tree, ctx);
}

/**
 * The protocol's FunctionCall (fast-path) message: it calls any function by OID with no SQL text,
 * so nothing can be judged but the message itself (rule `fastpath-function-call`).
 */
export function judgeFunctionCallMessage(policy: SqlPolicy): SqlJudgement {
  const rule: SqlRule = 'fastpath-function-call';
  const verdict = verdictForRule(policy, rule);
  const reason = 'a FunctionCall message calls a server function by OID, with no SQL text the gateway can judge';
  return {
    verdict,
    rule,
    reason,
    statements: [{ verdict, rule, reason, kind: 'FUNCTION CALL' }],
    dependsOnConstants: false,
    dependsOnParameters: false,
    prepares: [],
    deallocates: [],
    relations: [],
  };
}

function refusedUnread(reason: string): SqlJudgement {
  return {
    verdict: 'block',
    rule: 'unparsable',
    reason,
    statements: [{ verdict: 'block', rule: 'unparsable', reason, kind: 'UNPARSABLE' }],
    dependsOnConstants: false,
    dependsOnParameters: false,
    prepares: [],
    deallocates: [],
    relations: [],
  };
}
