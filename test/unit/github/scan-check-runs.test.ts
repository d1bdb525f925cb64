import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { StoredApproval } from '../../../src/approvals/index.ts';
import { forwardedPush, type ForwardedPush, type PushFinding } from '../../../src/git/push-events.ts';
import type { RepoClient, RepoClients } from '../../../src/github/repo-clients.ts';
import { createScanCheckRuns, MAX_ANNOTATIONS, scanCheckOutput, SCAN_CHECK_NAME } from '../../../src/github/scan-check-runs.ts';

const SHA = 'a'.repeat(40);
const COMMIT = 'c'.repeat(40);
const finding = (i: number): PushFinding => ({ ruleId: 'aws-access-key', path: `config/key-${i}.txt`, line: i + 1, commit: COMMIT, preview: 'AKIA…[redacted 16 chars]' });

function push(over: Partial<ForwardedPush> = {}): ForwardedPush {
  return {
    agent: 'coder',
    sessionId: 's1',
    remote: 'github',
    owner: 'acme',
    repo: 'app',
    refs: [{ ref: 'refs/heads/feature', sentAs: 'refs/heads/feature', newOid: SHA, approvalId: null, commits: [COMMIT] }],
    scan: { commits: 1, scannedBytes: 1234, skipped: [], skippedCount: 0 },
    findings: [],
    allowedFindings: [],
    allowedCount: 0,
    ...over,
  };
}

interface Call {
  op: 'create' | 'update';
  params: Record<string, any>;
}

function fakeClients(calls: Call[], fail?: 'create' | 'update'): RepoClients {
  const answer = (op: Call['op']) => async (params: Record<string, any>) => {
    calls.push({ op, params });
    if (fail === op) throw Object.assign(new Error('boom'), { status: 502 });
    return { data: { id: 77 } };
  };
  const octokit = { rest: { checks: { create: answer('create'), update: answer('update') } } } as unknown as RepoClient;
  return { forRepo: async () => octokit, forgetInstallation: () => undefined, request: () => ({ signal: new AbortController().signal }) };
}

const log = pino({ level: 'silent' });
const api = { findRepoInstallation: async () => 42 };

describe('scanCheckOutput', () => {
  it('summarises a clean scan as success', () => {
    const output = scanCheckOutput(push(), push().refs);
    expect(output).toMatchObject({ conclusion: 'success', title: 'No secrets found', annotations: [] });
    expect(output.summary).toContain('Commits scanned: **1**');
    expect(output.summary).toContain('**1234** bytes');
    expect(output.summary).toContain('Findings let through: **0**');
  });

  it('lists skipped files and is neutral then', () => {
    const p = push({ scan: { commits: 1, scannedBytes: 10, skipped: [{ commit: COMMIT, path: 'img/logo`.png', reason: 'binary' }], skippedCount: 1 } });
    const output = scanCheckOutput(p, p.refs);
    expect(output.conclusion).toBe('neutral');
    expect(output.title).toBe('No secrets found; 1 file(s) not scanned');
    expect(output.summary).toContain('`img/logo?.png`');
    expect(output.summary).toContain('binary');
  });

  it('annotates allowed findings with path, line and the redacted preview only', () => {
    const p = push({ allowedFindings: [finding(0), { ...finding(1), commit: 'd'.repeat(40) }], allowedCount: 2 });
    const output = scanCheckOutput(p, p.refs);
    // Only the findings in this sha's commits.
    expect(output.annotations).toEqual([
      { path: 'config/key-0.txt', start_line: 1, end_line: 1, annotation_level: 'notice', title: 'aws-access-key (allowed by fingerprint in the policy)', message: expect.stringContaining('AKIA…[redacted 16 chars]') },
    ]);
    expect(output.conclusion).toBe('success');
    expect(output.title).toBe('1 finding let through');
  });

  it('caps annotations and says so', () => {
    const many = Array.from({ length: MAX_ANNOTATIONS + 5 }, (_, i) => finding(i));
    const p = push({ allowedFindings: many, allowedCount: many.length + 3 });
    const output = scanCheckOutput(p, p.refs);
    expect(output.annotations).toHaveLength(MAX_ANNOTATIONS);
    expect(output.summary).toContain(`the first ${MAX_ANNOTATIONS} of ${MAX_ANNOTATIONS + 5}`);
    expect(output.summary).toContain('3 more allowed finding(s)');
  });
});

describe('createScanCheckRuns', () => {
  it('creates one completed check run when everything fits one request', async () => {
    const calls: Call[] = [];
    await createScanCheckRuns({ api, clients: fakeClients(calls), log }).forwarded(push({ allowedFindings: [finding(0)], allowedCount: 1 }));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.params).toMatchObject({ owner: 'acme', repo: 'app', name: SCAN_CHECK_NAME, head_sha: SHA, status: 'completed', conclusion: 'success' });
    expect(calls[0]!.params.output.annotations).toHaveLength(1);
  });

  it('sends more than 50 annotations in batches of at most 50, completing with the last', async () => {
    const calls: Call[] = [];
    const many = Array.from({ length: 120 }, (_, i) => finding(i));
    await createScanCheckRuns({ api, clients: fakeClients(calls), log }).forwarded(push({ allowedFindings: many, allowedCount: many.length }));
    expect(calls.map((c) => [c.op, c.params.output.annotations.length])).toEqual([
      ['create', 50],
      ['update', 50],
      ['update', 20],
    ]);
    expect(calls[0]!.params).toMatchObject({ status: 'in_progress' });
    expect(calls[0]!.params.conclusion).toBeUndefined();
    expect(calls[1]!.params.status).toBeUndefined();
    expect(calls[2]!.params).toMatchObject({ check_run_id: 77, status: 'completed', conclusion: 'success' });
    expect(calls.flatMap((c) => c.params.output.annotations.map((a: { path: string }) => a.path))).toEqual(many.map((f) => f.path));
  });

  it('does nothing for other remotes, nor without an installation', async () => {
    const calls: Call[] = [];
    await createScanCheckRuns({ api, clients: fakeClients(calls), log }).forwarded(push({ remote: 'gitlab' }));
    await createScanCheckRuns({ api: { findRepoInstallation: async () => null }, clients: fakeClients(calls), log }).forwarded(push());
    expect(calls).toEqual([]);
  });

  it('one check run per sha, and a failure is thrown after trying every sha', async () => {
    const calls: Call[] = [];
    const p = push({
      refs: [
        { ref: 'refs/heads/a', sentAs: 'refs/heads/a', newOid: SHA, approvalId: null, commits: [] },
        { ref: 'refs/heads/b', sentAs: 'refs/heads/b', newOid: SHA, approvalId: null, commits: [] },
        { ref: 'refs/heads/c', sentAs: 'refs/heads/c', newOid: 'b'.repeat(40), approvalId: null, commits: [] },
      ],
    });
    await expect(createScanCheckRuns({ api, clients: fakeClients(calls, 'create'), log }).forwarded(p)).rejects.toThrow('secret scan check runs not fully created on acme/app');
    expect(calls.map((c) => c.params.head_sha)).toEqual([SHA, 'b'.repeat(40)]);
    expect(calls[0]!.params.output.summary).toContain('`refs/heads/a`, `refs/heads/b`');
  });
});

describe('forwardedPush', () => {
  const hold = { id: 'h1', ref: 'refs/heads/main', heldRef: 'refs/heads/portcullis/held/h1' } as StoredApproval;
  const details = {
    forwarded: [
      { oldOid: '0'.repeat(40), newOid: SHA, ref: 'refs/heads/feature' },
      { oldOid: '0'.repeat(40), newOid: 'b'.repeat(40), ref: hold.heldRef },
      { oldOid: SHA, newOid: '0'.repeat(40), ref: 'refs/heads/gone' },
      { oldOid: '0'.repeat(40), newOid: 'e'.repeat(40), ref: 'refs/heads/refused' },
    ],
    commitsByRef: { 'refs/heads/feature': { commits: [COMMIT] }, 'refs/heads/main': { commits: ['b'.repeat(40)] } },
    scan: { commits: 2, scannedBytes: 5, skipped: [], skippedCount: 0 },
    findings: [],
    allowedFindings: [{ ...finding(0), fingerprint: 'f'.repeat(64) }],
    allowedFindingsCount: 1,
  };
  const base = { agent: 'coder', sessionId: 's', remote: 'github', owner: 'acme', repo: 'app' };

  it('keeps the refs upstream accepted, maps held branches back, and drops fingerprints', () => {
    const upstream = {
      unpack: { ok: true as const },
      refs: [
        { ref: 'refs/heads/feature', ok: true as const },
        { ref: hold.heldRef, ok: true as const },
        { ref: 'refs/heads/gone', ok: true as const },
        { ref: 'refs/heads/refused', ok: false as const, reason: 'hook declined' },
      ],
    };
    const result = forwardedPush(base, details, new Map([[hold.ref, hold]]), upstream);
    expect(result?.refs).toEqual([
      { ref: 'refs/heads/feature', sentAs: 'refs/heads/feature', newOid: SHA, approvalId: null, commits: [COMMIT] },
      { ref: 'refs/heads/main', sentAs: hold.heldRef, newOid: 'b'.repeat(40), approvalId: 'h1', commits: ['b'.repeat(40)] },
    ]);
    expect(result?.allowedFindings).toEqual([finding(0)]);
    expect(JSON.stringify(result)).not.toContain('f'.repeat(64));
  });

  it('is null when nothing reached the upstream', () => {
    expect(forwardedPush(base, details, new Map(), null)).toBeNull();
    expect(forwardedPush(base, { ...details, forwarded: [] }, new Map(), { unpack: { ok: true }, refs: [] })).toBeNull();
  });
});
