export type { Decision } from './decision.ts';
export { decideRepoAccess, matchesScope, type RepoAccess, type RepoAccessFacts, type RepoScopes } from './repo-access.ts';
export {
  DEFAULT_APPROVAL_PATHS,
  DEFAULT_APPROVAL_TTL,
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
