import { describe, expect, it } from 'vitest';
import type { SessionRecorder, SessionStart } from '../../../src/audit/index.ts';
import type { Clock } from '../../../src/clock.ts';
import { createSessionTracker } from '../../../src/git/session-tracker.ts';

const IDLE_MS = 1_000;

/** A clock that moves only when told. */
function manualClock(start = Date.parse('2024-01-01T00:00:00Z')): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => new Date(now),
    advance(ms) {
      now += ms;
    },
  };
}

/** Records the sessions started; everything else is not the tracker's business. */
function fakeRecorder(): SessionRecorder & { started: SessionStart[]; failNext: boolean } {
  const started: SessionStart[] = [];
  const unused = () => Promise.reject(new Error('not used by the tracker'));
  return {
    started,
    failNext: false,
    async startSession(start) {
      if (this.failNext) {
        this.failNext = false;
        throw new Error('store down');
      }
      started.push(start);
      return `session-${started.length}`;
    },
    startRequest: unused,
    finishRequest: unused,
    listSessions: unused,
    getSession: unused,
    recordFindings: unused,
  };
}

const base: SessionStart = {
  kind: 'git',
  agent: 'claude-ci',
  authMethod: 'token',
  sourceAddress: '127.0.0.1',
  userAgent: 'git/2.39.5',
  remote: 'github',
  owner: 'acme',
  repo: 'app',
  service: 'git-upload-pack',
  protocolVersion: 2,
};

function setup() {
  const clock = manualClock();
  const recorder = fakeRecorder();
  const tracker = createSessionTracker(recorder, clock, IDLE_MS);
  return { clock, recorder, tracker };
}

describe('createSessionTracker', () => {
  it('info/refs opens a session and the POSTs of the same operation join it', async () => {
    const { clock, recorder, tracker } = setup();
    const opened = await tracker.sessionFor(base, true);
    clock.advance(100);
    expect(await tracker.sessionFor(base, false)).toBe(opened);
    clock.advance(100);
    expect(await tracker.sessionFor(base, false)).toBe(opened);
    expect(recorder.started).toEqual([base]);
  });

  it('joins at exactly the idle window, and each POST keeps the session alive', async () => {
    const { clock, recorder, tracker } = setup();
    const opened = await tracker.sessionFor(base, true);
    for (let i = 0; i < 5; i++) {
      clock.advance(IDLE_MS);
      expect(await tracker.sessionFor(base, false)).toBe(opened);
    }
    expect(recorder.started).toHaveLength(1);
  });

  it('a POST after the idle window opens a new session, which later POSTs join', async () => {
    const { clock, recorder, tracker } = setup();
    const opened = await tracker.sessionFor(base, true);
    clock.advance(IDLE_MS + 1);
    const late = await tracker.sessionFor(base, false);
    expect(late).not.toBe(opened);
    clock.advance(10);
    expect(await tracker.sessionFor(base, false)).toBe(late);
    expect(recorder.started).toHaveLength(2);
  });

  it('a POST with no session seen (gateway restart, another replica) opens its own', async () => {
    const { recorder, tracker } = setup();
    const id = await tracker.sessionFor(base, false);
    expect(id).toBe('session-1');
    expect(recorder.started).toEqual([base]);
  });

  it('every info/refs opens a new session, even within the window', async () => {
    const { clock, tracker } = setup();
    const first = await tracker.sessionFor(base, true);
    clock.advance(10);
    const second = await tracker.sessionFor(base, true);
    expect(second).not.toBe(first);
    clock.advance(10);
    expect(await tracker.sessionFor(base, false)).toBe(second);
  });

  it.each([
    { what: 'another agent', change: { agent: 'other-agent' } },
    { what: 'another source address', change: { sourceAddress: '10.0.0.2' } },
    { what: 'another client', change: { userAgent: 'git/2.45.0' } },
    { what: 'no client header', change: { userAgent: null } },
    { what: 'another remote', change: { remote: 'forge' } },
    { what: 'another owner', change: { owner: 'other' } },
    { what: 'another repository', change: { repo: 'web' } },
    { what: 'another service', change: { service: 'git-receive-pack' } },
  ])('$what gets a session of its own', async ({ change }) => {
    const { clock, recorder, tracker } = setup();
    const opened = await tracker.sessionFor(base, true);
    clock.advance(10);
    const other = { ...base, ...change };
    const separate = await tracker.sessionFor(other, false);
    expect(separate).not.toBe(opened);
    expect(recorder.started).toEqual([base, other]);
    // …and neither disturbs the other
    clock.advance(10);
    expect(await tracker.sessionFor(base, false)).toBe(opened);
    expect(await tracker.sessionFor(other, false)).toBe(separate);
  });

  it('does not mix up fields whose values could run together', async () => {
    const { tracker } = setup();
    const a = await tracker.sessionFor({ ...base, owner: 'ac', repo: 'meapp' }, true);
    const b = await tracker.sessionFor({ ...base, owner: 'acme', repo: 'app' }, false);
    expect(b).not.toBe(a);
  });

  it('two interleaved operations of different agents each keep their session', async () => {
    const { clock, tracker } = setup();
    const other = { ...base, agent: 'b' };
    const sessionA = await tracker.sessionFor(base, true);
    const sessionB = await tracker.sessionFor(other, true);
    for (let i = 0; i < 3; i++) {
      clock.advance(200);
      expect(await tracker.sessionFor(base, false)).toBe(sessionA);
      expect(await tracker.sessionFor(other, false)).toBe(sessionB);
    }
  });

  it('when the recorder refuses, the error reaches the caller and nothing is remembered', async () => {
    const { recorder, tracker } = setup();
    recorder.failNext = true;
    await expect(tracker.sessionFor(base, true)).rejects.toThrow('store down');
    const id = await tracker.sessionFor(base, false);
    expect(id).toBe('session-1');
    expect(recorder.started).toHaveLength(1);
  });

  it('uses a two-minute idle window by default', async () => {
    const clock = manualClock();
    const recorder = fakeRecorder();
    const tracker = createSessionTracker(recorder, clock);
    const opened = await tracker.sessionFor(base, true);
    clock.advance(120_000);
    expect(await tracker.sessionFor(base, false)).toBe(opened);
    clock.advance(120_001);
    expect(await tracker.sessionFor(base, false)).not.toBe(opened);
  });
});
