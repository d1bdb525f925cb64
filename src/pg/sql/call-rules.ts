import type { FuncCall, Node } from 'libpg-query';
import { dangerousFunction, IDENTITY_SETTINGS, SQL_TEXT_FUNCTIONS } from './functions.ts';
import type { Fields, Judge } from './judge.ts';
import { literalText, UNKNOWN_PARAMETER } from './literal-text.ts';
import { lastName } from './where-clause.ts';

/**
 * Function calls, wherever they appear (select list, WHERE, FROM, VALUES, defaults, CALL, view
 * and CTAS queries, function bodies). These rules apply even under plain EXPLAIN: nobody needs
 * to plan a call to pg_read_file.
 */
export function judgeCall(judge: Judge, body: Fields): void {
  const call = body as FuncCall;
  const name = lastName(call.funcname);
  const danger = dangerousFunction(name);
  if (danger) {
    judge.note('dangerous-function', `${spelled(call.funcname)}() ${danger}`);
    return;
  }
  if (name === 'set_config') judgeSetConfig(judge, call.args);
  else if (SQL_TEXT_FUNCTIONS.has(name)) judgeSqlText(judge, name, call.args);
}

/** `set_config('role', …)` is SET ROLE by another name. */
function judgeSetConfig(judge: Judge, args: readonly Node[] | undefined): void {
  const setting = literalText(judge, args?.[0]);
  if (setting === null) return; // set_config(NULL, …) is an error on the server
  if (typeof setting === 'string') {
    // Setting names are case-insensitive on the server.
    if (IDENTITY_SETTINGS.has(setting.toLowerCase())) {
      judge.note('set-role', `set_config('${setting}', …) changes the role the session acts as, like SET ROLE`);
    }
    return;
  }
  const source = setting === UNKNOWN_PARAMETER ? 'a parameter whose value is not known yet' : 'computed at run time';
  judge.note('set-role', `set_config's setting name is ${source}, so it could change the role the session acts as`);
}

/** query_to_xml('…') and friends run their first argument as SQL: judge that SQL too. */
function judgeSqlText(judge: Judge, name: string, args: readonly Node[] | undefined): void {
  const text = literalText(judge, args?.[0]);
  if (text === null) return;
  if (typeof text === 'string') {
    judge.judgeEmbeddedSql(text, `the query given to ${name}()`);
    return;
  }
  const source = text === UNKNOWN_PARAMETER ? 'a parameter whose value is not known yet' : 'computed at run time';
  judge.note('dangerous-function', `${name}() runs SQL text that is ${source}, which the gateway cannot judge`);
}

/** The name as resolved, schema included: `pg_catalog.pg_read_file`. */
function spelled(names: readonly Node[] | undefined): string {
  return (names ?? []).map((part) => ('String' in part ? part.String.sval : '?')).join('.');
}
