/**
 * Functions that reach outside the database or past its access control: the server's files,
 * other servers, other sessions, the server's configuration and replication. Matched by the name
 * the parser resolved (so `pg_catalog.pg_read_file`, `"pg_read_file"` and `U&"pg\005fread_file"`
 * are all the same call) in any schema: dblink usually lives in public, and a same-named function
 * elsewhere deserves the same suspicion.
 */

const DANGEROUS: ReadonlyMap<string, string> = new Map([
  ['pg_read_file', "reads a file on the database server"],
  ['pg_read_binary_file', "reads a file on the database server"],
  ['pg_stat_file', "inspects a file on the database server"],
  ['pg_file_write', "writes a file on the database server"],
  ['pg_file_rename', "renames a file on the database server"],
  ['pg_file_unlink', "deletes a file on the database server"],
  ['pg_file_sync', "touches a file on the database server"],
  ['pg_logdir_ls', "lists the server's log directory"],
  ['lo_import', "reads a file on the database server into the database"],
  ['lo_export', "writes a file on the database server"],
  ['pg_terminate_backend', "ends another session"],
  ['pg_cancel_backend', "cancels another session's query"],
  ['pg_reload_conf', "reloads the server's configuration"],
  ['pg_rotate_logfile', "rotates the server's log file"],
  ['pg_promote', "promotes a standby server"],
  ['pg_switch_wal', "forces a WAL switch"],
  ['pg_create_restore_point', "writes a WAL restore point"],
  ['pg_backup_start', "starts a base backup"],
  ['pg_backup_stop', "stops a base backup"],
  ['pg_start_backup', "starts a base backup"],
  ['pg_stop_backup', "stops a base backup"],
  ['pg_wal_replay_pause', "pauses WAL replay"],
  ['pg_wal_replay_resume', "resumes WAL replay"],
  ['pg_create_physical_replication_slot', "creates a replication slot"],
  ['pg_create_logical_replication_slot', "creates a replication slot"],
  ['pg_drop_replication_slot', "drops a replication slot"],
  ['pg_copy_physical_replication_slot', "creates a replication slot"],
  ['pg_copy_logical_replication_slot', "creates a replication slot"],
  ['pg_replication_slot_advance', "moves a replication slot"],
  ['pg_logical_slot_get_changes', "reads every change in the database from a replication slot"],
  ['pg_logical_slot_peek_changes', "reads every change in the database from a replication slot"],
  ['pg_logical_slot_get_binary_changes', "reads every change in the database from a replication slot"],
  ['pg_logical_slot_peek_binary_changes', "reads every change in the database from a replication slot"],
  ['pg_logical_emit_message', "writes into the WAL stream"],
  ['pg_log_backend_memory_contexts', "writes another session's memory to the server log"],
  ['pg_import_system_collations', "changes the catalog from the operating system's locales"],
]);

const DANGEROUS_PREFIXES: readonly (readonly [string, string])[] = [
  ['dblink', 'connects to another database server'],
  ['pg_ls_', "lists a directory on the database server"],
  ['pg_background_', 'runs SQL in a background worker, outside this session'],
  ['pg_replication_origin_', 'changes replication state'],
  ['binary_upgrade_', 'is meant for pg_upgrade only and bypasses catalog checks'],
];

/** Why calling `name` is dangerous, or null when it is not one of these functions. */
export function dangerousFunction(name: string): string | null {
  const reason = DANGEROUS.get(name);
  if (reason) return reason;
  for (const [prefix, why] of DANGEROUS_PREFIXES) if (name.startsWith(prefix)) return why;
  return null;
}

/**
 * Functions whose first argument is SQL text they run: the text is judged like a statement of its
 * own, and when it is not a constant the call is refused (the gateway cannot see what runs).
 */
export const SQL_TEXT_FUNCTIONS: ReadonlySet<string> = new Set([
  'query_to_xml',
  'query_to_xmlschema',
  'query_to_xml_and_xmlschema',
  'ts_stat',
]);

/** Settings that change who the session is, whichever way they are set. */
export const IDENTITY_SETTINGS: ReadonlySet<string> = new Set(['role', 'session_authorization']);
