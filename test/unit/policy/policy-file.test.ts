import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PortcullisError } from '../../../src/errors.ts';
import { loadPolicy, parsePolicy, policyFor } from '../../../src/policy/index.ts';
import type { Policy } from '../../../src/policy/index.ts';

const SHIPPED = fileURLToPath(new URL('../../../rules/policy.yml', import.meta.url));
const FP = 'a'.repeat(64);
const FP2 = 'b'.repeat(64);

const DEFAULTS: Policy = {
  git: {
    protected: ['refs/heads/main', 'refs/heads/master', 'refs/heads/release/*'],
    approvalPaths: ['.github/workflows/**'],
    forbidForcePush: 'protected',
    forbidDelete: 'protected',
    secrets: { action: 'block', allow: [] },
  },
  sql: {
    protectedTables: [],
    block: [],
    approve: [],
    allow: [],
    mask: {
      columns: ['*email*', '*password*', '*passwd*', '*ssn*', '*token*', '*secret*', '*api_key*', 'card_number'],
      detectors: 'all',
      style: 'redact',
    },
    holdMode: 'error',
    holdTimeout: { text: '5m', ms: 5 * 60_000 },
    maxRows: null,
    recordRows: 0,
  },
  approvals: { ttl: { text: '7d', ms: 7 * 86_400_000 }, window: { text: '15m', ms: 15 * 60_000 } },
  agents: {},
};

function caught(fn: () => unknown): PortcullisError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(PortcullisError);
    return error as PortcullisError;
  }
  throw new Error('expected a PortcullisError, nothing was thrown');
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'portcullis-policy-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(text: string): string {
  const file = path.join(dir, 'policy.yml');
  writeFileSync(file, text);
  return file;
}

describe('loadPolicy', () => {
  it('uses the built-in defaults and says so (source null) when the file does not exist', async () => {
    const loaded = await loadPolicy(path.join(dir, 'missing.yml'));
    expect(loaded).toEqual({ policy: DEFAULTS, source: null });
  });

  it('ships rules/policy.yml equal to the built-in defaults', async () => {
    const loaded = await loadPolicy(SHIPPED);
    expect(loaded.source).toBe(SHIPPED);
    expect(loaded.policy).toEqual(DEFAULTS);
  });

  it('treats an empty file as all defaults, with the file as source', async () => {
    const file = write('# nothing here\n');
    expect(await loadPolicy(file)).toEqual({ policy: DEFAULTS, source: file });
  });

  it('reads a file and fills in what it leaves out', async () => {
    const file = write('git:\n  forbidDelete: all\n  secrets:\n    action: hold\napprovals:\n  ttl: 12h\n');
    const { policy, source } = await loadPolicy(file);
    expect(source).toBe(file);
    expect(policy.git).toEqual({ ...DEFAULTS.git, forbidDelete: 'all', secrets: { action: 'hold', allow: [] } });
    expect(policy.approvals.ttl).toEqual({ text: '12h', ms: 12 * 3_600_000 });
  });

  it('names the file when the YAML does not parse', async () => {
    const file = write('git: [unclosed\n');
    const error = await loadPolicy(file).then(
      () => {
        throw new Error('expected a refusal');
      },
      (e: unknown) => e as PortcullisError,
    );
    expect(error).toBeInstanceOf(PortcullisError);
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.userMessage).toContain(`${file}: not valid YAML`);
  });

  it('names the file and the key path of an invalid value', async () => {
    const file = write('git:\n  forbidForcePush: sometimes\n');
    await expect(loadPolicy(file)).rejects.toMatchObject({
      code: 'POLICY_INVALID',
      userMessage: expect.stringMatching(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a valid portcullis policy:\n  git\\.forbidForcePush: `)),
    });
  });
});

describe('parsePolicy: valid values', () => {
  it.each([
    ['forbidForcePush', 'all'],
    ['forbidForcePush', 'none'],
    ['forbidForcePush', 'protected'],
    ['forbidDelete', 'all'],
    ['forbidDelete', 'none'],
    ['forbidDelete', 'protected'],
  ] as const)('git.%s: %s', (key, value) => {
    expect(parsePolicy({ git: { [key]: value } }, 'p.yml').git[key]).toBe(value);
  });

  it('accepts empty lists (no protected refs, no approval paths)', () => {
    const policy = parsePolicy({ git: { protected: [], approvalPaths: [] } }, 'p.yml');
    expect(policy.git.protected).toEqual([]);
    expect(policy.git.approvalPaths).toEqual([]);
  });

  it('normalises fingerprints to lower-case hex, dropping a sha256: prefix', () => {
    const policy = parsePolicy({ git: { secrets: { allow: [FP.toUpperCase(), `sha256:${FP2}`] } } }, 'p.yml');
    expect(policy.git.secrets.allow).toEqual([FP, FP2]);
  });

  it.each([
    ['30m', 30 * 60_000],
    ['24h', 24 * 3_600_000],
    ['1d', 86_400_000],
    ['3650d', 3650 * 86_400_000],
  ])('approvals.ttl %s', (ttl, ms) => {
    expect(parsePolicy({ approvals: { ttl } }, 'p.yml').approvals.ttl).toEqual({ text: ttl, ms });
  });
});

describe('parsePolicy: invalid values name the file and the key path', () => {
  it.each([
    [{ git: { forbidForcePush: 'sometimes' } }, 'git.forbidForcePush', 'expected one of'],
    [{ git: { forbidDelete: true } }, 'git.forbidDelete', 'expected one of'],
    [{ git: { protected: 'refs/heads/main' } }, 'git.protected', 'expected array'],
    [{ git: { protected: ['refs/heads/main', 'main'] } }, 'git.protected[1]', 'must be a full ref glob'],
    [{ git: { protected: [''] } }, 'git.protected[0]', ''],
    [{ git: { approvalPaths: ['/.github/workflows/**'] } }, 'git.approvalPaths[0]', 'drop the leading "/"'],
    [{ git: { approvalPaths: [7] } }, 'git.approvalPaths[0]', 'expected string'],
    [{ git: { secrets: { action: 'warn' } } }, 'git.secrets.action', 'expected one of'],
    [{ git: { secrets: { allow: ['not-a-fingerprint'] } } }, 'git.secrets.allow[0]', 'sha256 fingerprint'],
    [{ git: { secrets: { allow: ['a'.repeat(63)] } } }, 'git.secrets.allow[0]', 'sha256 fingerprint'],
    [{ git: { secrets: { allowed: [] } } }, 'git.secrets', 'unknown key(s) "allowed"'],
    [{ git: { protect: [] } }, 'git', 'unknown key(s) "protect"'],
    [{ gti: {} }, '(top level)', 'unknown key(s) "gti"'],
    [{ approvals: { ttl: '7' } }, 'approvals.ttl', 'a number and a unit'],
    [{ approvals: { ttl: '1w' } }, 'approvals.ttl', 'a number and a unit'],
    [{ approvals: { ttl: '0d' } }, 'approvals.ttl', 'longer than zero'],
    [{ approvals: { ttl: '3651d' } }, 'approvals.ttl', 'at most 3650d'],
    [{ approvals: { ttl: 7 } }, 'approvals.ttl', 'expected string'],
    [{ approvals: { ttl: '7d', grace: '1d' } }, 'approvals', 'unknown key(s) "grace"'],
    [{ agents: { 'release-bot': { git: { forbidForcePush: 'never' } } } }, 'agents.release-bot.git.forbidForcePush', 'expected one of'],
    [{ agents: { 'release-bot': { git: { protected: ['main'] } } } }, 'agents.release-bot.git.protected[0]', 'must be a full ref glob'],
    [{ agents: { 'release-bot': { git: { secrets: { action: 'ignore' } } } } }, 'agents.release-bot.git.secrets.action', 'expected one of'],
    [{ agents: { 'release-bot': { git: { bogus: 1 } } } }, 'agents.release-bot.git', 'unknown key(s) "bogus"'],
    [{ agents: { 'release-bot': { approvals: { ttl: '1d' } } } }, 'agents.release-bot', 'unknown key(s) "approvals"'],
    [{ agents: { 'release-bot': 'none' } }, 'agents.release-bot', 'expected object'],
    [{ agents: { 'bad name!': { git: {} } } }, 'agents.bad name!', 'invalid name: agent names are'],
    [{ agents: [] }, 'agents', 'expected record'],
    ['just a string', '(top level)', 'expected object'],
  ])('%j → %s', (raw, keyPath, fragment) => {
    const error = caught(() => parsePolicy(raw, '/etc/portcullis/policy.yml'));
    expect(error.code).toBe('POLICY_INVALID');
    expect(error.userMessage).toMatch(/^\/etc\/portcullis\/policy\.yml is not a valid portcullis policy:\n/);
    const line = error.userMessage.split('\n').find((l) => l.startsWith(`  ${keyPath}: `));
    expect(line, error.userMessage).toBeDefined();
    expect(line).toContain(fragment);
    expect(error.hint).toContain('rules/policy.yml');
  });

  it('lists every problem, one line each', () => {
    const error = caught(() => parsePolicy({ git: { forbidDelete: 'x', forbidForcePush: 'y' }, approvals: { ttl: 'z' } }, 'p.yml'));
    expect(error.userMessage.split('\n').slice(1).map((l) => l.split(':')[0]!.trim())).toEqual(
      expect.arrayContaining(['git.forbidDelete', 'git.forbidForcePush', 'approvals.ttl']),
    );
  });
});

describe('policyFor: per-agent overrides deep-merged over git', () => {
  const policy = parsePolicy(
    {
      git: { secrets: { allow: [FP] } },
      agents: {
        'release-bot': { git: { forbidForcePush: 'none' } },
        'docs-writer': { git: { protected: ['refs/heads/docs/*'], secrets: { action: 'hold' } } },
        'strict-bot': { git: { forbidDelete: 'all', approvalPaths: [], secrets: { allow: [FP2] } } },
        empty: { git: {} },
        'no-git': {},
        constructor: { git: { forbidDelete: 'none' } },
      },
    },
    'p.yml',
  );

  it('gives an agent without an override the git section as is', () => {
    expect(policyFor(policy, 'someone-else')).toEqual(policy.git);
  });

  it('does not pick up Object.prototype members as overrides', () => {
    expect(policyFor(policy, 'toString')).toEqual(policy.git);
    expect(policyFor(policy, '__proto__')).toEqual(policy.git);
    expect(policyFor(policy, 'constructor').forbidDelete).toBe('none');
  });

  it('overrides one scalar and keeps the rest', () => {
    expect(policyFor(policy, 'release-bot')).toEqual({ ...policy.git, forbidForcePush: 'none' });
  });

  it('merges nested objects key by key (secrets.action changed, secrets.allow kept)', () => {
    expect(policyFor(policy, 'docs-writer')).toEqual({
      ...policy.git,
      protected: ['refs/heads/docs/*'],
      secrets: { action: 'hold', allow: [FP] },
    });
  });

  it('replaces lists rather than appending (empty lists included)', () => {
    expect(policyFor(policy, 'strict-bot')).toEqual({
      ...policy.git,
      forbidDelete: 'all',
      approvalPaths: [],
      secrets: { action: 'block', allow: [FP2] },
    });
  });

  it('treats an empty override, or one without git, as no override', () => {
    expect(policyFor(policy, 'empty')).toEqual(policy.git);
    expect(policyFor(policy, 'no-git')).toEqual(policy.git);
  });

  it('matches agent names exactly', () => {
    expect(policyFor(policy, 'Release-Bot')).toEqual(policy.git);
  });

  it('does not mutate the policy', () => {
    const before = structuredClone(policy);
    policyFor(policy, 'docs-writer').secrets.allow.push('x');
    expect(policy.git.secrets.allow).toEqual(before.git.secrets.allow);
  });
});
