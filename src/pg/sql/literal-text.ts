import type { A_Const, Node } from 'libpg-query';
import type { Judge } from './judge.ts';

/**
 * The text value of an argument the rules read (set_config's setting name, query_to_xml's query,
 * EXECUTE's arguments): a constant, a cast constant, or a bound parameter. Reading one marks the
 * judgement as depending on constants or parameters, since the normalized text hides them.
 */

/** A parameter whose value is not known (yet). */
export const UNKNOWN_PARAMETER = Symbol('unknown parameter');
/** An expression computed at run time: no value to read. */
export const COMPUTED = Symbol('computed');

export type LiteralText = string | null | typeof UNKNOWN_PARAMETER | typeof COMPUTED;

export function literalText(judge: Judge, node: Node | undefined): LiteralText {
  if (!node) return COMPUTED;
  if ('A_Const' in node) {
    judge.dependsOnConstants = true;
    return constantText(node.A_Const);
  }
  if ('TypeCast' in node) return literalText(judge, node.TypeCast.arg);
  if ('ParamRef' in node) {
    if (judge.embedding > 0) return UNKNOWN_PARAMETER; // a function's argument: unknowable here
    judge.dependsOnParameters = true;
    const value = judge.boundParameter(node.ParamRef.number ?? 0);
    return value === undefined ? UNKNOWN_PARAMETER : value;
  }
  return COMPUTED;
}

// The JSON leaves out zero values: `false` is `boolval: {}`, 0 is `ival: {}`, '' is `sval: {}`.
function constantText(constant: A_Const): string | null {
  if (constant.isnull) return null;
  if (constant.boolval) return constant.boolval.boolval === true ? 'true' : 'false';
  if (constant.ival) return String(constant.ival.ival ?? 0);
  if (constant.fval) return constant.fval.fval ?? '0';
  if (constant.bsval) return constant.bsval.bsval ?? '';
  return constant.sval?.sval ?? '';
}
