export type { Decision } from './decision.ts';
export { decideRepoAccess, matchesScope, type RepoAccess, type RepoAccessFacts, type RepoScopes } from './repo-access.ts';
export { decideDatabaseAccess, type DatabaseAccess, type DatabaseScopes } from './database-access.ts';
export {
  DEFAULT_APPROVAL_PATHS,
  DEFAULT_APPROVAL_TTL,
  DEFAULT_APPROVAL_WINDOW,
  DEFAULT_PROTECTED_REFS,
  loadPolicy,
  parsePolicy,
  policyFor,
  policySchema,
  type ForbidMode,
  type GitPolicy,
  type GitPolicyOverride,
  type LoadedPolicy,
  type Policy,
} from './policy-file.ts';
export {
  ATOMIC_REFUSAL,
  decidePush,
  decideRefUpdate,
  type GrantFact,
  type PushRule,
  type RefDecision,
  type RefUpdateFacts,
  type SecretFact,
} from './push.ts';
export {
  DEFAULT_MASK_COLUMNS,
  DEFAULT_SQL_HOLD_TIMEOUT,
  HOLD_MODES,
  MASK_DETECTORS,
  MASK_STYLES,
  parseSqlPolicyOverride,
  sqlPolicyFor,
  sqlPolicyOverrideSchema,
  sqlPolicySchema,
  type HoldMode,
  type MaskDetector,
  type MaskStyle,
  type SqlMaskPolicy,
  type SqlPolicy,
  type SqlPolicyOverride,
} from './sql.ts';
export type { Duration } from './duration.ts';
