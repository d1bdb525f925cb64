import type { SqlJudgement } from './judgement.ts';

/**
 * A session's prepared statements, by name, with the judgement EXECUTE gets. PostgreSQL keeps SQL
 * PREPARE and protocol-level named statements (Parse) in one namespace, so both go here.
 */
export interface PreparedStatements {
  get(name: string): SqlJudgement | undefined;
  set(name: string, judgement: SqlJudgement): void;
  delete(name: string): void;
  clear(): void;
  /** After a query string has run: its DEALLOCATEs (or DISCARD ALL) first, then its PREPAREs. */
  apply(judgement: SqlJudgement): void;
  readonly size: number;
}

export function createPreparedStatements(): PreparedStatements {
  const statements = new Map<string, SqlJudgement>();
  return {
    get: (name) => statements.get(name),
    set: (name, judgement) => void statements.set(name, judgement),
    delete: (name) => void statements.delete(name),
    clear: () => statements.clear(),
    apply(judgement) {
      if (judgement.deallocates === 'all') statements.clear();
      else for (const name of judgement.deallocates) statements.delete(name);
      for (const { name, judgement: prepared } of judgement.prepares) statements.set(name, prepared);
    },
    get size() {
      return statements.size;
    },
  };
}
