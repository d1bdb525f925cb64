import { describe, expect, it } from 'vitest';
import type { StoredApproval } from '../../../src/approvals/index.ts';
import { decidedOutcome, heldCheckOutput, HOLD_ACTIONS, pullBody, pullTitle, resolveGitHubAppSettings, roleMeets } from '../../../src/github/index.ts';
import { generateKeyPairSync } from 'node:crypto';

const approval: StoredApproval = {
  id: 'abc234defg',
  kind: 'git',
  sessionId: null,
  agent: 'coder',
  remote: 'github',
  owner: 'acme',
  repo: 'app',
  ref: 'refs/heads/main',
  heldRef: 'refs/heads/portcullis/held/abc234defg',
  oldOid: '1'.repeat(40),
  newOid: '2'.repeat(40),
  status: 'pending',
  reasons: ['held for approval: protected ref'],
  summary: { commits: ['2'.repeat(40)], changedPaths: ['src/a.txt', 'weird`name\n.md'], findings: 0 },
  createdAt: new Date('2026-01-01T00:00:00Z'),
  expiresAt: new Date('2026-01-08T00:00:00Z'),
};

describe('roleMeets', () => {
  it('ranks repository roles and falls back to the base permission for custom roles', () => {
    expect(roleMeets('write', 'write', 'write')).toBe(true);
    expect(roleMeets('maintain', 'write', 'write')).toBe(true);
    expect(roleMeets('triage', 'read', 'write')).toBe(false);
    expect(roleMeets('read', 'read', 'write')).toBe(false);
    expect(roleMeets('write', 'write', 'maintain')).toBe(false);
    expect(roleMeets('admin', 'admin', 'admin')).toBe(true);
    expect(roleMeets('release-managers', 'write', 'write')).toBe(true);
    expect(roleMeets('release-managers', 'write', 'maintain')).toBe(false);
    expect(roleMeets(undefined, undefined, 'write')).toBe(false);
  });
});

describe('hold messages', () => {
  it('keeps the check run actions within GitHub limits', () => {
    expect(HOLD_ACTIONS.length).toBeLessThanOrEqual(3);
    for (const action of HOLD_ACTIONS) {
      expect(action.label.length).toBeLessThanOrEqual(20);
      expect(action.description.length).toBeLessThanOrEqual(40);
      expect(action.identifier.length).toBeLessThanOrEqual(20);
    }
  });

  it('says who, what, which files and how to approve, without letting a path break out of code', () => {
    expect(pullTitle(approval)).toBe('portcullis: coder wants to push 1 commit to main (held abc234defg)');
    const body = pullBody(approval);
    for (const text of ['`coder`', '`src/a.txt`', '`weird?name?.md`', 'no secrets found', 'npx portcullis approvals approve abc234defg', '2'.repeat(40)]) expect(body).toContain(text);
    const output = heldCheckOutput(approval, [{ at: '2026-01-02T00:00:00Z', login: 'rui', via: 'check_run.requested_action (approve)', reason: 'has the read role' }]);
    expect(output.title).toBe('Waiting for approval (refused rui)');
    expect(output.summary).toContain('`rui` (check_run.requested_action (approve)): has the read role');
  });

  it('maps every decided state to a conclusion and a closing comment', () => {
    expect(decidedOutcome(approval)).toBeNull();
    expect(decidedOutcome({ ...approval, status: 'applied', decidedBy: 'github:mia' })).toMatchObject({ conclusion: 'success', output: { title: 'Approved by github:mia' } });
    expect(decidedOutcome({ ...approval, status: 'denied', decidedBy: 'olga', comment: 'no' })?.comment).toContain('rejected by `olga`');
    expect(decidedOutcome({ ...approval, status: 'expired' })).toMatchObject({ conclusion: 'failure', output: { title: 'Expired' } });
    expect(decidedOutcome({ ...approval, status: 'stale', staleReason: 'main moved' })?.output.summary).toContain('Not applied: main moved.');
  });
});

describe('github approver role setting', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const env = { APP_ID: '7', PRIVATE_KEY: privateKey, WEBHOOK_SECRET: 's' };
  it('defaults to write and takes GITHUB_APPROVER_ROLE', () => {
    expect(resolveGitHubAppSettings(undefined, env)?.approverRole).toBe('write');
    expect(resolveGitHubAppSettings(undefined, { ...env, GITHUB_APPROVER_ROLE: 'Maintain' })?.approverRole).toBe('maintain');
    expect(() => resolveGitHubAppSettings(undefined, { ...env, GITHUB_APPROVER_ROLE: 'triage' })).toThrow('GITHUB_APPROVER_ROLE must be one of write, maintain, admin, got "triage"');
  });
});
