import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { describeIssues } from '../config/index.ts';
import { PortcullisError } from '../errors.ts';
import { defaultDuration, durationSchema } from './duration.ts';
import { sqlPolicyOverrideSchema, sqlPolicySchema } from './sql.ts';

/**
 * The policy file (`rules/policy.yml`, or portcullis.yml's `policy:` key): the push guardrails, the
 * statement guardrails (`sql:`, schema in sql.ts), the approval lifetimes and per-agent overrides.
 * rules/policy.yml ships the defaults below and documents every key. Loading is the only I/O
 * here; deciding (push.ts, src/pg/sql) stays pure.
 */

export const DEFAULT_PROTECTED_REFS: readonly string[] = ['refs/heads/main', 'refs/heads/master', 'refs/heads/release/*'];
export const DEFAULT_APPROVAL_PATHS: readonly string[] = ['.github/workflows/**'];
export const DEFAULT_APPROVAL_TTL = '7d';
export const DEFAULT_APPROVAL_WINDOW = '15m';

/** Same charset as `portcullis agent add` names (src/identity/agents.ts), so a typo'd key is caught. */
const AGENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/;

const refGlob = z
  .string()
  .min(1)
  .refine((glob) => glob.startsWith('refs/'), {
    error: 'must be a full ref glob such as refs/heads/main or refs/heads/release/* (globs match whole refs)',
  });

const pathGlob = z
  .string()
  .min(1)
  .refine((glob) => !glob.startsWith('/'), {
    error: 'path globs are relative to the repository root: drop the leading "/"',
  });

const forbidMode = z.enum(['protected', 'all', 'none']);
const secretAction = z.enum(['block', 'hold']);

/** sha256 of the secret as 64 hex digits; an optional `sha256:` prefix is accepted and dropped. */
const fingerprint = z
  .string()
  .regex(/^(sha256:)?[0-9a-fA-F]{64}$/, 'must be a sha256 fingerprint (64 hex digits) as printed by portcullis scan')
  .transform((value) => value.replace(/^sha256:/, '').toLowerCase());

const gitSchema = z
  .object({
    protected: z.array(refGlob).default([...DEFAULT_PROTECTED_REFS]),
    approvalPaths: z.array(pathGlob).default([...DEFAULT_APPROVAL_PATHS]),
    forbidForcePush: forbidMode.default('protected'),
    forbidDelete: forbidMode.default('protected'),
    secrets: z
      .object({ action: secretAction.default('block'), allow: z.array(fingerprint).default([]) })
      .strict()
      .prefault({}),
  })
  .strict();

/** The same keys, all optional and without defaults: what an agent's override may say. */
const gitOverrideSchema = z
  .object({
    protected: z.array(refGlob).optional(),
    approvalPaths: z.array(pathGlob).optional(),
    forbidForcePush: forbidMode.optional(),
    forbidDelete: forbidMode.optional(),
    secrets: z.object({ action: secretAction.optional(), allow: z.array(fingerprint).optional() }).strict().optional(),
  })
  .strict();

export const policySchema = z
  .object({
    git: gitSchema.prefault({}),
    sql: sqlPolicySchema.prefault({}),
    approvals: z
      .object({
        ttl: durationSchema.default(defaultDuration(DEFAULT_APPROVAL_TTL)),
        window: durationSchema.default(defaultDuration(DEFAULT_APPROVAL_WINDOW)),
      })
      .strict()
      .prefault({}),
    agents: z
      .record(
        z.string().regex(AGENT_NAME, 'agent names are letters, digits, ".", "_", "@" or "-" (as in portcullis agent add)'),
        z.object({ git: gitOverrideSchema.prefault({}), sql: sqlPolicyOverrideSchema.prefault({}) }).strict(),
      )
      .default({}),
  })
  .strict();

export type Policy = z.infer<typeof policySchema>;
export type GitPolicy = z.infer<typeof gitSchema>;
export type GitPolicyOverride = z.infer<typeof gitOverrideSchema>;
export type ForbidMode = z.infer<typeof forbidMode>;

export interface LoadedPolicy {
  policy: Policy;
  /** Absolute path of the file read, or null when the file does not exist and built-in defaults apply. */
  source: string | null;
}

/** Reads and validates a policy file; a missing file means the built-in defaults (`source: null`). */
export async function loadPolicy(file: string): Promise<LoadedPolicy> {
  const absolute = path.resolve(file);
  if (!existsSync(absolute)) return { policy: parsePolicy({}, '(built-in policy defaults)'), source: null };
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    throw new PortcullisError('POLICY_INVALID', `${absolute}: cannot read the policy file`, {
      hint: 'check its permissions, or remove it to run on the built-in defaults',
      cause: error,
    });
  }
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    throw new PortcullisError('POLICY_INVALID', `${absolute}: not valid YAML: ${first.message}`);
  }
  const raw: unknown = document.toJS() ?? {};
  return { policy: parsePolicy(raw, absolute), source: absolute };
}

/** Validates a policy object; `origin` names the file in errors, each issue with its key path. */
export function parsePolicy(raw: unknown, origin: string): Policy {
  const result = policySchema.safeParse(raw);
  if (!result.success) {
    const lines = describeIssues(result.error.issues);
    throw new PortcullisError('POLICY_INVALID', `${origin} is not a valid portcullis policy:\n${lines.join('\n')}`, {
      hint: 'every key is documented in the rules/policy.yml that ships with portcullis',
    });
  }
  return result.data;
}

/**
 * The git policy in force for one agent: its `agents.<name>.git` override deep-merged over `git`.
 * Objects merge key by key; a list in the override replaces the list, so an agent can be given
 * fewer protected refs as well as more.
 */
export function policyFor(policy: Policy, agent: string): GitPolicy {
  // Object.hasOwn: an agent called "constructor" must not pick up Object.prototype's.
  const override = Object.hasOwn(policy.agents, agent) ? policy.agents[agent]!.git : {};
  const base = policy.git;
  // Fresh lists, so a caller that edits its copy cannot change the policy every agent shares.
  return {
    protected: [...(override.protected ?? base.protected)],
    approvalPaths: [...(override.approvalPaths ?? base.approvalPaths)],
    forbidForcePush: override.forbidForcePush ?? base.forbidForcePush,
    forbidDelete: override.forbidDelete ?? base.forbidDelete,
    secrets: {
      action: override.secrets?.action ?? base.secrets.action,
      allow: [...(override.secrets?.allow ?? base.secrets.allow)],
    },
  };
}
