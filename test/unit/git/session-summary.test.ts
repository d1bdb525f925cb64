import { describe, expect, it } from 'vitest';
import type { RecordedRequest, RecordedSession } from '../../../src/audit/index.ts';
import { summarizeGitSession } from '../../../src/git/index.ts';
import type { GitOperation } from '../../../src/git/index.ts';
import type { RequestOutcome } from '../../../src/store/index.ts';

const T0 = Date.parse('2024-01-01T00:00:00.000Z');
const OID_A = 'a'.repeat(40);
const OID_B = 'b'.repeat(40);
const ZERO = '0'.repeat(40);

function session(overrides: Partial<RecordedSession> = {}): RecordedSession {
  return {
    id: 's1',
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
    startedAt: new Date(T0),
    ...overrides,
  };
}

let nextId = 0;
/** A row as the recorder returns it; `at` is ms after T0. */
function request(endpoint: string, at: number, overrides: Partial<RecordedRequest> = {}): RecordedRequest {
  return {
    id: `r${nextId++}`,
    method: endpoint === 'info/refs' ? 'GET' : 'POST',
    endpoint,
    startedAt: new Date(T0 + at),
    durationMs: 10,
    httpStatus: 200,
    outcome: 'ok',
    bytesIn: 0,
    bytesOut: 0,
    details: {},
    ...overrides,
  };
}

describe('summarizeGitSession: operation', () => {
  const cases: Array<{ what: string; service: string; requests: RecordedRequest[]; operation: GitOperation }> = [
    {
      what: 'a receive-pack session is a push',
      service: 'git-receive-pack',
      requests: [request('info/refs', 0), request('git-receive-pack', 20, { details: { refUpdates: [], refUpdateCount: 0 } })],
      operation: 'push',
    },
    {
      what: 'a receive-pack session with only info/refs is still a push',
      service: 'git-receive-pack',
      requests: [request('info/refs', 0)],
      operation: 'push',
    },
    {
      what: 'v2 ls-refs then fetch with wants and no haves is a clone',
      service: 'git-upload-pack',
      requests: [
        request('info/refs', 0),
        request('git-upload-pack', 20, { details: { command: 'ls-refs', wantCount: 0, haveCount: 0, refPrefixes: ['HEAD'] } }),
        request('git-upload-pack', 40, { details: { command: 'fetch', wantCount: 3, haveCount: 0 } }),
      ],
      operation: 'clone',
    },
    {
      what: 'a v0 want list with no haves is a clone',
      service: 'git-upload-pack',
      requests: [request('info/refs', 0), request('git-upload-pack', 20, { details: { wantCount: 2, haveCount: 0 } })],
      operation: 'clone',
    },
    {
      what: 'wants with haves (in any round) is a fetch',
      service: 'git-upload-pack',
      requests: [
        request('info/refs', 0),
        request('git-upload-pack', 20, { details: { command: 'ls-refs', wantCount: 0, haveCount: 0 } }),
        request('git-upload-pack', 40, { details: { command: 'fetch', wantCount: 1, haveCount: 0 } }),
        request('git-upload-pack', 60, { details: { command: 'fetch', wantCount: 1, haveCount: 32 } }),
      ],
      operation: 'fetch',
    },
    {
      what: 'v2 ls-refs alone is an ls-remote',
      service: 'git-upload-pack',
      requests: [request('info/refs', 0), request('git-upload-pack', 20, { details: { command: 'ls-refs', wantCount: 0, haveCount: 0 } })],
      operation: 'ls-remote',
    },
    {
      what: 'v0 info/refs alone is an ls-remote',
      service: 'git-upload-pack',
      requests: [request('info/refs', 0)],
      operation: 'ls-remote',
    },
    {
      what: 'haves on info/refs details do not count (only POSTs are read)',
      service: 'git-upload-pack',
      requests: [request('info/refs', 0, { details: { wantCount: 1, haveCount: 1 } })],
      operation: 'ls-remote',
    },
    {
      what: 'a POST whose body did not parse is no fetch',
      service: 'git-upload-pack',
      requests: [request('info/refs', 0), request('git-upload-pack', 20, { details: { unparsed: 'pkt-line length "GET " is not 4 hex digits' } })],
      operation: 'ls-remote',
    },
    {
      what: 'no requests at all is an ls-remote',
      service: 'git-upload-pack',
      requests: [],
      operation: 'ls-remote',
    },
  ];

  it.each(cases)('$what', ({ service, requests, operation }) => {
    expect(summarizeGitSession(session({ service }), requests).operation).toBe(operation);
  });
});

describe('summarizeGitSession: outcome', () => {
  const cases: Array<{ outcomes: RequestOutcome[]; expected: RequestOutcome }> = [
    { outcomes: ['ok', 'ok'], expected: 'ok' },
    { outcomes: ['ok', 'in_progress'], expected: 'in_progress' },
    { outcomes: ['ok', 'aborted', 'in_progress'], expected: 'aborted' },
    { outcomes: ['aborted', 'client_error'], expected: 'client_error' },
    { outcomes: ['client_error', 'upstream_error', 'ok'], expected: 'upstream_error' },
    { outcomes: ['ok', 'upstream_error', 'denied'], expected: 'denied' },
    { outcomes: ['denied', 'ok'], expected: 'denied' },
    { outcomes: [], expected: 'in_progress' },
  ];

  it.each(cases)('$outcomes → $expected (the worst wins, in any order)', ({ outcomes, expected }) => {
    const forward = outcomes.map((outcome, i) => request(i === 0 ? 'info/refs' : 'git-upload-pack', i * 10, { outcome }));
    expect(summarizeGitSession(session(), forward).outcome).toBe(expected);
    expect(summarizeGitSession(session(), [...forward].reverse()).outcome).toBe(expected);
  });
});

describe('summarizeGitSession: totals and timing', () => {
  it('sums bytes, counts requests, takes the last status and spans first start to last end', () => {
    const requests = [
      request('info/refs', 0, { durationMs: 15, bytesIn: 0, bytesOut: 400, httpStatus: 200 }),
      request('git-upload-pack', 30, { durationMs: 20, bytesIn: 150, bytesOut: 1_000, httpStatus: 200 }),
      request('git-upload-pack', 60, { durationMs: 500, bytesIn: 300, bytesOut: 5_000_000_000, httpStatus: 500, outcome: 'upstream_error' }),
    ];
    expect(summarizeGitSession(session(), requests)).toMatchObject({
      requests: 3,
      bytesIn: 450,
      bytesOut: 5_000_001_400,
      httpStatus: 500,
      durationMs: 560,
      outcome: 'upstream_error',
      startedAt: '2024-01-01T00:00:00.000Z',
    });
  });

  it('measures to the latest end, even when an earlier request finished last', () => {
    const requests = [request('info/refs', 0, { durationMs: 1_000 }), request('git-upload-pack', 10, { durationMs: 5 })];
    expect(summarizeGitSession(session(), requests).durationMs).toBe(1_000);
  });

  it('is empty but well-formed with no requests', () => {
    expect(summarizeGitSession(session(), [])).toMatchObject({
      requests: 0,
      bytesIn: 0,
      bytesOut: 0,
      httpStatus: 0,
      durationMs: 0,
      outcome: 'in_progress',
      refsWanted: [],
      refPrefixes: [],
      refUpdates: [],
    });
  });

  it('copies the session identity and joins remote/owner/repo', () => {
    const summary = summarizeGitSession(
      session({ id: 'abc', agent: 'bot', authMethod: 'oidc', sourceAddress: '10.0.0.7', userAgent: null, protocolVersion: 0 }),
      [],
    );
    expect(summary).toMatchObject({
      id: 'abc',
      agent: 'bot',
      authMethod: 'oidc',
      sourceAddress: '10.0.0.7',
      userAgent: null,
      repo: 'github/acme/app',
      service: 'git-upload-pack',
      protocolVersion: 0,
    });
  });
});

describe('summarizeGitSession: what was asked', () => {
  it('collects ref prefixes and wanted refs once each, in order, from POSTs only', () => {
    const requests = [
      request('info/refs', 0, { details: { refPrefixes: ['refs/ignored/'] } }),
      request('git-upload-pack', 10, { details: { command: 'ls-refs', refPrefixes: ['HEAD', 'refs/heads/'] } }),
      request('git-upload-pack', 20, { details: { command: 'fetch', wantCount: 1, wantRefs: ['refs/heads/main'], refPrefixes: [] } }),
      request('git-upload-pack', 30, { details: { command: 'ls-refs', refPrefixes: ['refs/heads/', 'refs/tags/'] } }),
      request('git-upload-pack', 40, { details: { command: 'fetch', wantCount: 1, wantRefs: ['refs/heads/main', 'refs/heads/dev'] } }),
    ];
    const summary = summarizeGitSession(session(), requests);
    expect(summary.refPrefixes).toEqual(['HEAD', 'refs/heads/', 'refs/tags/']);
    expect(summary.refsWanted).toEqual(['refs/heads/main', 'refs/heads/dev']);
  });

  it('lists every ref update of a push, in wire order', () => {
    const updates = [
      { oldOid: OID_A, newOid: OID_B, ref: 'refs/heads/main' },
      { oldOid: OID_A, newOid: ZERO, ref: 'refs/heads/topic' },
    ];
    const more = [{ oldOid: ZERO, newOid: OID_B, ref: 'refs/heads/feature' }];
    const summary = summarizeGitSession(session({ service: 'git-receive-pack' }), [
      request('info/refs', 0),
      request('git-receive-pack', 10, { details: { refUpdates: updates, refUpdateCount: 2 } }),
      request('git-receive-pack', 20, { details: { refUpdates: more, refUpdateCount: 1 } }),
    ]);
    expect(summary.operation).toBe('push');
    expect(summary.refUpdates).toEqual([...updates, ...more]);
  });
});
