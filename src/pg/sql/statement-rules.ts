import type {
  AlterRoleStmt,
  AlterTableStmt,
  CopyStmt,
  CreateFunctionStmt,
  CreateRoleStmt,
  DeallocateStmt,
  DefElem,
  DeleteStmt,
  DropStmt,
  ExecuteStmt,
  ExplainStmt,
  InsertStmt,
  MergeStmt,
  Node,
  PrepareStmt,
  SelectStmt,
  TruncateStmt,
  UpdateStmt,
  VacuumStmt,
  VariableSetStmt,
} from 'libpg-query';
import { judgeDelete, judgeInsert, judgeMerge, judgeUpdate, nameOf } from './dml-rules.ts';
import { IDENTITY_SETTINGS } from './functions.ts';
import type { Fields, Judge } from './judge.ts';
import { judgeDeallocate, judgeExecute, judgePrepare } from './prepared-rules.ts';
import { statementKind } from './statement-kind.ts';

/**
 * The rule for each kind of statement, wherever it appears. Returns whether the walk should go on
 * into the statement's children (function calls and nested statements in them are judged too).
 * A statement type not named here is DDL: new statement types wait for a human, not slip through.
 */
export function judgeStatement(judge: Judge, type: string, body: Fields): boolean {
  switch (type) {
    case 'SelectStmt': {
      const into = (body as SelectStmt).intoClause;
      if (into) judge.noteStatement('ddl', `SELECT INTO creates the table ${nameOf(into.rel)}`);
      return true;
    }
    case 'InsertStmt':
      judgeInsert(judge, body as InsertStmt);
      return true;
    case 'UpdateStmt':
      judgeUpdate(judge, body as UpdateStmt);
      return true;
    case 'DeleteStmt':
      judgeDelete(judge, body as DeleteStmt);
      return true;
    case 'MergeStmt':
      judgeMerge(judge, body as MergeStmt);
      return true;
    case 'ExplainStmt':
      return judgeExplain(judge, body as ExplainStmt);
    case 'PrepareStmt':
      judgePrepare(judge, body as PrepareStmt);
      return false;
    case 'ExecuteStmt':
      judgeExecute(judge, body as ExecuteStmt);
      return true; // its arguments may call functions
    case 'DeallocateStmt':
      judgeDeallocate(judge, body as DeallocateStmt);
      return false;
    case 'DiscardStmt':
      if (body.target === 'DISCARD_ALL') judge.deallocate(null);
      return false;
    case 'CopyStmt':
      judgeCopy(judge, body as CopyStmt);
      return true;
    case 'VariableSetStmt':
      judgeSet(judge, body as VariableSetStmt);
      return false;
    case 'CreateFunctionStmt':
      judgeCreateFunction(judge, body as CreateFunctionStmt);
      return false;
    case 'CreateRoleStmt':
    case 'AlterRoleStmt':
      judgeRole(judge, type, body as CreateRoleStmt | AlterRoleStmt);
      return false;
    case 'AlterTableStmt':
      judgeAlterTable(judge, body as AlterTableStmt);
      return true;
    case 'AlterDomainStmt':
      if (body.subtype === 'X') judge.noteStatement('drop', `ALTER DOMAIN … DROP CONSTRAINT ${String(body.name ?? '')} removes a constraint`);
      judge.noteStatement('ddl', 'ALTER DOMAIN changes the schema');
      return true;
    case 'DropStmt':
      judgeDrop(judge, body as DropStmt);
      return false;
    case 'DropRoleStmt':
    case 'DropdbStmt':
    case 'DropTableSpaceStmt':
    case 'DropUserMappingStmt':
    case 'DropSubscriptionStmt':
    case 'DropOwnedStmt':
      judge.noteStatement('drop', `${statementKind(type, body)} would remove ${type === 'DropOwnedStmt' ? 'every object the role owns' : 'it'} for good`);
      return false;
    case 'TruncateStmt': {
      const tables = ((body as TruncateStmt).relations ?? []).map((relation) => ('RangeVar' in relation ? nameOf(relation.RangeVar) : '?'));
      judge.noteStatement('truncate', `TRUNCATE would remove every row of ${tables.join(', ')}`);
      return false;
    }
    case 'AlterSystemStmt':
      judge.noteStatement('alter-system', "ALTER SYSTEM rewrites the server's configuration file");
      return true; // ALTER SYSTEM SET role … is judged as a role change too
    case 'CreateExtensionStmt':
      judge.noteStatement('create-extension', `CREATE EXTENSION ${String(body.extname ?? '')} installs code that runs inside the server`);
      return false;
    case 'DoStmt':
      judge.noteStatement('do-block', 'DO runs procedural code the gateway cannot judge');
      return false;
    case 'LoadStmt':
      judge.noteStatement('load-library', `LOAD ${JSON.stringify(body.filename ?? '')} loads a shared library into the server`);
      return false;
    case 'GrantStmt':
    case 'GrantRoleStmt':
    case 'AlterDefaultPrivilegesStmt':
      judge.noteStatement('grant', `${statementKind(type, body)} changes who may do what`);
      return false;
    case 'VacuumStmt':
      if (hasOption((body as VacuumStmt).options, 'full')) judge.noteStatement('vacuum-full', 'VACUUM FULL rewrites tables under an exclusive lock');
      return false;
    case 'ClusterStmt':
      judge.noteStatement('cluster', 'CLUSTER rewrites a table under an exclusive lock');
      return false;
    case 'LockStmt':
      judge.noteStatement('lock-table', 'LOCK TABLE blocks other sessions until the transaction ends');
      return false;
    case 'RefreshMatViewStmt':
      judge.noteStatement('refresh-materialized-view', 'REFRESH MATERIALIZED VIEW recomputes a view, locking it unless CONCURRENTLY');
      return false;
    // Allowed: reading, transaction and session control, cursors, notifications.
    case 'TransactionStmt':
    case 'VariableShowStmt':
    case 'ListenStmt':
    case 'UnlistenStmt':
    case 'NotifyStmt':
    case 'FetchStmt':
    case 'ClosePortalStmt':
    case 'ConstraintsSetStmt':
    case 'CheckPointStmt':
      return false;
    case 'DeclareCursorStmt':
    case 'CallStmt':
    case 'ReturnStmt':
    case 'PLAssignStmt':
      return true;
    default:
      judge.noteStatement('ddl', `${statementKind(type, body)} changes the schema`);
      return true;
  }
}

/** EXPLAIN plans without running; EXPLAIN ANALYZE runs the statement, so it is judged in full. */
function judgeExplain(judge: Judge, explain: ExplainStmt): boolean {
  if (hasOption(explain.options, 'analyze')) return true;
  if (explain.query) judge.walkPlanned(explain.query);
  return false;
}

function judgeCopy(judge: Judge, copy: CopyStmt): void {
  const direction = copy.is_from ? 'FROM' : 'TO';
  if (copy.is_program) {
    judge.noteStatement('copy-program', `COPY ${direction} PROGRAM runs a shell command on the database server`);
  } else if (copy.filename !== undefined) {
    const effect = copy.is_from ? 'reads' : 'writes';
    judge.noteStatement('copy-file', `COPY ${direction} '${copy.filename}' ${effect} a file on the database server`);
  }
}

function judgeSet(judge: Judge, set: VariableSetStmt): void {
  if (set.kind !== 'VAR_SET_VALUE' && set.kind !== 'VAR_SET_CURRENT') return; // DEFAULT and RESET go back to the login role
  // Setting names are case-insensitive on the server (SET "ROLE" is SET role).
  const name = (set.name ?? '').toLowerCase();
  if (!IDENTITY_SETTINGS.has(name)) return;
  // SET ROLE NONE is RESET ROLE; normalization hides the word, so the verdict depends on it.
  const value = set.args?.[0];
  if (name === 'role' && set.args?.length === 1 && value && 'A_Const' in value) {
    judge.dependsOnConstants = true;
    // Exactly `none`, as the server compares it: SET role = 'NONE' names a role called NONE.
    if (value.A_Const.sval?.sval === 'none') return;
  }
  const words = name === 'role' ? 'SET ROLE' : 'SET SESSION AUTHORIZATION';
  judge.noteStatement('set-role', `${words} changes the role the session acts as`);
}

function judgeCreateFunction(judge: Judge, create: CreateFunctionStmt): void {
  const what = create.is_procedure ? 'procedure' : 'function';
  const name = (create.funcname ?? []).map((part) => ('String' in part ? part.String.sval : '?')).join('.');
  let language: string | undefined;
  let body: Node | undefined;
  for (const option of create.options ?? []) {
    if (!('DefElem' in option)) continue;
    if (option.DefElem.defname === 'language') language = stringArgument(option.DefElem);
    if (option.DefElem.defname === 'as') body = option.DefElem.arg;
  }
  // The body string (and a quoted language name) are literals that normalization replaces.
  judge.dependsOnConstants = true;
  const lang = (language ?? (create.sql_body ? 'sql' : undefined))?.toLowerCase();
  if (lang !== 'sql') {
    judge.noteStatement('untrusted-language-function', `CREATE ${what.toUpperCase()} ${name} in language ${lang ?? '(none given)'}: only sql bodies can be judged by the gateway`);
  } else {
    judge.noteStatement('ddl', `CREATE ${what.toUpperCase()} ${name} changes the schema`);
  }
  // Defaults and SET options run when the function does; so does its body.
  if (create.parameters) judge.walk(create.parameters);
  if (create.options) judge.walk(create.options);
  if (create.sql_body) judge.walkEmbedded(create.sql_body, `the body of ${what} ${name}`);
  if (lang === 'sql' && body && 'List' in body) {
    const text = body.List.items?.[0];
    if (text && 'String' in text) judge.judgeEmbeddedSql(text.String.sval ?? '', `the body of ${what} ${name}`);
  }
}

const ROLE_POWERS: Readonly<Record<string, string>> = {
  superuser: 'SUPERUSER: a superuser bypasses every permission check',
  isreplication: 'REPLICATION: a replication role can stream out the whole database',
  bypassrls: 'BYPASSRLS: the role ignores row-level security',
};

function judgeRole(judge: Judge, type: string, role: CreateRoleStmt | AlterRoleStmt): void {
  const kind = statementKind(type, role as Fields);
  const name = type === 'CreateRoleStmt' ? (role as CreateRoleStmt).role : (role as AlterRoleStmt).role?.rolename;
  for (const option of role.options ?? []) {
    if (!('DefElem' in option)) continue;
    const power = ROLE_POWERS[option.DefElem.defname ?? ''];
    const arg = option.DefElem.arg;
    if (power && arg && 'Boolean' in arg && arg.Boolean.boolval === true) {
      judge.noteStatement('superuser-role', `${kind} ${name ?? ''} WITH ${power}`);
    }
  }
  judge.noteStatement('ddl', `${kind} changes a role`);
}

function judgeAlterTable(judge: Judge, alter: AlterTableStmt): void {
  const kind = statementKind('AlterTableStmt', alter as Fields);
  const target = nameOf(alter.relation);
  for (const item of alter.cmds ?? []) {
    if (!('AlterTableCmd' in item)) continue;
    const command = item.AlterTableCmd;
    if (command.subtype === 'AT_DropColumn') judge.noteStatement('drop', `${kind} ${target} DROP COLUMN ${command.name ?? ''} would remove the column and its data`);
    if (command.subtype === 'AT_DropConstraint') judge.noteStatement('drop', `${kind} ${target} DROP CONSTRAINT ${command.name ?? ''} would remove a constraint`);
  }
  judge.noteStatement('ddl', `${kind} ${target} changes the schema`);
}

function judgeDrop(judge: Judge, drop: DropStmt): void {
  const kind = statementKind('DropStmt', drop as Fields);
  const names = (drop.objects ?? []).map(objectName).filter((name) => name !== '');
  judge.noteStatement('drop', `${kind} would remove ${names.length > 0 ? names.join(', ') : 'it'} for good`);
}

function objectName(node: Node): string {
  const parts = (list: readonly Node[] | undefined): string => (list ?? []).map((part) => ('String' in part ? (part.String.sval ?? '') : '')).join('.');
  if ('List' in node) return parts(node.List.items);
  if ('String' in node) return node.String.sval ?? '';
  if ('ObjectWithArgs' in node) return parts(node.ObjectWithArgs.objname);
  if ('TypeName' in node) return parts(node.TypeName.names);
  return '';
}

/** Whether a DefElem option list turns `name` on: `(FULL)`, `(ANALYZE true)`, `(ANALYZE 1)`, not `(ANALYZE off)`. */
function hasOption(options: readonly Node[] | undefined, name: string): boolean {
  for (const option of options ?? []) {
    if (!('DefElem' in option) || option.DefElem.defname !== name) continue;
    const arg = option.DefElem.arg;
    if (!arg) return true;
    if ('Boolean' in arg) return arg.Boolean.boolval === true;
    if ('Integer' in arg) return (arg.Integer.ival ?? 0) !== 0;
    if ('String' in arg) return !['false', 'off', 'no', '0'].includes((arg.String.sval ?? '').toLowerCase());
    return true;
  }
  return false;
}

function stringArgument(option: DefElem): string | undefined {
  const arg = option.arg;
  return arg && 'String' in arg ? arg.String.sval : undefined;
}
