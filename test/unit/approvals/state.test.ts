import { describe, expect, it } from 'vitest';
import { FINAL_STATUSES, isFinal, transition } from '../../../src/approvals/index.ts';
import type { Approval, ApprovalEvent, ApprovalStatus, TransitionResult } from '../../../src/approvals/index.ts';

const CREATED = new Date('2030-01-01T00:00:00.000Z');
const EXPIRES = new Date('2030-01-08T00:00:00.000Z');
const DECIDED = new Date('2030-01-02T09:00:00.000Z');
const APPLIED = new Date('2030-01-02T09:00:05.000Z');
const LATER = new Date('2030-01-03T00:00:00.000Z');
const at = (iso: string) => new Date(iso);

const PENDING: Approval = {
  id: 'k7p2m9xq4r',
  agent: 'coder-bot',
  remote: 'github',
  owner: 'acme',
  repo: 'app',
  ref: 'refs/heads/main',
  heldRef: 'refs/heads/portcullis/held/k7p2m9xq4r',
  oldOid: '1'.repeat(40),
  newOid: '2'.repeat(40),
  status: 'pending',
  reasons: ['held for approval: protected ref'],
  createdAt: CREATED,
  expiresAt: EXPIRES,
};

/** One approval in each state, as the machine itself would have left it. */
const IN: Record<ApprovalStatus, Approval> = {
  pending: PENDING,
  approved: { ...PENDING, status: 'approved', decidedBy: 'alice', decidedAt: DECIDED, comment: 'ship it' },
  denied: { ...PENDING, status: 'denied', decidedBy: 'bob', decidedAt: DECIDED },
  expired: { ...PENDING, status: 'expired', decidedAt: EXPIRES },
  applied: { ...PENDING, status: 'applied', decidedBy: 'alice', decidedAt: DECIDED, appliedAt: APPLIED },
  stale: { ...PENDING, status: 'stale', decidedBy: 'alice', decidedAt: DECIDED, staleAt: APPLIED, staleReason: 'refs/heads/main moved to 3333333 since the push; rebase and push again' },
};

const EVENTS: Record<ApprovalEvent['type'], ApprovalEvent> = {
  approve: { type: 'approve', reviewer: 'alice', at: DECIDED, comment: 'looks good' },
  deny: { type: 'deny', reviewer: 'bob', at: DECIDED },
  expire: { type: 'expire', at: EXPIRES },
  applied: { type: 'applied', at: APPLIED },
  stale: { type: 'stale', at: APPLIED, reason: 'refs/heads/main moved; rebase and push again' },
};

function refused(result: TransitionResult): { kind: string; message: string } {
  if (result.ok) throw new Error(`expected a refusal, got status ${result.approval.status}`);
  expect(result.code).toBe('APPROVAL_REFUSED');
  return result;
}

function accepted(result: TransitionResult): Approval {
  if (!result.ok) throw new Error(`expected success, got ${result.kind}: ${result.message}`);
  return result.approval;
}

describe('transition: every state × every event', () => {
  type Expectation = { status: ApprovalStatus } | { refused: string; says: RegExp };
  const table: Array<[ApprovalStatus, ApprovalEvent['type'], Expectation]> = [
    ['pending', 'approve', { status: 'approved' }],
    ['pending', 'deny', { status: 'denied' }],
    ['pending', 'expire', { status: 'expired' }],
    ['pending', 'applied', { refused: 'conflict', says: /cannot apply approval k7p2m9xq4r: it is still pending; a reviewer must approve it first/ }],
    ['pending', 'stale', { status: 'stale' }],
    ['approved', 'approve', { refused: 'conflict', says: /already approved by alice at 2030-01-02T09:00:00.000Z and is being applied/ }],
    ['approved', 'deny', { refused: 'conflict', says: /cannot deny approval k7p2m9xq4r: it was already approved by alice at 2030-01-02T09:00:00.000Z/ }],
    ['approved', 'expire', { refused: 'conflict', says: /cannot expire approval k7p2m9xq4r: it was approved by alice/ }],
    ['approved', 'applied', { status: 'applied' }],
    ['approved', 'stale', { status: 'stale' }],
    ...(['approve', 'deny', 'expire', 'applied', 'stale'] as const).flatMap((type): Array<[ApprovalStatus, ApprovalEvent['type'], Expectation]> => [
      ['denied', type, { refused: 'closed', says: /it was denied by bob at 2030-01-02T09:00:00.000Z; nothing more can happen to it/ }],
      ['expired', type, { refused: 'closed', says: /it expired at 2030-01-08T00:00:00.000Z; nothing more can happen to it/ }],
      ['applied', type, { refused: 'closed', says: /it was applied at 2030-01-02T09:00:05.000Z \(approved by alice\); nothing more/ }],
      ['stale', type, { refused: 'closed', says: /it went stale at 2030-01-02T09:00:05.000Z: refs\/heads\/main moved to 3333333 since the push; rebase and push again; nothing more/ }],
    ]),
  ];

  it('covers all 30 pairs', () => {
    expect(new Set(table.map(([s, e]) => `${s}/${e}`)).size).toBe(30);
  });

  it.each(table)('%s + %s', (status, type, expected) => {
    const before = structuredClone(IN[status]);
    const result = transition(IN[status], EVENTS[type]);
    expect(IN[status]).toEqual(before); // never mutated
    if ('status' in expected) {
      expect(accepted(result).status).toBe(expected.status);
    } else {
      const refusal = refused(result);
      expect(refusal.kind).toBe(expected.refused);
      expect(refusal.message).toMatch(expected.says);
      expect(refusal.message).toContain(PENDING.id);
    }
  });

  it('names the verb of the refused event from a final state', () => {
    expect(refused(transition(IN.denied, EVENTS.approve)).message).toMatch(/^cannot approve approval/);
    expect(refused(transition(IN.denied, EVENTS.deny)).message).toMatch(/^cannot deny approval/);
    expect(refused(transition(IN.denied, EVENTS.expire)).message).toMatch(/^cannot expire approval/);
    expect(refused(transition(IN.denied, EVENTS.applied)).message).toMatch(/^cannot apply approval/);
    expect(refused(transition(IN.denied, EVENTS.stale)).message).toMatch(/^cannot mark stale approval/);
  });
});

describe('transition: what each accepted event records', () => {
  it('approve: reviewer, time and trimmed comment; everything else kept', () => {
    const next = accepted(transition(PENDING, { type: 'approve', reviewer: ' alice ', at: DECIDED, comment: '  looks good \n' }));
    expect(next).toEqual({ ...PENDING, status: 'approved', decidedBy: 'alice', decidedAt: DECIDED, comment: 'looks good' });
  });

  it('deny: reviewer and time; no comment key when none or a blank one is given', () => {
    expect(accepted(transition(PENDING, { type: 'deny', reviewer: 'bob', at: DECIDED }))).toEqual({ ...PENDING, status: 'denied', decidedBy: 'bob', decidedAt: DECIDED });
    const blank = accepted(transition(PENDING, { type: 'deny', reviewer: 'bob', at: DECIDED, comment: '   ' }));
    expect('comment' in blank).toBe(false);
  });

  it('expire: at or after expiresAt, recording when it was closed', () => {
    expect(accepted(transition(PENDING, { type: 'expire', at: EXPIRES }))).toEqual({ ...PENDING, status: 'expired', decidedAt: EXPIRES });
    expect(accepted(transition(PENDING, { type: 'expire', at: at('2031-01-01T00:00:00Z') })).status).toBe('expired');
  });

  it('expire: refused before expiresAt', () => {
    const refusal = refused(transition(PENDING, { type: 'expire', at: new Date(EXPIRES.getTime() - 1) }));
    expect(refusal.kind).toBe('conflict');
    expect(refusal.message).toBe('cannot expire approval k7p2m9xq4r at 2030-01-07T23:59:59.999Z: it is valid until 2030-01-08T00:00:00.000Z');
  });

  it('applied: the time it landed; the decision is kept', () => {
    expect(accepted(transition(IN.approved, EVENTS.applied))).toEqual({ ...IN.approved, status: 'applied', appliedAt: APPLIED });
  });

  it('stale: the time and the trimmed reason', () => {
    const next = accepted(transition(IN.approved, { type: 'stale', at: LATER, reason: ' main moved \n' }));
    expect(next).toEqual({ ...IN.approved, status: 'stale', staleAt: LATER, staleReason: 'main moved' });
  });
});

describe('transition: refusals', () => {
  it.each([
    ['approve', 'coder-bot'],
    ['deny', 'coder-bot'],
    ['approve', 'Coder-Bot'],
    ['approve', '  coder-bot  '],
  ] as const)('the pushing agent cannot %s its own hold (reviewer %j)', (type, reviewer) => {
    const refusal = refused(transition(PENDING, { type, reviewer, at: DECIDED }));
    expect(refusal.kind).toBe('self-review');
    expect(refusal.message).toBe(`${reviewer.trim()} pushed this change and cannot ${type} its own hold (approval k7p2m9xq4r); a maintainer must review it`);
  });

  it('the pushing agent is refused even on an approval already decided by someone else', () => {
    expect(refused(transition(IN.approved, { type: 'approve', reviewer: 'coder-bot', at: DECIDED })).kind).toBe('self-review');
  });

  it.each([
    ['at expiresAt', EXPIRES],
    ['after expiresAt', at('2030-02-01T00:00:00Z')],
  ])('approving %s is refused, saying it expired', (_name, when) => {
    const refusal = refused(transition(PENDING, { type: 'approve', reviewer: 'alice', at: when }));
    expect(refusal.kind).toBe('expired');
    expect(refusal.message).toBe('approval k7p2m9xq4r expired at 2030-01-08T00:00:00.000Z and can no longer be decided; the agent must push again to ask anew');
  });

  it('denying after expiresAt is refused the same way (the hold expires, it is not denied)', () => {
    expect(refused(transition(PENDING, { type: 'deny', reviewer: 'bob', at: EXPIRES })).kind).toBe('expired');
  });

  it('approving one millisecond before expiresAt is accepted', () => {
    expect(accepted(transition(PENDING, { type: 'approve', reviewer: 'alice', at: new Date(EXPIRES.getTime() - 1) })).status).toBe('approved');
  });

  it.each(['', '   '])('a reviewer must be named (%j)', (reviewer) => {
    const refusal = refused(transition(PENDING, { type: 'approve', reviewer, at: DECIDED }));
    expect(refusal.kind).toBe('invalid');
    expect(refusal.message).toBe('cannot approve approval k7p2m9xq4r: no reviewer given');
  });

  it('a stale transition must say why', () => {
    const refusal = refused(transition(IN.approved, { type: 'stale', at: LATER, reason: ' ' }));
    expect(refusal.kind).toBe('invalid');
    expect(refusal.message).toContain('without saying why');
  });

  it.each(Object.values(EVENTS))('an event without a valid time is refused ($type)', (event) => {
    const refusal = refused(transition(PENDING, { ...event, at: new Date(Number.NaN) }));
    expect(refusal.kind).toBe('invalid');
    expect(refusal.message).toContain('no valid time');
  });

  it('describes a final state even when the record lacks its times', () => {
    const { staleAt: _staleAt, ...noTime } = IN.stale;
    expect(refused(transition(noTime, EVENTS.approve)).message).toContain('it went stale: refs/heads/main moved');
    const { decidedAt: _decidedAt, ...denied } = IN.denied;
    expect(refused(transition(denied, EVENTS.approve)).message).toContain('denied by bob at (unknown time)');
  });
});

describe('final states', () => {
  it.each([
    ['pending', false],
    ['approved', false],
    ['denied', true],
    ['expired', true],
    ['applied', true],
    ['stale', true],
  ] as const)('%s final: %s', (status, final) => {
    expect(isFinal(status)).toBe(final);
    expect(FINAL_STATUSES.includes(status)).toBe(final);
  });
});
