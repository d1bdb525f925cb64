import picomatch from 'picomatch';
import type { Decision } from './decision.ts';

export type RepoAccess = 'read' | 'write';

export interface RepoScopes {
  read: readonly string[];
  write: readonly string[];
}

export interface RepoAccessFacts {
  agent: string;
  scopes: RepoScopes;
  /** `remote/owner/repo`, without `.git`. */
  repoPath: string;
  access: RepoAccess;
}

/**
 * Scope patterns are globs over `remote/owner/repo` (`*` stays inside one segment). A write scope
 * implies read: pushing needs the ref advertisement, and an agent that may push may see what it pushed.
 * Matching ignores case because forges (GitHub first) treat owner and repo names case-insensitively.
 */
export function decideRepoAccess(facts: RepoAccessFacts): Decision {
  const { agent, scopes, repoPath, access } = facts;
  const patterns = access === 'write' ? scopes.write : [...scopes.read, ...scopes.write];
  const matched = patterns.find((pattern) => matchesScope(pattern, repoPath));
  if (matched !== undefined) {
    return { verdict: 'allow', rule: `scope.${access}`, reason: `${access} scope ${matched} matches ${repoPath}` };
  }
  return {
    verdict: 'block',
    rule: `scope.${access}`,
    reason: `agent ${agent} has no ${access} scope for ${repoPath}; grant one with --${access} ${repoPath} (or a pattern such as ${wildcardFor(repoPath)})`,
  };
}

export function matchesScope(pattern: string, repoPath: string): boolean {
  return matcherFor(pattern)(repoPath);
}

/** Compiled globs; OIDC templates make patterns per repository, so the memo is bounded. */
const matchers = new Map<string, (path: string) => boolean>();
const MAX_MATCHERS = 5_000;

function matcherFor(pattern: string): (path: string) => boolean {
  let matcher = matchers.get(pattern);
  if (!matcher) {
    if (matchers.size >= MAX_MATCHERS) matchers.clear();
    matcher = picomatch(pattern, { nocase: true, dot: true, nobrace: true, noextglob: true });
    matchers.set(pattern, matcher);
  }
  return matcher;
}

function wildcardFor(repoPath: string): string {
  return repoPath.split('/').slice(0, 2).join('/') + '/*';
}
