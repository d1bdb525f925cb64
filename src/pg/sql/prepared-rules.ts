import type { DeallocateStmt, ExecuteStmt, PrepareStmt } from 'libpg-query';
import type { Judge } from './judge.ts';
import { literalText } from './literal-text.ts';

/**
 * PREPARE stores a statement without running it: the PREPARE itself is allowed and the stored
 * judgement is what EXECUTE gets. Inside SQL text (a function body) a PREPARE is not tracked, so
 * an EXECUTE of it is refused as unknown rather than guessed.
 */
export function judgePrepare(judge: Judge, statement: PrepareStmt): void {
  if (judge.embedding > 0 || !statement.query) return;
  const judgement = judge.judgeAlone(statement.query);
  // A cached judgement carries its prepares, so the stored verdict's dependencies are its own.
  if (judgement.dependsOnConstants) judge.dependsOnConstants = true;
  judge.prepared.delete(statement.name ?? '');
  judge.prepared.set(statement.name ?? '', judgement);
}

export function judgeExecute(judge: Judge, statement: ExecuteStmt): void {
  const name = statement.name ?? '';
  // What EXECUTE runs depends on the session's prepared statements, not on the text.
  judge.dependsOnConstants = true;
  const prepared = judge.lookUpPrepared(name);
  if (!prepared) {
    judge.noteStatement('unknown-prepared-statement', `EXECUTE ${name}: no statement of that name was prepared in this session, so what it would run is unknown`);
    return;
  }
  let judgement = prepared;
  if (prepared.dependsOnParameters && prepared.withParameters) {
    const values = (statement.params ?? []).map((param) => {
      const text = literalText(judge, param);
      return typeof text === 'symbol' ? undefined : text;
    });
    judgement = prepared.withParameters((index) => values[index - 1]);
  }
  judge.addRelations(judgement.relations);
  if (judge.executing) judge.adopt(judgement.verdict, judgement.rule, `EXECUTE ${name}: ${judgement.reason}`);
}

export function judgeDeallocate(judge: Judge, statement: DeallocateStmt): void {
  judge.deallocate(statement.isall ? null : (statement.name ?? ''));
}
