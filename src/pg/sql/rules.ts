/**
 * The statement guardrail rules. Their names are part of the policy API: `sql.block`, `sql.approve`
 * and `sql.allow` in rules/policy.yml move a rule to another verdict, and every judgement names the
 * rule that decided it. rules/policy.yml documents each one; keep the two in step.
 */

export type SqlVerdict = 'allow' | 'hold' | 'block';

export const SQL_RULES = {
  // Blocked by default.
  drop: 'block',
  truncate: 'block',
  'delete-without-where': 'block',
  'update-without-where': 'block',
  'alter-system': 'block',
  'copy-program': 'block',
  'copy-file': 'block',
  'superuser-role': 'block',
  'dangerous-function': 'block',
  'set-role': 'block',
  'create-extension': 'block',
  'do-block': 'block',
  'untrusted-language-function': 'block',
  'load-library': 'block',
  unparsable: 'block',
  'unknown-prepared-statement': 'block',
  'fastpath-function-call': 'block',
  // Held for a human by default.
  ddl: 'hold',
  grant: 'hold',
  'protected-table-write': 'hold',
  'vacuum-full': 'hold',
  cluster: 'hold',
  'lock-table': 'hold',
  'refresh-materialized-view': 'hold',
} as const satisfies Record<string, SqlVerdict>;

export type SqlRule = keyof typeof SQL_RULES;

export const SQL_RULE_NAMES = Object.keys(SQL_RULES) as [SqlRule, ...SqlRule[]];

/** A statement the gateway cannot read cannot be judged, so no policy may let it through. */
export const UNMOVABLE_RULE: SqlRule = 'unparsable';

const STRICTNESS: Record<SqlVerdict, number> = { allow: 0, hold: 1, block: 2 };

export function isStricter(candidate: SqlVerdict, than: SqlVerdict): boolean {
  return STRICTNESS[candidate] > STRICTNESS[than];
}

/** The rule lists a policy may set; SqlPolicy satisfies it (kept structural so this file imports nothing). */
export interface RuleMoves {
  readonly block: readonly SqlRule[];
  readonly approve: readonly SqlRule[];
  readonly allow: readonly SqlRule[];
}

/** The verdict a rule carries under a policy: its own list wins, else the built-in default. */
export function verdictForRule(policy: RuleMoves, rule: SqlRule): SqlVerdict {
  if (rule === UNMOVABLE_RULE) return 'block';
  if (policy.block.includes(rule)) return 'block';
  if (policy.approve.includes(rule)) return 'hold';
  if (policy.allow.includes(rule)) return 'allow';
  return SQL_RULES[rule];
}
