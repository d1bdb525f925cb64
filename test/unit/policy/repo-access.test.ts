import { describe, expect, it } from 'vitest';
import { decideRepoAccess, matchesScope } from '../../../src/policy/index.ts';
import type { RepoAccess, RepoScopes } from '../../../src/policy/index.ts';

describe('matchesScope', () => {
  it.each([
    // exact
    ['github/acme/app', 'github/acme/app', true],
    ['github/acme/app', 'github/acme/application', false],
    ['github/acme/app', 'github/acme/ap', false],
    // `*` stays within one segment
    ['github/acme/*', 'github/acme/app', true],
    ['github/acme/*', 'github/acme/app/extra', false],
    ['github/*', 'github/acme/app', false],
    ['github/*/app', 'github/acme/app', true],
    ['github/*/app', 'github/acme/team/app', false],
    ['*/*/*', 'forge/x/y', true],
    ['*/*/*', 'forge/x', false],
    ['github/acme/app-*', 'github/acme/app-web', true],
    ['github/acme/app-*', 'github/acme/api-web', false],
    ['github/acme/*', 'github/other/app', false],
    ['github/acme/*', 'forge/acme/app', false],
    // `?` is one character, not a separator
    ['github/acme/ap?', 'github/acme/app', true],
    ['github/acme?app', 'github/acme/app', false],
    // matching ignores case, both ways
    ['github/acme/app', 'GitHub/ACME/App', true],
    ['GITHUB/Acme/*', 'github/acme/app', true],
    // dot-names are ordinary repository names
    ['github/acme/*', 'github/acme/.github', true],
    ['github/*/*', 'github/acme.io/site.io', true],
    // braces and extglobs are literal, not alternatives
    ['github/acme/{app,web}', 'github/acme/app', false],
    ['github/acme/+(app)', 'github/acme/app', false],
    // a pattern never matches a prefix or a suffix of the path
    ['acme/app', 'github/acme/app', false],
    ['github/acme', 'github/acme/app', false],
  ])('%s vs %s → %s', (pattern, repoPath, expected) => {
    expect(matchesScope(pattern, repoPath)).toBe(expected);
  });
});

describe('decideRepoAccess', () => {
  const none: RepoScopes = { read: [], write: [] };
  const cases: Array<{ what: string; scopes: RepoScopes; access: RepoAccess; repoPath?: string; verdict: 'allow' | 'block' }> = [
    { what: 'read scope allows read', scopes: { read: ['github/acme/*'], write: [] }, access: 'read', verdict: 'allow' },
    { what: 'read scope never allows write', scopes: { read: ['github/acme/*'], write: [] }, access: 'write', verdict: 'block' },
    { what: 'write scope allows write', scopes: { read: [], write: ['github/acme/app'] }, access: 'write', verdict: 'allow' },
    { what: 'write scope implies read', scopes: { read: [], write: ['github/acme/app'] }, access: 'read', verdict: 'allow' },
    { what: 'empty scopes refuse read', scopes: none, access: 'read', verdict: 'block' },
    { what: 'empty scopes refuse write', scopes: none, access: 'write', verdict: 'block' },
    { what: 'a scope for another repo refuses', scopes: { read: ['github/acme/web'], write: ['github/acme/web'] }, access: 'read', verdict: 'block' },
    { what: 'a scope on another remote refuses', scopes: { read: ['forge/acme/app'], write: [] }, access: 'read', verdict: 'block' },
    { what: 'case differences still allow', scopes: { read: [], write: ['github/ACME/App'] }, access: 'write', repoPath: 'github/acme/app', verdict: 'allow' },
    { what: 'a one-segment glob does not reach deeper', scopes: { read: ['github/*'], write: ['github/*'] }, access: 'read', verdict: 'block' },
  ];

  it.each(cases)('$what', ({ scopes, access, repoPath = 'github/acme/app', verdict }) => {
    const decision = decideRepoAccess({ agent: 'claude-ci', scopes, repoPath, access });
    expect(decision.verdict).toBe(verdict);
    expect(decision.rule).toBe(`scope.${access}`);
  });

  it('names the matching scope when it allows', () => {
    const decision = decideRepoAccess({
      agent: 'claude-ci',
      scopes: { read: ['github/other/*'], write: ['github/acme/*'] },
      repoPath: 'github/acme/app',
      access: 'read',
    });
    expect(decision).toEqual({ verdict: 'allow', rule: 'scope.read', reason: 'read scope github/acme/* matches github/acme/app' });
  });

  it.each(['read', 'write'] as const)('a %s refusal names the agent, the access and the repo, and suggests a flag', (access) => {
    const decision = decideRepoAccess({ agent: 'claude-ci', scopes: none, repoPath: 'github/acme/infra', access });
    expect(decision).toEqual({
      verdict: 'block',
      rule: `scope.${access}`,
      reason:
        `agent claude-ci has no ${access} scope for github/acme/infra; ` +
        `grant one with --${access} github/acme/infra (or a pattern such as github/acme/*)`,
    });
  });

  it('is the same answer however often it is asked (compiled patterns are reused)', () => {
    const facts = { agent: 'a', scopes: { read: ['github/acme/*'], write: [] }, repoPath: 'github/acme/app', access: 'read' as const };
    const first = decideRepoAccess(facts);
    for (let i = 0; i < 3; i++) expect(decideRepoAccess(facts)).toEqual(first);
    expect(decideRepoAccess({ ...facts, repoPath: 'github/other/app' }).verdict).toBe('block');
  });
});
