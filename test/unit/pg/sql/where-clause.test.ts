import { beforeAll, describe, expect, it } from 'vitest';
import type { Node } from 'libpg-query';
import { loadSqlParser, parseSql } from '../../../../src/pg/sql/index.ts';
import { readWhere, type WhereEnvironment } from '../../../../src/pg/sql/where-clause.ts';

beforeAll(async () => {
  await loadSqlParser();
});

function whereOf(condition: string): Node {
  const parsed = parseSql(`DELETE FROM t WHERE ${condition}`);
  if (!parsed.ok) throw new Error(parsed.message);
  const statement = parsed.tree.stmts![0]!.stmt!;
  if (!('DeleteStmt' in statement)) throw new Error('not a DELETE');
  return statement.DeleteStmt.whereClause!;
}

const bind = (values: (string | null)[] = []): WhereEnvironment => ({ parameterText: (i) => values[i - 1], bindParameters: true });

describe('readWhere', () => {
  it.each([
    ['id = 1', 'selective'],
    ['id = 1 AND true', 'selective'],
    ['id = 1 OR false', 'selective'],
    ['id IS NULL', 'selective'],
    ['lower(email) = $1', 'selective'],
    ['true', 'always-true'],
    ['NOT NOT true', 'always-true'],
    ['1 <> 2', 'always-true'],
    ["'1' = 1", 'always-true'],
    ["'abc'::text = 'abc'", 'always-true'],
    ['1 IN (2, 1)', 'always-true'],
    ['1 NOT IN (2, 3)', 'always-true'],
    ['NULL IS NOT DISTINCT FROM NULL', 'always-true'],
    ['1 IS DISTINCT FROM 2', 'always-true'],
    ['false IS NOT TRUE', 'always-true'],
    ['1.5 > 1', 'always-true'],
    ['false', 'never-true'],
    ['NULL', 'never-true'],
    ['1 = 2 AND id = 5', 'selective'], // safe either way: the row decides when 1 = 2 does not
    ['NOT true', 'never-true'],
    ["'b' > 'a'", 'row-independent'],
    ['random() < 2', 'row-independent'],
    ['1 + 1 = 2', 'row-independent'],
    ['id = 1 OR now() IS NOT NULL', 'row-independent'],
  ] as const)('WHERE %s → %s', (condition, outcome) => {
    expect(readWhere(whereOf(condition), bind()).outcome).toBe(outcome);
  });

  it('reads parameters as the server reads untyped literals', () => {
    expect(readWhere(whereOf('$1'), bind(['TRUE'])).outcome).toBe('always-true');
    expect(readWhere(whereOf('$1'), bind(['y'])).outcome).toBe('always-true');
    expect(readWhere(whereOf('$1'), bind(['o'])).outcome).toBe('row-independent'); // ambiguous: on or off
    expect(readWhere(whereOf('$1'), bind(['off'])).outcome).toBe('never-true');
    expect(readWhere(whereOf('$1 = 5'), bind(['5'])).outcome).toBe('always-true');
    expect(readWhere(whereOf('$1'), bind()).outcome).toBe('unknown-parameter');
    expect(readWhere(whereOf('$1'), { parameterText: undefined, bindParameters: false }).outcome).toBe('row-independent');
  });

  it('flags constants and parameters only when they can change the outcome', () => {
    expect(readWhere(whereOf('id = 5'), bind())).toEqual({ outcome: 'selective', dependsOnConstants: false, dependsOnParameters: false });
    expect(readWhere(whereOf('id = $1'), bind())).toEqual({ outcome: 'selective', dependsOnConstants: false, dependsOnParameters: false });
    expect(readWhere(whereOf('id = 5 OR 1 = 2'), bind())).toEqual({ outcome: 'selective', dependsOnConstants: true, dependsOnParameters: false });
    expect(readWhere(whereOf('$1 OR id = other_id'), bind(['f']))).toEqual({ outcome: 'selective', dependsOnConstants: false, dependsOnParameters: true });
    expect(readWhere(undefined, bind())).toEqual({ outcome: 'absent', dependsOnConstants: false, dependsOnParameters: false });
  });
});
