import { assignmentRules } from './assignments.ts';
import { cliFlagRules } from './cli-flags.ts';
import { githubRules } from './github.ts';
import { providerTokenRules } from './provider-tokens.ts';
import { urlCredentialRules } from './url-credentials.ts';
import type { PatternRule } from './rule.ts';

export { findPrivateKeys, PRIVATE_KEY_RULE_ID, stripBodyDecorations } from './private-key.ts';
export { hasValidGitHubChecksum } from './github.ts';
export { isRealUrlPassword } from './url-credentials.ts';
export { PRIORITY } from './rule.ts';
export type { MatchContext, PatternRule } from './rule.ts';

/** Every keyword-anchored rule, most specific first. */
export const patternRules: readonly PatternRule[] = [
  ...githubRules,
  ...providerTokenRules,
  ...urlCredentialRules,
  ...cliFlagRules,
  ...assignmentRules,
];

/** Rule ids that are ours (the private-key block detector included), for tests and documentation. */
export function listRuleIds(): string[] {
  return [...new Set([...patternRules.map((rule) => rule.id), 'private-key'])];
}
