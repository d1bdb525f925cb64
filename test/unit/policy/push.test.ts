import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ATOMIC_REFUSAL, decidePush, decideRefUpdate, parsePolicy } from '../../../src/policy/index.ts';
import type { ForbidMode, GitPolicy, RefDecision, RefUpdateFacts } from '../../../src/policy/index.ts';

const NOW = new Date('2030-01-01T12:00:00.000Z');
const ZERO = '0'.repeat(40);
const OLD = '1111111111111111111111111111111111111111';
const NEW = 'abcdef0123456789abcdef0123456789abcdef01';
const AGENT = 'coder-bot';

type Kind = 'create' | 'ff' | 'nonff' | 'delete';
const KINDS: Kind[] = ['create', 'ff', 'nonff', 'delete'];
const MODES: ForbidMode[] = ['protected', 'all', 'none'];

const KIND_FACTS: Record<Kind, Pick<RefUpdateFacts, 'kind' | 'oldOid' | 'newOid' | 'fastForward'>> = {
  create: { kind: 'create', oldOid: ZERO, newOid: NEW, fastForward: true },
  ff: { kind: 'update', oldOid: OLD, newOid: NEW, fastForward: true },
  nonff: { kind: 'update', oldOid: OLD, newOid: NEW, fastForward: false },
  delete: { kind: 'delete', oldOid: OLD, newOid: ZERO, fastForward: true },
};

function git(overrides: Record<string, unknown> = {}): GitPolicy {
  return parsePolicy({ git: overrides }, 'test policy').git;
}

const DEFAULT = git();
const HOLD_SECRETS = git({ secrets: { action: 'hold' } });

function facts(kind: Kind, overrides: Partial<RefUpdateFacts> = {}): RefUpdateFacts {
  return {
    ref: 'refs/heads/feature/x',
    ...KIND_FACTS[kind],
    changedPaths: kind === 'delete' ? [] : ['src/app.ts'],
    secrets: [],
    ...overrides,
  };
}

const SECRET = { ruleId: 'aws.access-key', path: 'config/prod.env', line: 12, commit: NEW, fingerprint: 'f'.repeat(64) };
const SECRET2 = { ruleId: 'github.pat', path: 'notes.md', line: 3, commit: OLD, fingerprint: 'e'.repeat(64) };
const SECRET_REASON = 'secret detected: aws.access-key in config/prod.env:12 @ abcdef0';
const WORKFLOW = '.github/workflows/ci.yml';
const activeGrant = (refPattern = 'refs/heads/**') => ({ id: 'g-1', refPattern, expiresAt: new Date(NOW.getTime() + 60_000) });

function decide(update: RefUpdateFacts, policy: GitPolicy = DEFAULT): RefDecision {
  return decideRefUpdate(AGENT, update, policy, NOW);
}

/** verdict/rule/reason only, for compact tables. */
function brief(decision: RefDecision): [string, string, string] {
  return [decision.verdict, decision.rule, decision.reason];
}

describe('decideRefUpdate: forbidForcePush × kind × protected', () => {
  const HOLD_PROTECTED = ['hold', 'git.protected', 'held for approval: protected ref'];
  const ALLOW = ['allow', 'git.allow', 'allowed: no guardrail applies'];
  const FORCE_PROTECTED = ['block', 'git.forbidForcePush', 'blocked: force-push to protected ref'];
  const FORCE_ANY = ['block', 'git.forbidForcePush', 'blocked: force-push not allowed'];
  it.each([
    // mode, kind, protected, expected
    ['protected', 'create', true, HOLD_PROTECTED],
    ['protected', 'create', false, ALLOW],
    ['protected', 'ff', true, HOLD_PROTECTED],
    ['protected', 'ff', false, ALLOW],
    ['protected', 'nonff', true, FORCE_PROTECTED],
    ['protected', 'nonff', false, ALLOW],
    ['all', 'create', true, HOLD_PROTECTED],
    ['all', 'create', false, ALLOW],
    ['all', 'ff', true, HOLD_PROTECTED],
    ['all', 'ff', false, ALLOW],
    ['all', 'nonff', true, FORCE_PROTECTED],
    ['all', 'nonff', false, FORCE_ANY],
    ['none', 'create', true, HOLD_PROTECTED],
    ['none', 'create', false, ALLOW],
    ['none', 'ff', true, HOLD_PROTECTED],
    ['none', 'ff', false, ALLOW],
    // allowed to force-push, but a protected ref still changes only with approval
    ['none', 'nonff', true, HOLD_PROTECTED],
    ['none', 'nonff', false, ALLOW],
  ] as const)('forbidForcePush %s, %s, protected %s → %j', (mode, kind, isProtected, expected) => {
    const ref = isProtected ? 'refs/heads/main' : 'refs/heads/feature/x';
    expect(brief(decide(facts(kind, { ref }), git({ forbidForcePush: mode, forbidDelete: 'none' })))).toEqual(expected);
  });
});

describe('decideRefUpdate: forbidDelete × kind × protected', () => {
  const HOLD_PROTECTED = ['hold', 'git.protected', 'held for approval: protected ref'];
  const ALLOW = ['allow', 'git.allow', 'allowed: no guardrail applies'];
  const DELETE_PROTECTED = ['block', 'git.forbidDelete', 'blocked: deletion of protected ref'];
  const DELETE_ANY = ['block', 'git.forbidDelete', 'blocked: deletion not allowed'];
  it.each([
    ['protected', 'delete', true, DELETE_PROTECTED],
    ['protected', 'delete', false, ALLOW],
    ['all', 'delete', true, DELETE_PROTECTED],
    ['all', 'delete', false, DELETE_ANY],
    // deletion allowed, but a protected ref still changes only with approval
    ['none', 'delete', true, HOLD_PROTECTED],
    ['none', 'delete', false, ALLOW],
    ...(['protected', 'all', 'none'] as const).flatMap((mode) =>
      (['create', 'ff', 'nonff'] as const).flatMap((kind) => [
        [mode, kind, true, HOLD_PROTECTED] as const,
        [mode, kind, false, ALLOW] as const,
      ]),
    ),
  ] as const)('forbidDelete %s, %s, protected %s → %j', (mode, kind, isProtected, expected) => {
    const ref = isProtected ? 'refs/heads/main' : 'refs/heads/feature/x';
    expect(brief(decide(facts(kind, { ref }), git({ forbidDelete: mode, forbidForcePush: 'none' })))).toEqual(expected);
  });

  it('each forbid mode matters only for its own kind (all 72 combinations)', () => {
    for (const kind of KINDS) {
      for (const isProtected of [true, false]) {
        const update = facts(kind, { ref: isProtected ? 'refs/heads/main' : 'refs/heads/feature/x' });
        for (const force of MODES) {
          const results = new Set(MODES.map((del) => JSON.stringify(decide(update, git({ forbidForcePush: force, forbidDelete: del })))));
          if (kind !== 'delete') expect(results.size, `${kind} ${isProtected} force=${force}`).toBe(1);
        }
        for (const del of MODES) {
          const results = new Set(MODES.map((force) => JSON.stringify(decide(update, git({ forbidForcePush: force, forbidDelete: del })))));
          if (!(kind === 'nonff')) expect(results.size, `${kind} ${isProtected} delete=${del}`).toBe(1);
        }
      }
    }
  });
});

describe('decideRefUpdate: precedence, every pair', () => {
  // S = secret (block), F = forbidden force-push, D = forbidden delete, s = secret (hold),
  // P = protected ref, A = approval path changed. F/D exclude each other (update vs delete);
  // a delete changes no paths, so D+A and s/S on a delete's paths cannot arise from paths.
  const main = 'refs/heads/main';
  const feature = 'refs/heads/feature/x';
  it.each([
    ['S > F', facts('nonff', { ref: main, secrets: [SECRET] }), DEFAULT, 'block', 'git.secrets', SECRET_REASON],
    ['S > D', facts('delete', { ref: main, secrets: [SECRET] }), DEFAULT, 'block', 'git.secrets', SECRET_REASON],
    ['S > P', facts('ff', { ref: main, secrets: [SECRET] }), DEFAULT, 'block', 'git.secrets', SECRET_REASON],
    ['S > A', facts('ff', { ref: feature, secrets: [SECRET], changedPaths: [WORKFLOW] }), DEFAULT, 'block', 'git.secrets', SECRET_REASON],
    ['S > grant', facts('ff', { ref: main, secrets: [SECRET], grant: activeGrant() }), DEFAULT, 'block', 'git.secrets', SECRET_REASON],
    ['F > s (a hold must never let a forbidden rewrite through)', facts('nonff', { ref: main, secrets: [SECRET] }), HOLD_SECRETS, 'block', 'git.forbidForcePush', 'blocked: force-push to protected ref'],
    ['F > P', facts('nonff', { ref: main }), DEFAULT, 'block', 'git.forbidForcePush', 'blocked: force-push to protected ref'],
    ['F > A', facts('nonff', { ref: feature, changedPaths: [WORKFLOW] }), git({ forbidForcePush: 'all' }), 'block', 'git.forbidForcePush', 'blocked: force-push not allowed'],
    ['F > grant', facts('nonff', { ref: main, grant: activeGrant() }), DEFAULT, 'block', 'git.forbidForcePush', 'blocked: force-push to protected ref'],
    ['D > s', facts('delete', { ref: main, secrets: [SECRET] }), HOLD_SECRETS, 'block', 'git.forbidDelete', 'blocked: deletion of protected ref'],
    ['D > P', facts('delete', { ref: main }), DEFAULT, 'block', 'git.forbidDelete', 'blocked: deletion of protected ref'],
    ['D > grant', facts('delete', { ref: main, grant: activeGrant() }), DEFAULT, 'block', 'git.forbidDelete', 'blocked: deletion of protected ref'],
    ['s > P', facts('ff', { ref: main, secrets: [SECRET] }), HOLD_SECRETS, 'hold', 'git.secrets', `held for approval: ${SECRET_REASON}`],
    ['s > A', facts('ff', { ref: feature, secrets: [SECRET], changedPaths: [WORKFLOW] }), HOLD_SECRETS, 'hold', 'git.secrets', `held for approval: ${SECRET_REASON}`],
    ['s > grant (a grant never waives a secret)', facts('ff', { ref: main, secrets: [SECRET], grant: activeGrant() }), HOLD_SECRETS, 'hold', 'git.secrets', `held for approval: ${SECRET_REASON}`],
    ['P > A', facts('ff', { ref: main, changedPaths: [WORKFLOW] }), DEFAULT, 'hold', 'git.protected', 'held for approval: protected ref'],
    ['grant > P', facts('ff', { ref: main, grant: activeGrant() }), DEFAULT, 'allow', 'git.grant', 'allowed by grant g-1 (coder-bot, refs/heads/**, until 2030-01-01T12:01:00.000Z)'],
    ['grant > A', facts('ff', { ref: feature, changedPaths: [WORKFLOW], grant: activeGrant() }), DEFAULT, 'allow', 'git.grant', 'allowed by grant g-1 (coder-bot, refs/heads/**, until 2030-01-01T12:01:00.000Z)'],
    ['A > allow', facts('ff', { ref: feature, changedPaths: [WORKFLOW] }), DEFAULT, 'hold', 'git.approvalPaths', `held for approval: changes ${WORKFLOW}`],
    ['D never meets A: a delete touches no paths', facts('delete', { ref: feature, changedPaths: [WORKFLOW] }), DEFAULT, 'allow', 'git.allow', 'allowed: no guardrail applies'],
    ['nothing applies', facts('ff'), DEFAULT, 'allow', 'git.allow', 'allowed: no guardrail applies'],
  ])('%s', (_name, update, policy, verdict, rule, reason) => {
    const decision = decide(update, policy);
    expect(decision).toMatchObject({ verdict, rule, reason, ref: update.ref });
    if (verdict === 'hold') expect(decision.holdReasons?.[0]).toBe(reason);
    else expect(decision.holdReasons).toBeUndefined();
  });

  it.each([
    ['s + P', facts('ff', { ref: main, secrets: [SECRET] }), [`held for approval: ${SECRET_REASON}`, 'held for approval: protected ref']],
    ['s + A', facts('ff', { ref: feature, secrets: [SECRET], changedPaths: [WORKFLOW] }), [`held for approval: ${SECRET_REASON}`, `held for approval: changes ${WORKFLOW}`]],
    ['P + A', facts('ff', { ref: main, changedPaths: [WORKFLOW] }), ['held for approval: protected ref', `held for approval: changes ${WORKFLOW}`]],
    ['s + P + A', facts('create', { ref: main, secrets: [SECRET], changedPaths: ['README.md', WORKFLOW] }), [`held for approval: ${SECRET_REASON}`, 'held for approval: protected ref', `held for approval: changes ${WORKFLOW}`]],
    ['s + P + A with a grant: only the secret remains', facts('ff', { ref: main, secrets: [SECRET], changedPaths: [WORKFLOW], grant: activeGrant() }), [`held for approval: ${SECRET_REASON}`]],
  ])('a hold lists every reason, strongest first: %s', (_name, update, reasons) => {
    expect(decide(update, HOLD_SECRETS).holdReasons).toEqual(reasons);
  });
});

describe('decideRefUpdate: grants', () => {
  const heldMain = facts('ff', { ref: 'refs/heads/main' });
  it.each([
    ['active, matching glob', activeGrant('refs/heads/*'), 'allow', 'git.grant'],
    ['active, exact ref', activeGrant('refs/heads/main'), 'allow', 'git.grant'],
    ['active, ** glob', activeGrant('refs/**'), 'allow', 'git.grant'],
    ['one millisecond left', { id: 'g', refPattern: 'refs/heads/main', expiresAt: new Date(NOW.getTime() + 1) }, 'allow', 'git.grant'],
    ['expiring this instant (expiresAt is exclusive)', { id: 'g', refPattern: 'refs/heads/main', expiresAt: NOW }, 'hold', 'git.protected'],
    ['expired', { id: 'g', refPattern: 'refs/heads/main', expiresAt: new Date(NOW.getTime() - 1) }, 'hold', 'git.protected'],
    ['invalid date', { id: 'g', refPattern: 'refs/heads/main', expiresAt: new Date(Number.NaN) }, 'hold', 'git.protected'],
    ['other ref', activeGrant('refs/heads/develop'), 'hold', 'git.protected'],
    ['short name is not a whole ref', activeGrant('main'), 'hold', 'git.protected'],
    ['prefix is not a whole ref', activeGrant('refs/heads/ma'), 'hold', 'git.protected'],
    ['case differs', activeGrant('refs/heads/MAIN'), 'hold', 'git.protected'],
    ['glob for another namespace', activeGrant('refs/tags/*'), 'hold', 'git.protected'],
    ['none', undefined, 'hold', 'git.protected'],
  ])('%s', (_name, grant, verdict, rule) => {
    const update = grant ? { ...heldMain, grant } : heldMain;
    expect(decide(update)).toMatchObject({ verdict, rule });
  });

  it('an expired or non-matching grant leaves an approval-path hold in place', () => {
    const update = facts('ff', { changedPaths: [WORKFLOW] });
    expect(decide({ ...update, grant: { id: 'g', refPattern: 'refs/heads/**', expiresAt: NOW } }).rule).toBe('git.approvalPaths');
    expect(decide({ ...update, grant: activeGrant('refs/heads/main') }).rule).toBe('git.approvalPaths');
  });

  it('a grant with nothing to waive is a plain allow', () => {
    expect(brief(decide(facts('ff', { grant: activeGrant() })))).toEqual(['allow', 'git.allow', 'allowed: no guardrail applies']);
  });

  it('a grant waives the hold of a protected ref deletion or rewrite when those are not forbidden', () => {
    const lenient = git({ forbidForcePush: 'none', forbidDelete: 'none' });
    expect(decide(facts('delete', { ref: 'refs/heads/main', grant: activeGrant() }), lenient).rule).toBe('git.grant');
    expect(decide(facts('nonff', { ref: 'refs/heads/main', grant: activeGrant() }), lenient).rule).toBe('git.grant');
  });
});

describe('decideRefUpdate: protected ref globs match whole refs', () => {
  it.each([
    ['refs/heads/main', true],
    ['refs/heads/master', true],
    ['refs/heads/release/1.0', true],
    ['refs/heads/release/v2', true],
    ['refs/heads/release/.hidden', true],
    ['refs/heads/release', false],
    ['refs/heads/release/1.0/hotfix', false],
    ['refs/heads/main2', false],
    ['refs/heads/mainline', false],
    ['refs/heads/feature/main', false],
    ['refs/heads/Main', false],
    ['refs/heads/MAIN', false],
    ['refs/tags/main', false],
    ['refs/heads/portcullis/held/abc', false],
    ['main', false],
  ])('%s protected: %s', (ref, isProtected) => {
    expect(decide(facts('ff', { ref })).rule).toBe(isProtected ? 'git.protected' : 'git.allow');
  });

  it.each([
    [['refs/tags/*'], 'refs/tags/v1.0', true],
    [['refs/tags/*'], 'refs/heads/v1.0', false],
    [['refs/heads/**'], 'refs/heads/a/b/c', true],
    [['refs/heads/{main,prod}'], 'refs/heads/prod', true],
    [['refs/heads/v?'], 'refs/heads/v1', true],
    [['refs/heads/v?'], 'refs/heads/v10', false],
    [[], 'refs/heads/main', false],
  ])('custom globs %j, %s protected: %s', (globs, ref, isProtected) => {
    expect(decide(facts('ff', { ref }), git({ protected: globs })).rule).toBe(isProtected ? 'git.protected' : 'git.allow');
  });
});

describe('decideRefUpdate: approval paths', () => {
  it.each([
    ['.github/workflows/ci.yml', true],
    ['.github/workflows/nested/deploy.yaml', true],
    ['.github/workflows/.hidden.yml', true],
    ['.GitHub/Workflows/CI.yml', true],
    // a file replacing the workflows directory changes the workflows too
    ['.github/workflows', true],
    ['.github/workflows/a\nb.yml', true],
    ['.github/workflows/sub\ndir/x.yml', true],
    ['.github/dependabot.yml', false],
    ['.github/workflows-old/ci.yml', false],
    ['src/.github/workflows/ci.yml', false],
    ['docs/workflows/ci.yml', false],
  ])('%s held: %s', (changed, held) => {
    expect(decide(facts('ff', { changedPaths: [changed] })).rule).toBe(held ? 'git.approvalPaths' : 'git.allow');
  });

  it('names the first matching path and counts the others', () => {
    const update = facts('ff', { changedPaths: ['README.md', '.github/workflows/a.yml', 'src/x.ts', '.github/workflows/b.yml', '.github/workflows/c.yml'] });
    expect(decide(update).reason).toBe('held for approval: changes .github/workflows/a.yml (+2 more)');
  });

  it('holds for every kind that brings commits, never for a delete', () => {
    for (const kind of KINDS) {
      const rule = decide(facts(kind, { changedPaths: [WORKFLOW] }), git({ forbidForcePush: 'none' })).rule;
      expect(rule, kind).toBe(kind === 'delete' ? 'git.allow' : 'git.approvalPaths');
    }
  });

  it('uses custom globs, and none when the list is empty', () => {
    expect(decide(facts('ff', { changedPaths: ['infra/prod/main.tf'] }), git({ approvalPaths: ['infra/**/*.tf'] })).rule).toBe('git.approvalPaths');
    expect(decide(facts('ff', { changedPaths: [WORKFLOW] }), git({ approvalPaths: [] })).rule).toBe('git.allow');
  });
});

describe('decideRefUpdate: reasons', () => {
  it('names the first secret finding, with a 7-character sha and a count of the rest', () => {
    expect(decide(facts('ff', { secrets: [SECRET] })).reason).toBe(SECRET_REASON);
    expect(decide(facts('ff', { secrets: [SECRET, SECRET2] })).reason).toBe(`${SECRET_REASON} (+1 more)`);
    expect(decide(facts('ff', { secrets: [SECRET, SECRET2, SECRET2] })).reason).toBe(`${SECRET_REASON} (+2 more)`);
  });

  it('escapes control characters so a path cannot forge extra report-status or remote: lines', () => {
    const secret = { ...SECRET, path: 'evil\nok refs/heads/main\r\x1b[2J\tx' };
    const reason = decide(facts('ff', { secrets: [secret] })).reason;
    expect(reason).toBe('secret detected: aws.access-key in evil\\nok refs/heads/main\\r\\x1b[2J\\tx:12 @ abcdef0');
    expect(reason).not.toMatch(/[\u0000-\u001f]/);
    const held = decide(facts('ff', { changedPaths: ['.github/workflows/a\nb.yml'] })).reason;
    expect(held).toBe('held for approval: changes .github/workflows/a\\nb.yml');
  });

  it('keeps every reason short enough for one `! [remote rejected]` line', () => {
    const cases = [
      facts('ff', { secrets: [SECRET, SECRET2] }),
      facts('nonff', { ref: 'refs/heads/main' }),
      facts('delete', { ref: 'refs/heads/main' }),
      facts('ff', { ref: 'refs/heads/main' }),
      facts('ff', { changedPaths: [WORKFLOW, WORKFLOW] }),
    ];
    for (const update of cases) expect(decide(update).reason.length).toBeLessThan(100);
  });
});

describe('decidePush', () => {
  const allowed = facts('ff', { ref: 'refs/heads/feature/a' });
  const held = facts('ff', { ref: 'refs/heads/main' });
  const heldPaths = facts('ff', { ref: 'refs/heads/feature/ci', changedPaths: [WORKFLOW] });
  const blocked = facts('ff', { ref: 'refs/heads/feature/leak', secrets: [SECRET] });
  const blockedForce = facts('nonff', { ref: 'refs/heads/master' });

  const push = (updates: RefUpdateFacts[], atomic: boolean) => decidePush(AGENT, updates, DEFAULT, NOW, { atomic });

  it('decides each ref on its own when the push is not atomic', () => {
    const updates = [allowed, held, blocked, heldPaths, blockedForce];
    expect(push(updates, false)).toEqual(updates.map((update) => decide(update)));
  });

  it('returns nothing for no updates', () => {
    expect(push([], true)).toEqual([]);
    expect(push([], false)).toEqual([]);
  });

  it('leaves an atomic push that is allowed throughout alone', () => {
    const updates = [allowed, facts('create', { ref: 'refs/heads/feature/b' })];
    expect(push(updates, true)).toEqual(push(updates, false));
  });

  it('blocks every ref of an atomic push with a blocked ref; blocked refs keep their reason', () => {
    const decisions = push([allowed, held, blocked, heldPaths, blockedForce], true);
    expect(decisions.map(brief)).toEqual([
      ['block', 'git.atomic', ATOMIC_REFUSAL],
      ['block', 'git.atomic', ATOMIC_REFUSAL],
      ['block', 'git.secrets', SECRET_REASON],
      ['block', 'git.atomic', ATOMIC_REFUSAL],
      ['block', 'git.forbidForcePush', 'blocked: force-push to protected ref'],
    ]);
    expect(decisions.map((d) => d.ref)).toEqual(['refs/heads/feature/a', 'refs/heads/main', 'refs/heads/feature/leak', 'refs/heads/feature/ci', 'refs/heads/master']);
    for (const decision of decisions) expect(decision.holdReasons).toBeUndefined();
  });

  it('holds every ref of an atomic push with a held ref and no blocked one; held refs keep their reasons', () => {
    const decisions = push([allowed, held, heldPaths], true);
    expect(decisions).toEqual([
      { verdict: 'hold', rule: 'git.atomic', reason: ATOMIC_REFUSAL, ref: 'refs/heads/feature/a', holdReasons: [ATOMIC_REFUSAL] },
      decide(held),
      decide(heldPaths),
    ]);
  });

  it('a single blocked ref in an atomic push is just blocked', () => {
    expect(push([blocked], true)).toEqual([decide(blocked)]);
  });

  it('an atomic push of held refs only keeps each hold as decided', () => {
    expect(push([held, heldPaths], true)).toEqual([decide(held), decide(heldPaths)]);
  });

  it('applies the agent policy and clock it is given to every ref', () => {
    const grant = { id: 'g', refPattern: 'refs/heads/main', expiresAt: new Date(NOW.getTime() + 1000) };
    const withGrant = { ...held, grant };
    expect(decidePush(AGENT, [withGrant], DEFAULT, NOW, { atomic: true })[0]!.rule).toBe('git.grant');
    expect(decidePush(AGENT, [withGrant], DEFAULT, new Date(NOW.getTime() + 1000), { atomic: true })[0]!.rule).toBe('git.protected');
  });
});

describe('purity and invariants', () => {
  const kindArb = fc.constantFrom<Kind>(...KINDS);
  const updateArb = fc.record({
    kind: kindArb,
    ref: fc.constantFrom('refs/heads/main', 'refs/heads/release/1', 'refs/heads/feature/x', 'refs/tags/v1'),
    paths: fc.subarray(['src/a.ts', WORKFLOW, 'README.md']),
    secrets: fc.subarray([SECRET, SECRET2]),
    grant: fc.option(fc.record({ id: fc.constant('g'), refPattern: fc.constantFrom('refs/heads/**', 'refs/heads/main', 'refs/tags/*'), expiresAt: fc.constantFrom(new Date(NOW.getTime() - 1), NOW, new Date(NOW.getTime() + 1)) }), { nil: undefined }),
  }).map(({ kind, ref, paths, secrets, grant }) => facts(kind, { ref, changedPaths: paths, secrets, ...(grant ? { grant } : {}) }));
  const policyArb = fc
    .record({ forbidForcePush: fc.constantFrom(...MODES), forbidDelete: fc.constantFrom(...MODES), action: fc.constantFrom('block', 'hold') })
    .map(({ forbidForcePush, forbidDelete, action }) => git({ forbidForcePush, forbidDelete, secrets: { action } }));
  const rank = { allow: 0, hold: 1, block: 2 } as const;

  it('does not modify its inputs and gives the same answer twice', () => {
    fc.assert(
      fc.property(fc.array(updateArb, { maxLength: 4 }), policyArb, fc.boolean(), (updates, policy, atomic) => {
        const before = structuredClone({ updates, policy });
        const first = decidePush(AGENT, updates, policy, NOW, { atomic });
        expect({ updates, policy }).toEqual(before);
        expect(decidePush(AGENT, updates, policy, NOW, { atomic })).toEqual(first);
      }),
    );
  });

  it('a secret never makes a decision less strict, and holds always carry their reasons', () => {
    fc.assert(
      fc.property(updateArb, policyArb, (update, policy) => {
        const clean = decide({ ...update, secrets: [] }, policy);
        const dirty = decide({ ...update, secrets: [SECRET] }, policy);
        expect(rank[dirty.verdict]).toBeGreaterThanOrEqual(Math.max(rank[clean.verdict], 1));
        for (const decision of [clean, dirty]) {
          if (decision.verdict === 'hold') expect(decision.holdReasons?.[0]).toBe(decision.reason);
          expect(decision.ref).toBe(update.ref);
        }
      }),
    );
  });

  it('an atomic push ends with one verdict for all its refs, the strictest of the non-atomic ones', () => {
    fc.assert(
      fc.property(fc.array(updateArb, { minLength: 1, maxLength: 5 }), policyArb, (updates, policy) => {
        const each = decidePush(AGENT, updates, policy, NOW, { atomic: false });
        const atomic = decidePush(AGENT, updates, policy, NOW, { atomic: true });
        const strictest = Math.max(...each.map((d) => rank[d.verdict]));
        for (const [i, decision] of atomic.entries()) {
          expect(rank[decision.verdict]).toBe(strictest);
          if (each[i]!.verdict === decision.verdict) expect(decision).toEqual(each[i]);
          else expect(decision.reason).toBe(ATOMIC_REFUSAL);
        }
      }),
    );
  });
});
