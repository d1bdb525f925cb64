export type { Decision } from './decision.ts';
export { decideRepoAccess, matchesScope, type RepoAccess, type RepoAccessFacts, type RepoScopes } from './repo-access.ts';
