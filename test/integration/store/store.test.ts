import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionRecorder } from '../../../src/audit/index.ts';
import type { Clock } from '../../../src/clock.ts';
import { addAgent, createAuthenticator, issueAdminToken, listAgents, revokeAgent } from '../../../src/identity/index.ts';
import { openStore, type Store, type StoreTarget } from '../../../src/store/index.ts';
import { createTestDatabase, postgresAvailable } from '../../helpers/postgres.ts';

/** A clock the test moves by hand. */
function manualClock(start = '2026-01-01T00:00:00Z'): Clock & { advance(ms: number): void } {
  let now = new Date(start).getTime();
  return { now: () => new Date(now), advance: (ms) => (now += ms) };
}

const pgUp = await postgresAvailable();
if (!pgUp && process.env.CI) throw new Error('CI must provide PostgreSQL at 127.0.0.1:5432');

interface Target {
  name: string;
  open(): Promise<{ target: StoreTarget; cleanup(): Promise<void> }>;
}

const targets: Target[] = [
  {
    name: 'pglite',
    async open() {
      const dir = await mkdtemp(path.join(tmpdir(), 'portcullis-store-'));
      return { target: { kind: 'pglite', dataDir: dir }, cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  ...(pgUp
    ? [
        {
          name: 'postgresql',
          async open() {
            const database = await createTestDatabase();
            return { target: { kind: 'postgres', url: database.url } as StoreTarget, cleanup: database.drop };
          },
        },
      ]
    : []),
];

describe.each(targets)('store on $name', (backend) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let target: StoreTarget;
  const clock = manualClock();

  beforeAll(async () => {
    ({ target, cleanup } = await backend.open());
    store = await openStore(target);
  });
  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });

  it('applies migrations idempotently (a second open finds nothing to do)', async () => {
    if (target.kind === 'pglite') return; // PGlite admits one process: re-opening is covered by the lock test
    const again = await openStore(target);
    await again.close();
  });

  it('issues agent tokens, stores only their hash, authenticates and revokes at once', async () => {
    const { token, agent } = await addAgent(store.db, clock, { name: 'bot', read: ['local/acme/*'], write: [] });
    expect(token).toMatch(/^pcl_agent_[A-Za-z0-9_-]{43}$/);
    expect(agent.status).toBe('active');
    const raw = JSON.stringify(await store.db.query.agents.findMany());
    expect(raw).not.toContain(token);

    const auth = createAuthenticator({ db: store.db, clock, oidc: null });
    expect(await auth.authenticateAgent(token)).toMatchObject({ agent: 'bot', authMethod: 'token', scopes: { read: ['local/acme/*'] } });
    await expect(addAgent(store.db, clock, { name: 'bot', read: [], write: [] })).rejects.toMatchObject({ code: 'AGENT_EXISTS' });

    await revokeAgent(store.db, clock, 'bot');
    await expect(auth.authenticateAgent(token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    const again = await addAgent(store.db, clock, { name: 'bot', read: [], write: ['local/acme/app'] });
    expect(await auth.authenticateAgent(again.token)).toMatchObject({ agent: 'bot' });
    expect((await listAgents(store.db, clock)).filter((a) => a.name === 'bot').map((a) => a.status).sort()).toEqual(['active', 'revoked']);
  });

  it('refuses expired, unknown and admin tokens for agents', async () => {
    const auth = createAuthenticator({ db: store.db, clock, oidc: null });
    const { token } = await addAgent(store.db, clock, { name: 'short', read: ['a/b/c'], write: [], expiresInMs: 60_000 });
    await expect(auth.authenticateAgent(token)).resolves.toMatchObject({ agent: 'short' });
    clock.advance(61_000);
    await expect(auth.authenticateAgent(token)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
    await expect(auth.authenticateAgent('pcl_agent_' + 'x'.repeat(43))).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    await expect(auth.authenticateAgent(null)).rejects.toMatchObject({ code: 'AUTH_REQUIRED' });
    const admin = await issueAdminToken(store.db, clock);
    await expect(auth.authenticateAgent(admin.token)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    await expect(auth.authenticateAdmin(admin.token)).resolves.toBeUndefined();
    await expect(auth.authenticateAdmin(token)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('records sessions with their requests and filters them by agent and repo', async () => {
    const recorder = createSessionRecorder(store.db, clock);
    const base = { kind: 'git' as const, authMethod: 'token' as const, sourceAddress: '127.0.0.1', userAgent: 'git/2.39', service: 'git-upload-pack', protocolVersion: 2, remote: 'local' };
    const first = await recorder.startSession({ ...base, agent: 'alice', owner: 'acme', repo: 'app' });
    const request = await recorder.startRequest({ sessionId: first, method: 'POST', endpoint: 'git-upload-pack' });
    const inFlight = await recorder.getSession(first);
    expect(inFlight.requests[0]).toMatchObject({ outcome: 'in_progress' });
    await recorder.finishRequest(request, { httpStatus: 200, outcome: 'ok', bytesIn: 10, bytesOut: 2000, durationMs: 5, details: { wantCount: 1 } });
    clock.advance(1);
    await recorder.startSession({ ...base, agent: 'bob', owner: 'acme', repo: 'lib' });

    const all = await recorder.listSessions({});
    expect(all.map((s) => s.session.agent).slice(0, 2)).toEqual(['bob', 'alice']);
    expect((await recorder.listSessions({ agent: 'alice' })).map((s) => s.session.id)).toEqual([first]);
    expect((await recorder.listSessions({ repo: 'acme/lib' })).map((s) => s.session.agent)).toEqual(['bob']);
    expect((await recorder.listSessions({ repo: 'local/acme/app' })).map((s) => s.session.agent)).toEqual(['alice']);
    const shown = await recorder.getSession(first);
    expect(shown.requests).toEqual([expect.objectContaining({ httpStatus: 200, outcome: 'ok', bytesIn: 10, bytesOut: 2000, details: { wantCount: 1 } })]);
    await expect(recorder.getSession('nope')).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
  });
});

describe('embedded store lock', () => {
  it('refuses a second process-level open of the same data directory with a clear message', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'portcullis-lock-'));
    const store = await openStore({ kind: 'pglite', dataDir: dir });
    try {
      // The lock names our own (live) pid, exactly as a running gateway's would.
      await expect(openStore({ kind: 'pglite', dataDir: dir })).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
        userMessage: expect.stringContaining(`in use by another portcullis process (pid ${process.pid})`),
      });
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
