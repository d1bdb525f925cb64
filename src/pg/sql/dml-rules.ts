import type { DeleteStmt, InsertStmt, MergeStmt, Node, RangeVar, UpdateStmt } from 'libpg-query';
import type { SqlRule } from './rules.ts';
import type { Judge } from './judge.ts';
import { qualifiedName } from './names.ts';
import { protectedTarget } from './protected-tables.ts';
import { readWhere, type WhereOutcome, type WhereReading } from './where-clause.ts';

/**
 * DELETE, UPDATE, INSERT … ON CONFLICT DO UPDATE and MERGE, wherever they appear (top level,
 * data-modifying CTEs, rule actions, function bodies, EXPLAIN ANALYZE): a write that reaches every
 * row is blocked, a write to a protected table is held.
 */

const WHERE_WORDS: Record<Exclude<WhereOutcome, 'selective' | 'never-true'>, string> = {
  absent: 'without a WHERE clause',
  'always-true': 'with a WHERE clause that is always true',
  'row-independent': 'with a WHERE clause that does not depend on the row',
  'unknown-parameter': 'with a WHERE clause that depends only on parameters not bound yet',
};

export function judgeDelete(judge: Judge, statement: DeleteStmt): void {
  const target = nameOf(statement.relation);
  const where = read(judge, statement.whereClause);
  if (reachesEveryRow(where)) judge.noteStatement('delete-without-where', `DELETE ${WHERE_WORDS[where.outcome]} would remove every row of ${target}`);
  judgeProtectedWrite(judge, statement.relation, 'DELETE');
}

export function judgeUpdate(judge: Judge, statement: UpdateStmt): void {
  const target = nameOf(statement.relation);
  const where = read(judge, statement.whereClause);
  if (reachesEveryRow(where)) judge.noteStatement('update-without-where', `UPDATE ${WHERE_WORDS[where.outcome]} would change every row of ${target}`);
  judgeProtectedWrite(judge, statement.relation, 'UPDATE');
}

/** A plain INSERT adds rows and is allowed; ON CONFLICT DO UPDATE changes existing ones. */
export function judgeInsert(judge: Judge, statement: InsertStmt): void {
  if (statement.onConflictClause?.action === 'ONCONFLICT_UPDATE') judgeProtectedWrite(judge, statement.relation, 'INSERT … ON CONFLICT DO UPDATE');
}

/**
 * MERGE changes the target's rows through its WHEN clauses. With a join condition that picks no
 * particular rows (`ON true`), WHEN MATCHED reaches every target row, and WHEN NOT MATCHED BY
 * SOURCE does whenever the condition fails — unless the clause's own condition depends on the row.
 */
export function judgeMerge(judge: Judge, statement: MergeStmt): void {
  judgeProtectedWrite(judge, statement.relation, 'MERGE');
  const join = read(judge, statement.joinCondition);
  if (join.outcome === 'selective') return;
  for (const item of statement.mergeWhenClauses ?? []) {
    if (!('MergeWhenClause' in item)) continue;
    const clause = item.MergeWhenClause;
    const deletes = clause.commandType === 'CMD_DELETE';
    if (!deletes && clause.commandType !== 'CMD_UPDATE') continue;
    const bySource = clause.matchKind === 'MERGE_WHEN_NOT_MATCHED_BY_SOURCE';
    if (!bySource && clause.matchKind !== 'MERGE_WHEN_MATCHED') continue;
    if (!bySource && join.outcome === 'never-true') continue; // nothing ever matches
    const condition = read(judge, clause.condition);
    if (condition.outcome === 'selective' || condition.outcome === 'never-true') continue;
    const rule: SqlRule = deletes ? 'delete-without-where' : 'update-without-where';
    const action = deletes ? 'DELETE' : 'UPDATE';
    const effect = deletes ? 'remove' : 'change';
    const when = bySource ? 'WHEN NOT MATCHED BY SOURCE' : 'WHEN MATCHED';
    judge.noteStatement(rule, `MERGE ${when} THEN ${action} with an ON condition that picks no particular rows would ${effect} every row of ${nameOf(statement.relation)}`);
  }
}

function read(judge: Judge, where: Node | undefined): WhereReading {
  const reading = readWhere(where, judge.whereEnvironment);
  if (reading.dependsOnConstants) judge.dependsOnConstants = true;
  if (reading.dependsOnParameters) judge.dependsOnParameters = true;
  return reading;
}

function reachesEveryRow(reading: WhereReading): reading is WhereReading & { outcome: keyof typeof WHERE_WORDS } {
  return reading.outcome !== 'selective' && reading.outcome !== 'never-true';
}

function judgeProtectedWrite(judge: Judge, relation: RangeVar | undefined, verb: string): void {
  if (!relation?.relname || judge.protectedTables.empty) return;
  const { viewBases } = judge.context;
  const lookUp = viewBases ? (name: string) => viewBases.call(judge.context, name) : undefined;
  const direct = judge.protectedTables.match(relation.schemaname, relation.relname);
  const hit = direct ?? protectedTarget(judge.protectedTables, relation.schemaname, relation.relname, lookUp);
  if (!hit) return;
  const through = direct ? '' : ` (through the view ${nameOf(relation)})`;
  judge.noteStatement('protected-table-write', `${verb} writes to the protected table ${hit}${through}`);
}

export function nameOf(relation: RangeVar | undefined): string {
  return relation?.relname ? qualifiedName(relation.schemaname, relation.relname) : 'the table';
}
