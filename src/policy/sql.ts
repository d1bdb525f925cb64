import { z } from 'zod';
import { describeIssues } from '../config/index.ts';
import { PortcullisError } from '../errors.ts';
import { canonicalTableName } from '../pg/sql/protected-tables.ts';
import { SQL_RULE_NAMES, UNMOVABLE_RULE, type SqlRule } from '../pg/sql/rules.ts';
import { defaultDuration, durationSchema } from './duration.ts';
import type { Policy } from './policy-file.ts';

/**
 * The `sql:` section of the policy: which statements agents may run through the PostgreSQL proxy
 * (rules, protected tables), how held statements wait, and how results are masked and recorded.
 * rules/policy.yml documents every key. The same keys, all optional, override it per database
 * (`databases[].policy` in portcullis.yml) and per agent (`agents.<name>.sql`).
 */

export const DEFAULT_MASK_COLUMNS: readonly string[] = ['*email*', '*password*', '*passwd*', '*ssn*', '*token*', '*secret*', '*api_key*', 'card_number'];
export const MASK_DETECTORS = ['email', 'card', 'ssn', 'jwt', 'password-hash', 'secret'] as const;
export const MASK_STYLES = ['redact', 'partial', 'hash'] as const;
export const HOLD_MODES = ['error', 'wait'] as const;
export const DEFAULT_SQL_HOLD_TIMEOUT = '5m';

const ruleName = z.enum(SQL_RULE_NAMES, {
  error: (issue) => `"${String(issue.input)}" is not a sql rule; the rules are: ${SQL_RULE_NAMES.join(', ')}`,
});
const ruleList = z.array(ruleName);

const protectedTable = z.string().refine((name) => canonicalTableName(name) !== null, {
  error: 'must be a table name, table or schema.table; "double quotes" keep a name\'s case, as in SQL',
});

const maskColumn = z
  .string()
  .min(1)
  .refine((glob) => glob.split('.').every((part) => part.length > 0) && glob.split('.').length <= 3, {
    error: 'must be a column glob: column, table.column or schema.table.column (e.g. *email*, users.phone)',
  });

const detectors = z.union([z.literal('all'), z.array(z.enum(MASK_DETECTORS))], {
  error: `must be "all" or a list of: ${MASK_DETECTORS.join(', ')}`,
});
const maskStyle = z.enum(MASK_STYLES);
const holdMode = z.enum(HOLD_MODES);
const maxRows = z.number().int().positive().nullable();
const recordRows = z.number().int().nonnegative();

type RuleLists = { block?: readonly SqlRule[]; approve?: readonly SqlRule[]; allow?: readonly SqlRule[] };
const LISTS = ['block', 'approve', 'allow'] as const;

/** A rule has one verdict per section, and `unparsable` has only one verdict at all. */
function checkRuleLists(value: RuleLists, ctx: z.core.$RefinementCtx<RuleLists>): void {
  const seen = new Map<SqlRule, string>();
  for (const list of LISTS) {
    (value[list] ?? []).forEach((rule, index) => {
      if (rule === UNMOVABLE_RULE && list !== 'block') {
        ctx.addIssue({ code: 'custom', path: [list, index], message: `"${rule}" is always blocked: a statement the gateway cannot read cannot be judged` });
      }
      const earlier = seen.get(rule);
      if (earlier !== undefined && earlier !== list) {
        ctx.addIssue({ code: 'custom', path: [list, index], message: `"${rule}" is also listed under ${earlier}: a rule has one verdict` });
      }
      if (earlier === undefined) seen.set(rule, list);
    });
  }
}

export const sqlPolicySchema = z
  .object({
    protectedTables: z.array(protectedTable).default([]),
    block: ruleList.default([]),
    approve: ruleList.default([]),
    allow: ruleList.default([]),
    mask: z
      .object({
        columns: z.array(maskColumn).default([...DEFAULT_MASK_COLUMNS]),
        detectors: detectors.default('all'),
        style: maskStyle.default('redact'),
      })
      .strict()
      .prefault({}),
    holdMode: holdMode.default('error'),
    holdTimeout: durationSchema.default(defaultDuration(DEFAULT_SQL_HOLD_TIMEOUT)),
    maxRows: maxRows.default(null),
    recordRows: recordRows.default(0),
  })
  .strict()
  .superRefine(checkRuleLists);

/** The same keys, all optional and without defaults: what a database or an agent may override. */
export const sqlPolicyOverrideSchema = z
  .object({
    protectedTables: z.array(protectedTable).optional(),
    block: ruleList.optional(),
    approve: ruleList.optional(),
    allow: ruleList.optional(),
    mask: z
      .object({ columns: z.array(maskColumn).optional(), detectors: detectors.optional(), style: maskStyle.optional() })
      .strict()
      .optional(),
    holdMode: holdMode.optional(),
    holdTimeout: durationSchema.optional(),
    maxRows: maxRows.optional(),
    recordRows: recordRows.optional(),
  })
  .strict()
  .superRefine(checkRuleLists);

export type SqlPolicy = z.infer<typeof sqlPolicySchema>;
export type SqlPolicyOverride = z.infer<typeof sqlPolicyOverrideSchema>;
export type SqlMaskPolicy = SqlPolicy['mask'];
export type MaskDetector = (typeof MASK_DETECTORS)[number];
export type MaskStyle = (typeof MASK_STYLES)[number];
export type HoldMode = (typeof HOLD_MODES)[number];

/**
 * Validates a per-database override (`databases[].policy` in portcullis.yml); `origin` names it in
 * errors, e.g. `portcullis.yml databases[0].policy`.
 */
export function parseSqlPolicyOverride(raw: unknown, origin: string): SqlPolicyOverride {
  const result = sqlPolicyOverrideSchema.safeParse(raw ?? {});
  if (!result.success) {
    throw new PortcullisError('POLICY_INVALID', `${origin} is not a valid sql policy override:\n${describeIssues(result.error.issues).join('\n')}`, {
      hint: 'it takes the keys of the sql: section documented in rules/policy.yml',
    });
  }
  return result.data;
}

/**
 * The SQL policy in force for one agent on one database: defaults < `sql:` < the database's
 * override < `agents.<name>.sql`. Objects merge key by key and lists replace lists, except that
 * a layer's word on a rule wins over earlier layers: naming `ddl` under `allow` also takes it off
 * an earlier `approve`. Build it once per session: the classifier caches per policy object.
 */
export function sqlPolicyFor(policy: Policy, agent: string, databaseOverride?: SqlPolicyOverride): SqlPolicy {
  // Object.hasOwn: an agent called "constructor" must not pick up Object.prototype's.
  const agentOverride = Object.hasOwn(policy.agents, agent) ? policy.agents[agent]!.sql : undefined;
  let merged = copyPolicy(policy.sql);
  for (const layer of [databaseOverride, agentOverride]) if (layer) merged = applyOverride(merged, layer);
  return merged;
}

// Fresh lists, so a caller that edits its copy cannot change the policy every agent shares.
function copyPolicy(base: SqlPolicy): SqlPolicy {
  return {
    ...base,
    protectedTables: [...base.protectedTables],
    block: [...base.block],
    approve: [...base.approve],
    allow: [...base.allow],
    mask: { ...base.mask, columns: [...base.mask.columns], detectors: base.mask.detectors === 'all' ? 'all' : [...base.mask.detectors] },
    holdTimeout: { ...base.holdTimeout },
  };
}

function applyOverride(base: SqlPolicy, layer: SqlPolicyOverride): SqlPolicy {
  const named = new Set<SqlRule>(LISTS.flatMap((list) => layer[list] ?? []));
  const ruleList = (list: (typeof LISTS)[number]): SqlRule[] => [...(layer[list] ?? base[list].filter((rule) => !named.has(rule)))];
  const detectorsList = layer.mask?.detectors ?? base.mask.detectors;
  return {
    protectedTables: [...(layer.protectedTables ?? base.protectedTables)],
    block: ruleList('block'),
    approve: ruleList('approve'),
    allow: ruleList('allow'),
    mask: {
      columns: [...(layer.mask?.columns ?? base.mask.columns)],
      detectors: detectorsList === 'all' ? 'all' : [...detectorsList],
      style: layer.mask?.style ?? base.mask.style,
    },
    holdMode: layer.holdMode ?? base.holdMode,
    holdTimeout: { ...(layer.holdTimeout ?? base.holdTimeout) },
    // `maxRows: null` in an override lifts the cap, so only a missing key inherits.
    maxRows: layer.maxRows !== undefined ? layer.maxRows : base.maxRows,
    recordRows: layer.recordRows ?? base.recordRows,
  };
}
