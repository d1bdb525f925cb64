import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../../../src/errors.ts';
import { SQL_RULE_NAMES } from '../../../src/pg/sql/index.ts';
import { parsePolicy, parseSqlPolicyOverride, sqlPolicyFor } from '../../../src/policy/index.ts';
import type { SqlPolicy } from '../../../src/policy/index.ts';

const SQL_DEFAULTS: SqlPolicy = {
  protectedTables: [],
  block: [],
  approve: [],
  allow: [],
  mask: {
    columns: ['*email*', '*password*', '*passwd*', '*ssn*', '*token*', '*secret*', '*api_key*', 'card_number'],
    detectors: 'all',
    style: 'redact',
  },
  holdMode: 'error',
  holdTimeout: { text: '5m', ms: 300_000 },
  maxRows: null,
  recordRows: 0,
};

function caught(fn: () => unknown): PortcullisError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PortcullisError);
    return error as PortcullisError;
  }
  throw new Error('expected a PortcullisError, nothing was thrown');
}

/** The problem line for `keyPath` in a refusal of `raw`. */
function problem(raw: unknown, keyPath: string): string {
  const error = caught(() => parsePolicy(raw, 'p.yml'));
  expect(error.code).toBe('POLICY_INVALID');
  const line = error.userMessage.split('\n').find((l) => l.startsWith(`  ${keyPath}: `));
  expect(line, error.userMessage).toBeDefined();
  return line!;
}

describe('sql: defaults', () => {
  it('fills every key, and approvals.window defaults to 15m', () => {
    const policy = parsePolicy({}, 'p.yml');
    expect(policy.sql).toEqual(SQL_DEFAULTS);
    expect(policy.approvals.window).toEqual({ text: '15m', ms: 900_000 });
  });

  it('gives an agent without an override the sql section as is', () => {
    expect(sqlPolicyFor(parsePolicy({}, 'p.yml'), 'anyone')).toEqual(SQL_DEFAULTS);
  });
});

describe('sql: valid values', () => {
  it('reads every key', () => {
    const policy = parsePolicy(
      {
        sql: {
          protectedTables: ['users', 'billing.invoices', '"Accounts"'],
          block: ['ddl'],
          approve: ['drop', 'truncate'],
          allow: ['fastpath-function-call'],
          mask: { columns: ['users.phone', 'crm.contacts.*'], detectors: ['email', 'card'], style: 'hash' },
          holdMode: 'wait',
          holdTimeout: '2h',
          maxRows: 1000,
          recordRows: 5,
        },
        approvals: { window: '1h' },
      },
      'p.yml',
    );
    expect(policy.sql).toEqual({
      protectedTables: ['users', 'billing.invoices', '"Accounts"'],
      block: ['ddl'],
      approve: ['drop', 'truncate'],
      allow: ['fastpath-function-call'],
      mask: { columns: ['users.phone', 'crm.contacts.*'], detectors: ['email', 'card'], style: 'hash' },
      holdMode: 'wait',
      holdTimeout: { text: '2h', ms: 7_200_000 },
      maxRows: 1000,
      recordRows: 5,
    });
    expect(policy.approvals.window).toEqual({ text: '1h', ms: 3_600_000 });
  });

  it('accepts every rule name under block, and unparsable there', () => {
    expect(parsePolicy({ sql: { block: [...SQL_RULE_NAMES] } }, 'p.yml').sql.block).toEqual(SQL_RULE_NAMES);
  });

  it('keeps unspecified mask keys when one is given', () => {
    expect(parsePolicy({ sql: { mask: { style: 'partial' } } }, 'p.yml').sql.mask).toEqual({ ...SQL_DEFAULTS.mask, style: 'partial' });
  });
});

describe('sql: invalid values name the key path', () => {
  it('lists the known rules when a rule name is wrong', () => {
    const line = problem({ sql: { block: ['drop-table'] } }, 'sql.block[0]');
    expect(line).toContain('"drop-table" is not a sql rule; the rules are: drop, truncate, delete-without-where');
    for (const rule of SQL_RULE_NAMES) expect(line).toContain(rule);
  });

  it.each([
    [{ sql: { approve: ['nope'] } }, 'sql.approve[0]', 'is not a sql rule'],
    [{ sql: { allow: ['unparsable'] } }, 'sql.allow[0]', 'always blocked'],
    [{ sql: { approve: ['unparsable'] } }, 'sql.approve[0]', 'always blocked'],
    [{ sql: { block: ['ddl'], allow: ['ddl'] } }, 'sql.allow[0]', 'also listed under block'],
    [{ sql: { protectedTables: ['a.b.c'] } }, 'sql.protectedTables[0]', 'must be a table name'],
    [{ sql: { protectedTables: ['"unterminated'] } }, 'sql.protectedTables[0]', 'must be a table name'],
    [{ sql: { protectedTables: ['two words'] } }, 'sql.protectedTables[0]', 'must be a table name'],
    [{ sql: { mask: { columns: ['users..email'] } } }, 'sql.mask.columns[0]', 'must be a column glob'],
    [{ sql: { mask: { columns: ['a.b.c.d'] } } }, 'sql.mask.columns[0]', 'must be a column glob'],
    [{ sql: { mask: { detectors: ['email', 'iban'] } } }, 'sql.mask.detectors', 'must be "all" or a list of: email, card, ssn, jwt, password-hash, secret'],
    [{ sql: { mask: { detectors: 'some' } } }, 'sql.mask.detectors', 'must be "all"'],
    [{ sql: { mask: { style: 'blur' } } }, 'sql.mask.style', 'expected one of'],
    [{ sql: { mask: { colums: [] } } }, 'sql.mask', 'unknown key(s) "colums"'],
    [{ sql: { holdMode: 'later' } }, 'sql.holdMode', 'expected one of'],
    [{ sql: { holdTimeout: '5' } }, 'sql.holdTimeout', 'a number and a unit'],
    [{ sql: { holdTimeout: '0m' } }, 'sql.holdTimeout', 'longer than zero'],
    [{ sql: { maxRows: 0 } }, 'sql.maxRows', ''],
    [{ sql: { maxRows: 1.5 } }, 'sql.maxRows', ''],
    [{ sql: { recordRows: -1 } }, 'sql.recordRows', ''],
    [{ sql: { protected: [] } }, 'sql', 'unknown key(s) "protected"'],
    [{ approvals: { window: '15' } }, 'approvals.window', 'a number and a unit'],
    [{ agents: { bot: { sql: { allow: ['everything'] } } } }, 'agents.bot.sql.allow[0]', 'is not a sql rule'],
    [{ agents: { bot: { sql: { holdMode: 'sometimes' } } } }, 'agents.bot.sql.holdMode', 'expected one of'],
    [{ agents: { bot: { sql: { bogus: 1 } } } }, 'agents.bot.sql', 'unknown key(s) "bogus"'],
  ])('%j → %s', (raw, keyPath, fragment) => {
    expect(problem(raw, keyPath)).toContain(fragment);
  });
});

describe('sqlPolicyFor: defaults < sql < database < agent', () => {
  const policy = parsePolicy(
    {
      sql: { protectedTables: ['users'], approve: ['truncate'], maxRows: 500, mask: { style: 'partial' } },
      agents: {
        'report-bot': { sql: { maxRows: null, mask: { detectors: ['email'] } } },
        'migrations-bot': { sql: { allow: ['ddl', 'truncate'], holdMode: 'wait' } },
        'strict-bot': { sql: { protectedTables: [], block: ['truncate'] } },
        'no-sql': { git: {} },
        constructor: { sql: { recordRows: 3 } },
      },
    },
    'p.yml',
  );
  const database = parseSqlPolicyOverride({ protectedTables: ['orders'], approve: ['ddl'], holdTimeout: '1h' }, 'portcullis.yml databases[0].policy');

  it('takes the sql section for an agent without an override', () => {
    expect(sqlPolicyFor(policy, 'someone')).toEqual(policy.sql);
    expect(sqlPolicyFor(policy, 'no-sql')).toEqual(policy.sql);
    expect(sqlPolicyFor(policy, 'toString')).toEqual(policy.sql);
    expect(sqlPolicyFor(policy, 'constructor').recordRows).toBe(3);
  });

  it('merges objects key by key and lets null lift the row cap', () => {
    expect(sqlPolicyFor(policy, 'report-bot')).toEqual({
      ...policy.sql,
      maxRows: null,
      mask: { ...policy.sql.mask, style: 'partial', detectors: ['email'] },
    });
  });

  it('replaces lists, and a later layer’s word on a rule wins over earlier lists', () => {
    const merged = sqlPolicyFor(policy, 'migrations-bot');
    expect(merged).toMatchObject({ allow: ['ddl', 'truncate'], approve: [], holdMode: 'wait' });
    expect(sqlPolicyFor(policy, 'strict-bot')).toMatchObject({ protectedTables: [], block: ['truncate'], approve: [] });
  });

  it('puts the database override between the sql section and the agent', () => {
    expect(sqlPolicyFor(policy, 'someone', database)).toEqual({
      ...policy.sql,
      protectedTables: ['orders'],
      approve: ['ddl'],
      holdTimeout: { text: '1h', ms: 3_600_000 },
    });
    expect(sqlPolicyFor(policy, 'migrations-bot', database)).toMatchObject({
      protectedTables: ['orders'],
      approve: [],
      allow: ['ddl', 'truncate'],
      holdTimeout: { text: '1h', ms: 3_600_000 },
      holdMode: 'wait',
    });
  });

  it('does not mutate the policy', () => {
    const before = structuredClone(policy);
    const merged = sqlPolicyFor(policy, 'report-bot', database);
    merged.protectedTables.push('x');
    merged.mask.columns.push('x');
    merged.block.push('drop');
    expect(policy).toEqual(before);
  });
});

describe('parseSqlPolicyOverride', () => {
  it('reads an override with every key optional', () => {
    expect(parseSqlPolicyOverride({}, 'db')).toEqual({});
    expect(parseSqlPolicyOverride(undefined, 'db')).toEqual({});
    expect(parseSqlPolicyOverride({ maxRows: null, mask: { style: 'hash' } }, 'db')).toEqual({ maxRows: null, mask: { style: 'hash' } });
  });

  it('names the origin and the key path', () => {
    const error = caught(() => parseSqlPolicyOverride({ approve: ['dropp'] }, 'portcullis.yml databases[1].policy'));
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.userMessage).toMatch(/^portcullis\.yml databases\[1\]\.policy is not a valid sql policy override:\n {2}approve\[0\]: "dropp" is not a sql rule/);
  });
});
