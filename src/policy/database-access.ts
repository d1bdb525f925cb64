import picomatch from 'picomatch';

/** Database names (from portcullis.yml's `databases`) an agent may reach, as globs. */
export interface DatabaseScopes {
  /** May read and change. */
  readWrite: readonly string[];
  /** May only read: the gateway forces `default_transaction_read_only` upstream. */
  readOnly: readonly string[];
}

export type DatabaseAccess = { allowed: true; readOnly: boolean; scope: string } | { allowed: false; reason: string };

/** A read-write scope wins over a read-only one, as a write repo scope implies read. Names are case-sensitive, as PostgreSQL's are. */
export function decideDatabaseAccess(agent: string, scopes: DatabaseScopes, database: string): DatabaseAccess {
  const readWrite = scopes.readWrite.find((pattern) => picomatch.isMatch(database, pattern, { dot: true }));
  if (readWrite !== undefined) return { allowed: true, readOnly: false, scope: readWrite };
  const readOnly = scopes.readOnly.find((pattern) => picomatch.isMatch(database, pattern, { dot: true }));
  if (readOnly !== undefined) return { allowed: true, readOnly: true, scope: readOnly };
  return { allowed: false, reason: `agent ${agent} has no scope for database ${database}` };
}
