/** `portcullis audit pubkey | verify | export` through the real bin, on an embedded store with no gateway running. */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog, loadOrCreateSigningKey, type SigningKey } from '../../../src/audit/chain-store/index.ts';
import { openStore } from '../../../src/store/index.ts';
import { runCli } from '../../helpers/gateway.ts';
import { cleanupTempDirs, makeTempDir } from '../../helpers/repos.ts';
import { cleanPortcullisEnv } from '../../helpers/serve-process.ts';

let dir: string;
let dataDir: string;
let env: NodeJS.ProcessEnv;
let key: SigningKey;

async function withStore<T>(use: (db: Awaited<ReturnType<typeof openStore>>['db']) => Promise<T>): Promise<T> {
  const store = await openStore({ kind: 'pglite', dataDir });
  try {
    return await use(store.db);
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  dir = (await makeTempDir('audit-cli')).path;
  dataDir = path.join(dir, 'data');
  const config = path.join(dir, 'portcullis.yml');
  await writeFile(config, 'dataDir: ./data\nremotes: [{ name: local, url: "http://127.0.0.1:9" }]\n');
  env = cleanPortcullisEnv({ PORTCULLIS_CONFIG: config });
  key = await loadOrCreateSigningKey(path.join(dataDir, 'audit-signing-key.pem'));
  await withStore(async (db) => {
    const log = createAuditLog(db, { now: () => new Date() }, { signingKey: key.privateKey, publicKey: key.publicKey, checkpointEvery: 10, checkpointIntervalMs: 60_000, log: pino({ level: 'silent' }) });
    for (let i = 0; i < 30; i += 1) await log.append({ type: 'test.event', actor: 'agent', subject: 'acme/app', data: { i } });
    await log.close();
  });
}, 60_000);
afterAll(() => cleanupTempDirs());

describe('portcullis audit', () => {
  it('pubkey prints the SPKI PEM of the signing key', async () => {
    const result = await runCli(['audit', 'pubkey'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(key.publicKeyPem);
  });

  it('verify exits 0 with a one-line summary when intact', async () => {
    const result = await runCli(['audit', 'verify'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // 30 events, an `audit.checkpoint` event after every 10th: checkpoints at 11, 22 and 33.
    expect(result.stdout).toBe('audit chain intact: 33 events (seq 1..33), 3 checkpoints, last checkpoint at seq 33\n');
  });

  it('export writes JSONL that verify --file checks offline, and a modified line fails it', async () => {
    const file = path.join(dir, 'export.jsonl');
    const exported = await runCli(['audit', 'export', '--format', 'jsonl', '--out', file], env);
    expect(exported.code).toBe(0);
    const pubkey = path.join(dir, 'pub.pem');
    await writeFile(pubkey, key.publicKeyPem);
    const ok = await runCli(['audit', 'verify', '--file', file, '--pubkey', pubkey], { ...env, PORTCULLIS_CONFIG: path.join(dir, 'nowhere.yml') });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('audit chain intact: 33 events (seq 1..33), 3 checkpoints');

    const lines = (await readFile(file, 'utf8')).split('\n');
    const tampered = lines.map((line) => (line.includes('"seq":7,') ? line.replace(/"i":\d+/, '"i":999') : line));
    const bad = path.join(dir, 'tampered.jsonl');
    await writeFile(bad, tampered.join('\n'));
    const broken = await runCli(['audit', 'verify', '--file', bad, '--pubkey', pubkey], env);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/event 7 /);

    const stdout = await runCli(['audit', 'export', '--format', 'jsonl'], env);
    expect(stdout.code).toBe(0);
    expect(stdout.stdout.split('\n').filter(Boolean)).toHaveLength(1 + 33 + 3);
  });

  it('verify exits 1 naming the event after a change through SQL', async () => {
    await withStore((db) => db.execute(sql`update audit_events set data = '{"i": 1000}' where seq = 5`));
    const result = await runCli(['audit', 'verify'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/event 5 was modified/);
    const from = await runCli(['audit', 'verify', '--from', '12'], env);
    expect(from.code).toBe(0);
    expect(from.stdout).toContain('(seq 12..33)');
  });
});
