/**
 * What a statement is, in the words of its SQL ('DELETE', 'CREATE TABLE', 'DROP INDEX'), for
 * reasons and records. Close to the server's command tags, but no promise to match them: this is
 * read by people, never parsed.
 */

type Fields = Readonly<Record<string, unknown>>;

const FIXED: Readonly<Record<string, string>> = {
  SelectStmt: 'SELECT',
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
  TruncateStmt: 'TRUNCATE',
  CopyStmt: 'COPY',
  ExplainStmt: 'EXPLAIN',
  VariableShowStmt: 'SHOW',
  PrepareStmt: 'PREPARE',
  ExecuteStmt: 'EXECUTE',
  DeallocateStmt: 'DEALLOCATE',
  DiscardStmt: 'DISCARD',
  DeclareCursorStmt: 'DECLARE CURSOR',
  ClosePortalStmt: 'CLOSE',
  ListenStmt: 'LISTEN',
  UnlistenStmt: 'UNLISTEN',
  NotifyStmt: 'NOTIFY',
  DoStmt: 'DO',
  CallStmt: 'CALL',
  LoadStmt: 'LOAD',
  CheckPointStmt: 'CHECKPOINT',
  LockStmt: 'LOCK TABLE',
  ClusterStmt: 'CLUSTER',
  ReindexStmt: 'REINDEX',
  IndexStmt: 'CREATE INDEX',
  ViewStmt: 'CREATE VIEW',
  RuleStmt: 'CREATE RULE',
  CreateTrigStmt: 'CREATE TRIGGER',
  CreateEventTrigStmt: 'CREATE EVENT TRIGGER',
  AlterEventTrigStmt: 'ALTER EVENT TRIGGER',
  CreateSeqStmt: 'CREATE SEQUENCE',
  AlterSeqStmt: 'ALTER SEQUENCE',
  CreatedbStmt: 'CREATE DATABASE',
  DropdbStmt: 'DROP DATABASE',
  AlterDatabaseStmt: 'ALTER DATABASE',
  AlterDatabaseSetStmt: 'ALTER DATABASE',
  AlterDatabaseRefreshCollStmt: 'ALTER DATABASE',
  AlterSystemStmt: 'ALTER SYSTEM',
  CreateExtensionStmt: 'CREATE EXTENSION',
  AlterExtensionStmt: 'ALTER EXTENSION',
  AlterExtensionContentsStmt: 'ALTER EXTENSION',
  CreatePLangStmt: 'CREATE LANGUAGE',
  CreateAmStmt: 'CREATE ACCESS METHOD',
  CreateFdwStmt: 'CREATE FOREIGN DATA WRAPPER',
  AlterFdwStmt: 'ALTER FOREIGN DATA WRAPPER',
  CreateForeignServerStmt: 'CREATE SERVER',
  AlterForeignServerStmt: 'ALTER SERVER',
  CreateStatsStmt: 'CREATE STATISTICS',
  AlterStatsStmt: 'ALTER STATISTICS',
  CompositeTypeStmt: 'CREATE TYPE',
  CreateEnumStmt: 'CREATE TYPE',
  CreateRangeStmt: 'CREATE TYPE',
  AlterEnumStmt: 'ALTER TYPE',
  AlterTypeStmt: 'ALTER TYPE',
  CreateDomainStmt: 'CREATE DOMAIN',
  AlterDomainStmt: 'ALTER DOMAIN',
  CommentStmt: 'COMMENT',
  SecLabelStmt: 'SECURITY LABEL',
  AlterDefaultPrivilegesStmt: 'ALTER DEFAULT PRIVILEGES',
  DropRoleStmt: 'DROP ROLE',
  AlterRoleSetStmt: 'ALTER ROLE',
  DropOwnedStmt: 'DROP OWNED',
  ReassignOwnedStmt: 'REASSIGN OWNED',
  RefreshMatViewStmt: 'REFRESH MATERIALIZED VIEW',
  ConstraintsSetStmt: 'SET CONSTRAINTS',
  CreateTableSpaceStmt: 'CREATE TABLESPACE',
  DropTableSpaceStmt: 'DROP TABLESPACE',
  CreateSchemaStmt: 'CREATE SCHEMA',
  CreateConversionStmt: 'CREATE CONVERSION',
  CreateCastStmt: 'CREATE CAST',
  CreateTransformStmt: 'CREATE TRANSFORM',
  CreateOpClassStmt: 'CREATE OPERATOR CLASS',
  CreateOpFamilyStmt: 'CREATE OPERATOR FAMILY',
  AlterOpFamilyStmt: 'ALTER OPERATOR FAMILY',
  AlterOperatorStmt: 'ALTER OPERATOR',
  CreatePolicyStmt: 'CREATE POLICY',
  AlterPolicyStmt: 'ALTER POLICY',
  CreatePublicationStmt: 'CREATE PUBLICATION',
  AlterPublicationStmt: 'ALTER PUBLICATION',
  CreateSubscriptionStmt: 'CREATE SUBSCRIPTION',
  AlterSubscriptionStmt: 'ALTER SUBSCRIPTION',
  DropSubscriptionStmt: 'DROP SUBSCRIPTION',
  CreateUserMappingStmt: 'CREATE USER MAPPING',
  AlterUserMappingStmt: 'ALTER USER MAPPING',
  DropUserMappingStmt: 'DROP USER MAPPING',
  ImportForeignSchemaStmt: 'IMPORT FOREIGN SCHEMA',
  CreateForeignTableStmt: 'CREATE FOREIGN TABLE',
  AlterTSDictionaryStmt: 'ALTER TEXT SEARCH DICTIONARY',
  AlterTSConfigurationStmt: 'ALTER TEXT SEARCH CONFIGURATION',
  AlterTableSpaceOptionsStmt: 'ALTER TABLESPACE',
  AlterTableMoveAllStmt: 'ALTER TABLE',
  AlterCollationStmt: 'ALTER COLLATION',
};

const TRANSACTION: Readonly<Record<string, string>> = {
  TRANS_STMT_BEGIN: 'BEGIN',
  TRANS_STMT_START: 'START TRANSACTION',
  TRANS_STMT_COMMIT: 'COMMIT',
  TRANS_STMT_ROLLBACK: 'ROLLBACK',
  TRANS_STMT_SAVEPOINT: 'SAVEPOINT',
  TRANS_STMT_RELEASE: 'RELEASE',
  TRANS_STMT_ROLLBACK_TO: 'ROLLBACK TO SAVEPOINT',
  TRANS_STMT_PREPARE: 'PREPARE TRANSACTION',
  TRANS_STMT_COMMIT_PREPARED: 'COMMIT PREPARED',
  TRANS_STMT_ROLLBACK_PREPARED: 'ROLLBACK PREPARED',
};

/** `OBJECT_MATVIEW` → `MATERIALIZED VIEW`, `OBJECT_FOREIGN_TABLE` → `FOREIGN TABLE`. */
export function objectTypeWords(objectType: unknown): string {
  if (typeof objectType !== 'string') return 'OBJECT';
  const words = objectType.replace(/^OBJECT_/, '');
  if (words === 'MATVIEW') return 'MATERIALIZED VIEW';
  if (words === 'FDW') return 'FOREIGN DATA WRAPPER';
  if (words === 'TSCONFIGURATION') return 'TEXT SEARCH CONFIGURATION';
  if (words === 'TSDICTIONARY') return 'TEXT SEARCH DICTIONARY';
  if (words === 'TSPARSER') return 'TEXT SEARCH PARSER';
  if (words === 'TSTEMPLATE') return 'TEXT SEARCH TEMPLATE';
  if (words === 'OPCLASS') return 'OPERATOR CLASS';
  if (words === 'OPFAMILY') return 'OPERATOR FAMILY';
  if (words === 'ACCESS_METHOD') return 'ACCESS METHOD';
  return words.replaceAll('_', ' ');
}

export function statementKind(type: string, body: Fields): string {
  const fixed = FIXED[type];
  if (fixed) return type === 'SelectStmt' && body.intoClause ? 'SELECT INTO' : fixed;
  switch (type) {
    case 'TransactionStmt':
      return TRANSACTION[body.kind as string] ?? 'TRANSACTION';
    case 'VariableSetStmt':
      return body.kind === 'VAR_RESET' || body.kind === 'VAR_RESET_ALL' ? 'RESET' : 'SET';
    case 'FetchStmt':
      return body.ismove ? 'MOVE' : 'FETCH';
    case 'CreateStmt':
      return 'CREATE TABLE';
    case 'CreateTableAsStmt':
      return body.objtype === 'OBJECT_MATVIEW' ? 'CREATE MATERIALIZED VIEW' : 'CREATE TABLE AS';
    case 'CreateFunctionStmt':
      return body.is_procedure ? 'CREATE PROCEDURE' : 'CREATE FUNCTION';
    case 'AlterFunctionStmt':
      return `ALTER ${objectTypeWords(body.objtype)}`;
    case 'CreateRoleStmt':
    case 'AlterRoleStmt':
      return `${type === 'CreateRoleStmt' ? 'CREATE' : 'ALTER'} ${body.stmt_type === 'ROLESTMT_USER' ? 'USER' : body.stmt_type === 'ROLESTMT_GROUP' ? 'GROUP' : 'ROLE'}`;
    case 'GrantStmt':
    case 'GrantRoleStmt':
      return body.is_grant ? 'GRANT' : 'REVOKE';
    case 'VacuumStmt':
      return body.is_vacuumcmd ? 'VACUUM' : 'ANALYZE';
    case 'DropStmt':
      return `DROP ${objectTypeWords(body.removeType)}`;
    case 'AlterTableStmt':
      return `ALTER ${objectTypeWords(body.objtype)}`;
    case 'RenameStmt':
      return `ALTER ${objectTypeWords(body.renameType)}`;
    case 'AlterObjectSchemaStmt':
    case 'AlterOwnerStmt':
    case 'AlterObjectDependsStmt':
      return `ALTER ${objectTypeWords(body.objectType)}`;
    case 'DefineStmt':
      return `CREATE ${objectTypeWords(body.kind)}`;
    default:
      // A statement type newer than this table: its name still says what it is.
      return type
        .replace(/Stmt$/, '')
        .replace(/([a-z])([A-Z])/g, '$1 $2')
        .toUpperCase();
  }
}
