import type { A_Const, A_Expr, BoolExpr, BooleanTest, Node } from 'libpg-query';

/**
 * Does a WHERE clause (or a MERGE join condition) pick rows, or is it the same for every row?
 * `DELETE ... WHERE 1=1` deletes as much as no WHERE at all, so a clause that is constant true —
 * or that does not depend on the row and cannot be proven false — counts as none.
 *
 * Evaluation is three-valued SQL logic over constants, extended with two unknowns: ROWS (depends
 * on the row: a column, CURRENT OF) and OPAQUE (the same for every row but not computable here: a
 * function call, a parameter whose value is not known). OPAQUE is treated as possibly true: the
 * gateway refuses what it cannot prove harmless.
 *
 * The clause is read twice. First with every constant and parameter as OPAQUE: if that already
 * depends on the rows, no literal or parameter value can change the answer, so the verdict is
 * cacheable by normalized text and needs no Bind values (the pgbench path ends here). Only when
 * it does not is the clause evaluated with the real values, and the verdict marked as depending
 * on them.
 */

export type WhereOutcome =
  | 'absent'
  /** Depends on the rows. */
  | 'selective'
  | 'always-true'
  /** False or NULL whatever the row: picks no row at all. */
  | 'never-true'
  /** The same for every row, but not computable here (function calls, subqueries without columns). */
  | 'row-independent'
  /** Depends only on parameters whose values are not known (yet). */
  | 'unknown-parameter';

export interface WhereEnvironment {
  /** $n as text (null = SQL NULL, undefined = not known); absent when the parameters are not Bind values. */
  parameterText: ((index: number) => string | null | undefined) | undefined;
  /** False inside function bodies, where $n are the function's arguments, not Bind values. */
  bindParameters: boolean;
}

export interface WhereReading {
  outcome: WhereOutcome;
  dependsOnConstants: boolean;
  dependsOnParameters: boolean;
}

const ROWS = Symbol('depends on the row');
const OPAQUE = Symbol('same for every row, value unknown');
type Value = boolean | number | string | null | typeof ROWS | typeof OPAQUE;

interface Evaluation {
  /** Constants and parameters read as OPAQUE: the shape of the clause, not its values. */
  readonly abstract: boolean;
  readonly env: WhereEnvironment;
  unknownParameter: boolean;
}

const SELECTIVE: WhereReading = { outcome: 'selective', dependsOnConstants: false, dependsOnParameters: false };
const ABSENT: WhereReading = { outcome: 'absent', dependsOnConstants: false, dependsOnParameters: false };

export function readWhere(where: Node | undefined, env: WhereEnvironment): WhereReading {
  if (!where) return ABSENT;
  if (truth(evaluate(where, { abstract: true, env, unknownParameter: false })) === ROWS) return SELECTIVE;
  const state: Evaluation = { abstract: false, env, unknownParameter: false };
  const value = truth(evaluate(where, state));
  let outcome: WhereOutcome;
  if (value === true) outcome = 'always-true';
  else if (value === OPAQUE) outcome = state.unknownParameter ? 'unknown-parameter' : 'row-independent';
  else if (value === ROWS) outcome = 'selective';
  else outcome = 'never-true';
  return {
    outcome,
    dependsOnConstants: containsNodeType(where, 'A_Const'),
    dependsOnParameters: env.bindParameters && containsNodeType(where, 'ParamRef'),
  };
}

function evaluate(node: Node | undefined, state: Evaluation): Value {
  if (!node) return OPAQUE;
  if ('A_Const' in node) return state.abstract ? OPAQUE : constantValue(node.A_Const);
  if ('ParamRef' in node) return state.abstract ? OPAQUE : parameterValue(node.ParamRef.number ?? 0, state);
  if ('ColumnRef' in node || 'CurrentOfExpr' in node) return ROWS;
  if ('TypeCast' in node) return cast(evaluate(node.TypeCast.arg, state), lastName(node.TypeCast.typeName?.names));
  if ('BoolExpr' in node) return booleanExpression(node.BoolExpr.boolop, node.BoolExpr.args ?? [], state);
  if ('A_Expr' in node) return operatorExpression(node, node.A_Expr, state);
  if ('NullTest' in node) {
    const value = evaluate(node.NullTest.arg, state);
    if (value === ROWS || value === OPAQUE) return value;
    return node.NullTest.nulltesttype === 'IS_NULL' ? value === null : value !== null;
  }
  if ('BooleanTest' in node) return booleanTest(node.BooleanTest.booltesttype, truth(evaluate(node.BooleanTest.arg, state)));
  return containsRowReference(node) ? ROWS : OPAQUE;
}

// The JSON leaves out zero values: `false` is `boolval: {}`, 0 is `ival: {}`, '' is `sval: {}`.
function constantValue(constant: A_Const): Value {
  if (constant.isnull) return null;
  if (constant.boolval) return constant.boolval.boolval === true;
  if (constant.ival) return constant.ival.ival ?? 0;
  if (constant.fval) return Number(constant.fval.fval);
  if (constant.sval) return constant.sval.sval ?? '';
  return OPAQUE; // bit strings
}

function parameterValue(index: number, state: Evaluation): Value {
  const { parameterText, bindParameters } = state.env;
  if (!bindParameters) return OPAQUE; // a function's argument: the same for every row of one call
  const text = parameterText ? parameterText(index) : undefined;
  if (text === undefined) {
    state.unknownParameter = true;
    return OPAQUE;
  }
  return text; // an untyped literal, coerced by the operator it meets, as the server does
}

/** The last part of a dotted name list (`pg_catalog.bool` → `bool`). */
export function lastName(names: readonly Node[] | undefined): string {
  const last = names?.[names.length - 1];
  return last && 'String' in last ? (last.String.sval ?? '') : '';
}

const NUMERIC_TYPES = new Set(['int2', 'int4', 'int8', 'integer', 'smallint', 'bigint', 'numeric', 'decimal', 'float4', 'float8', 'real', 'double precision']);
const TEXT_TYPES = new Set(['text', 'varchar', 'bpchar', 'char', 'name', 'unknown']);

function cast(value: Value, type: string): Value {
  if (value === ROWS || value === OPAQUE || value === null) return value;
  if (type === 'bool' || type === 'boolean') return truth(value);
  if (NUMERIC_TYPES.has(type)) {
    if (typeof value === 'number') return value;
    if (typeof value === 'boolean') return OPAQUE; // the server refuses bool::int4 without a cast function
    const number = Number(value.trim());
    return value.trim() === '' || Number.isNaN(number) ? OPAQUE : number;
  }
  if (TEXT_TYPES.has(type)) return typeof value === 'string' ? value : String(value);
  return OPAQUE;
}

/** A value used as a condition: strings are read as PostgreSQL reads boolean input. */
function truth(value: Value): Value {
  if (typeof value === 'string') return parseBoolean(value);
  if (typeof value === 'number') return OPAQUE; // "argument of WHERE must be type boolean"
  return value;
}

/** PostgreSQL's parse_bool: any unique prefix of true/false/yes/no, on/off, 1/0; case-insensitive. */
function parseBoolean(text: string): boolean | typeof OPAQUE {
  const word = text.trim().toLowerCase();
  if (word === '') return OPAQUE;
  if ('true'.startsWith(word) || 'yes'.startsWith(word) || word === 'on' || word === '1') return true;
  if ('false'.startsWith(word) || 'no'.startsWith(word) || word === 'off' || word === '0') return false;
  return OPAQUE; // "o" is ambiguous (on/off) and anything else is an error: refuse rather than guess
}

function booleanExpression(op: BoolExpr['boolop'], args: readonly Node[], state: Evaluation): Value {
  if (op === 'NOT_EXPR') {
    const value = truth(evaluate(args[0], state));
    return typeof value === 'boolean' ? !value : value;
  }
  let sawFalse = false;
  let sawTrue = false;
  let sawNull = false;
  let sawRows = false;
  let sawOpaque = false;
  for (const arg of args) {
    const value = truth(evaluate(arg, state));
    if (value === true) sawTrue = true;
    else if (value === false) sawFalse = true;
    else if (value === null) sawNull = true;
    else if (value === ROWS) sawRows = true;
    else sawOpaque = true;
  }
  if (op === 'AND_EXPR') {
    // Any operand that can be false or NULL for some row keeps the whole AND from reaching every row.
    if (sawFalse) return false;
    if (sawNull) return null;
    if (sawRows) return ROWS;
    return sawOpaque ? OPAQUE : true;
  }
  if (sawTrue) return true;
  // An unknown operand of OR might be true, and then every row matches whatever the others say.
  if (sawOpaque) return OPAQUE;
  if (sawRows) return ROWS;
  return sawNull ? null : false;
}

function booleanTest(test: BooleanTest['booltesttype'], value: Value): Value {
  if (value === ROWS || value === OPAQUE) return value;
  switch (test) {
    case 'IS_TRUE':
      return value === true;
    case 'IS_NOT_TRUE':
      return value !== true;
    case 'IS_FALSE':
      return value === false;
    case 'IS_NOT_FALSE':
      return value !== false;
    case 'IS_UNKNOWN':
      return value === null;
    default:
      return value !== null;
  }
}

const COMPARISONS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);
const REFLEXIVE = new Set(['=', '<=', '>=']);

function operatorExpression(node: Node, body: A_Expr, state: Evaluation): Value {
  const op = lastName(body.name);
  const kind = body.kind;
  if (kind === 'AEXPR_OP' && COMPARISONS.has(op) && body.lexpr && body.rexpr) {
    // `id = id` is true for every row with an id: as good as no WHERE at all.
    if (REFLEXIVE.has(op) && sameColumn(body.lexpr, body.rexpr)) return true;
    return compare(op, evaluate(body.lexpr, state), evaluate(body.rexpr, state));
  }
  if ((kind === 'AEXPR_DISTINCT' || kind === 'AEXPR_NOT_DISTINCT') && body.lexpr && body.rexpr) {
    const left = evaluate(body.lexpr, state);
    const right = evaluate(body.rexpr, state);
    if (left === ROWS || right === ROWS) return ROWS;
    if (left === OPAQUE || right === OPAQUE) return OPAQUE;
    const same = left === null || right === null ? left === right : compare('=', left, right);
    if (same === OPAQUE) return OPAQUE;
    return kind === 'AEXPR_DISTINCT' ? same !== true : same === true;
  }
  if (kind === 'AEXPR_IN' && body.lexpr && body.rexpr && 'List' in body.rexpr) {
    const left = evaluate(body.lexpr, state);
    let result: Value = false;
    for (const item of body.rexpr.List.items ?? []) {
      const equal = compare('=', left, evaluate(item, state));
      result = booleanOr(result, equal);
    }
    return op === '<>' ? (typeof result === 'boolean' ? !result : result) : result;
  }
  return containsRowReference(node) ? ROWS : OPAQUE;
}

function booleanOr(a: Value, b: Value): Value {
  if (a === true || b === true) return true;
  if (a === OPAQUE || b === OPAQUE) return OPAQUE;
  if (a === ROWS || b === ROWS) return ROWS;
  return a === null || b === null ? null : false;
}

function compare(op: string, left: Value, right: Value): Value {
  if (left === ROWS || right === ROWS) return ROWS;
  if (left === OPAQUE || right === OPAQUE) return OPAQUE;
  if (left === null || right === null) return null;
  let a: boolean | number | string = left;
  let b: boolean | number | string = right;
  // An untyped literal takes the other side's type, as the server resolves `'1' = 1`.
  if (typeof a === 'string' && typeof b !== 'string') a = coerceLike(a, b);
  if (typeof b === 'string' && typeof a !== 'string') b = coerceLike(b, a);
  if (typeof a !== typeof b || (Number.isNaN(a) || Number.isNaN(b))) return OPAQUE;
  if (typeof a === 'string' && op !== '=' && op !== '<>' && op !== '!=') return OPAQUE; // collation order: not ours to guess
  switch (op) {
    case '=':
      return a === b;
    case '<>':
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '>':
      return a > b;
    case '<=':
      return a <= b;
    default:
      return a >= b;
  }
}

function coerceLike(text: string, like: boolean | number): boolean | number {
  if (typeof like === 'number') return text.trim() === '' ? Number.NaN : Number(text.trim());
  const value = parseBoolean(text);
  return value === OPAQUE ? Number.NaN : value;
}

function sameColumn(left: Node, right: Node): boolean {
  if (!('ColumnRef' in left) || !('ColumnRef' in right)) return false;
  const a = left.ColumnRef.fields ?? [];
  const b = right.ColumnRef.fields ?? [];
  return a.length === b.length && a.every((field, i) => JSON.stringify(field) === JSON.stringify(b[i]));
}

function containsRowReference(node: unknown): boolean {
  return containsNodeType(node, 'ColumnRef') || containsNodeType(node, 'CurrentOfExpr');
}

/** Whether a node of `type` occurs anywhere under `value`. */
export function containsNodeType(value: unknown, type: string): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (const item of value) if (containsNodeType(item, type)) return true;
    return false;
  }
  for (const key in value) {
    if (key === type) return true;
    if (containsNodeType((value as Record<string, unknown>)[key], type)) return true;
  }
  return false;
}
