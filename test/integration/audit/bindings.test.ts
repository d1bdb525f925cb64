/**
 * Records bound into the audit chain by sha256 (statement batches, git request details): the chain
 * verifies while they are untouched, and names the binding event once one is changed or deleted.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDbSessionLog, createSessionRecorder } from '../../../src/audit/index.ts';
import { createAuditLog, type AuditLog } from '../../../src/audit/chain-store/index.ts';
import { generateSigningKey } from '../../../src/audit/chain/index.ts';
import { systemClock } from '../../../src/clock.ts';
import { openStore, type Store } from '../../../src/store/index.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let store: Store;
let audit: AuditLog;
const log = pino({ level: 'silent' });

beforeAll(async () => {
  database = await createTestDatabase();
  store = await openStore({ kind: 'postgres', url: database.url });
  const key = generateSigningKey();
  audit = createAuditLog(store.db, systemClock, { signingKey: createPrivateKey(key.privateKeyPem), publicKey: createPublicKey(key.publicKeyPem), checkpointEvery: 50, checkpointIntervalMs: 60_000, log });
});
afterAll(async () => {
  await audit?.close();
  await store?.close();
  await database?.drop();
});

const statement = (text: string, verdict: 'allow' | 'block' = 'allow') => ({
  protocol: 'simple',
  text,
  verdict,
  rule: verdict === 'block' ? 'drop' : null,
  reason: null,
  approvalId: null,
  startedAt: new Date(),
  durationMs: 1,
  commandTag: verdict === 'allow' ? 'SELECT 1' : null,
  rowsReturned: 1,
  rowsAffected: 1,
  maskedColumns: [],
  maskedValues: 0,
  parameters: null,
  errorCode: null,
  errorMessage: null,
  rows: null,
});

describe('records bound into the audit chain', () => {
  it('statement batches and git request details verify untouched, and an edit or deletion names the binding event', async () => {
    const sessions = createDbSessionLog(store.db, systemClock, log, audit);
    const sessionId = await sessions.open({ agent: 'coder', authMethod: 'scram', sourceAddress: '127.0.0.1', database: 'app', applicationName: null, readOnly: false, tls: false });
    const recorder = sessions.statements(sessionId);
    recorder.record(statement('select 1'));
    recorder.record(statement('drop table t', 'block'));
    await sessions.close(sessionId, { outcome: 'ok', error: null, bytesIn: 10, bytesOut: 20 });

    const git = createSessionRecorder(store.db, systemClock, audit);
    const gitSession = await git.startSession({ kind: 'git', agent: 'coder', authMethod: 'token', sourceAddress: '127.0.0.1', userAgent: 'git/2', remote: 'local', owner: 'acme', repo: 'app', service: 'git-upload-pack', protocolVersion: 2 });
    const requestId = await git.startRequest({ sessionId: gitSession, method: 'POST', endpoint: 'git-upload-pack' });
    await git.finishRequest(requestId, { httpStatus: 200, durationMs: 5, outcome: 'ok', bytesIn: 1, bytesOut: 2, details: { wants: ['a'.repeat(40)] } });

    const intact = await audit.verify();
    expect(intact.problem).toBeNull();
    expect(intact.ok).toBe(true);

    await store.db.execute(sql`update db_statement_batches set statements = ${JSON.stringify([{ seq: 1, startedAt: new Date().toISOString(), durationMs: 1, text: 'select 1' }])}::json where session_id = ${sessionId}`);
    const edited = await audit.verify();
    expect(edited.ok).toBe(false);
    expect(edited.problem?.kind).toBe('modified');
    expect(edited.problem?.message).toMatch(new RegExp(`statements 1\\.\\.2 of database session ${sessionId} were changed after they were recorded \\(bound by audit event \\d+\\)`));

    await store.db.execute(sql`delete from db_statement_batches where session_id = ${sessionId}`);
    expect((await audit.verify()).problem?.message).toMatch(/were deleted after they were recorded/);
  });

  it('a git request whose recorded details change is named', async () => {
    const fresh = await createTestDatabase();
    const freshStore = await openStore({ kind: 'postgres', url: fresh.url });
    const key = generateSigningKey();
    const freshAudit = createAuditLog(freshStore.db, systemClock, { signingKey: createPrivateKey(key.privateKeyPem), publicKey: createPublicKey(key.publicKeyPem), checkpointEvery: 50, checkpointIntervalMs: 60_000, log });
    try {
      const git = createSessionRecorder(freshStore.db, systemClock, freshAudit);
      const session = await git.startSession({ kind: 'git', agent: 'coder', authMethod: 'token', sourceAddress: '127.0.0.1', userAgent: null, remote: 'local', owner: 'acme', repo: 'app', service: 'git-receive-pack', protocolVersion: 0 });
      const request = await git.startRequest({ sessionId: session, method: 'POST', endpoint: 'git-receive-pack' });
      await git.finishRequest(request, { httpStatus: 200, durationMs: 5, outcome: 'denied', bytesIn: 1, bytesOut: 2, details: { refUpdates: [{ ref: 'refs/heads/main', decision: 'block' }] } });
      expect((await freshAudit.verify()).ok).toBe(true);
      await freshStore.db.execute(sql`update session_requests set details = ${JSON.stringify({ refUpdates: [{ ref: 'refs/heads/main', decision: 'allow' }] })}::jsonb where id = ${request}`);
      const result = await freshAudit.verify();
      expect(result.ok).toBe(false);
      expect(result.problem?.message).toMatch(new RegExp(`git request ${request} of session ${session} was changed after it was recorded`));
    } finally {
      await freshAudit.close();
      await freshStore.close();
      await fresh.drop();
    }
  });
});
