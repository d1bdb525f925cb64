import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPgProxy, type PgProxyFixture } from '../../helpers/pg-proxy.ts';

/**
 * Who may connect through the PostgreSQL proxy and with what: read-only scopes, revoked and expired
 * tokens, a token presented under another agent's name, and TLS on the listener.
 */

const SETUP = `
  create table items (id int primary key, name text not null);
  insert into items values (1, 'one'), (2, 'two');
`;

/** No TLS on the listener. */
let fx: PgProxyFixture;
/** listen.pgTls with a self-signed certificate. */
let tlsFx: PgProxyFixture;
let certDir: string;

beforeAll(async () => {
  certDir = await mkdtemp(path.join(tmpdir(), 'portcullis-pgtls-'));
  const cert = path.join(certDir, 'c.pem');
  const key = path.join(certDir, 'k.pem');
  await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost']);
  [fx, tlsFx] = await Promise.all([startPgProxy({ setupSql: SETUP }), startPgProxy({ setupSql: SETUP, config: { listen: { pgTls: { cert, key } } } })]);
});
afterAll(async () => {
  await Promise.all([fx?.stop(), tlsFx?.stop()]);
  if (certDir) await rm(certDir, { recursive: true, force: true });
});

/** A node-postgres client as `user` with `password`, connected (or the connection error). */
async function connectAs(fixture: PgProxyFixture, user: string, password: string, extra: Partial<pg.ClientConfig> = {}): Promise<pg.Client> {
  const client = new pg.Client({ host: '127.0.0.1', port: fixture.port, user, password, database: 'app', connectionTimeoutMillis: 15_000, ...extra });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

async function errorOf(promise: Promise<unknown>): Promise<Error & { code?: string; severity?: string }> {
  return promise.then(
    () => {
      throw new Error('expected an error, but it succeeded');
    },
    (error: Error & { code?: string; severity?: string }) => error,
  );
}

describe('PostgreSQL proxy: read-only scope (--db-read)', () => {
  let readerToken: string;
  beforeAll(async () => {
    readerToken = await fx.gateway.addAgent('reader', { dbRead: ['app'] });
  });

  it('selects, but the server refuses writes as in a read-only transaction (25006)', async () => {
    const client = await connectAs(fx, 'reader', readerToken);
    try {
      expect((await client.query('select count(*)::int as n from items')).rows[0].n).toBe(2);
      const insert = await errorOf(client.query("insert into items values (3, 'three')"));
      expect(insert.code).toBe('25006');
      expect(insert.message).toMatch(/cannot execute INSERT in a read-only transaction/);
      // A transaction block does not change that.
      await client.query('begin');
      expect((await errorOf(client.query('delete from items where id = 1'))).code).toBe('25006');
      await client.query('rollback');
    } finally {
      await client.end();
    }
    const rows = await fx.direct`select count(*)::int as n from items`;
    expect(rows[0]!.n).toBe(2);
  });

  it.each([
    ['set default_transaction_read_only = off'],
    ['set session characteristics as transaction read write'],
    ['begin read write'],
    ['start transaction read write'],
    ["select set_config('default_transaction_read_only','off',false)"],
  ])('the gateway refuses %s, and the session stays read-only', async (statement) => {
    const client = await connectAs(fx, 'reader', readerToken);
    try {
      const refused = await errorOf(client.query(statement));
      expect(refused.code).toBe('42501');
      expect(refused.message).toMatch(/^portcullis blocked this statement \(rule read-only-session\)/);
      expect(refused.message).toMatch(/read-only/);
      await client.query('rollback').catch(() => undefined);
      expect((await errorOf(client.query("insert into items values (4, 'four')"))).code).toBe('25006');
    } finally {
      await client.end();
    }
  });

  it('RESET ALL and DISCARD ALL do not lift the read-only mode', async () => {
    const client = await connectAs(fx, 'reader', readerToken);
    try {
      await client.query('reset all');
      expect((await errorOf(client.query("insert into items values (5, 'five')"))).code).toBe('25006');
      await client.query('discard all');
      expect((await errorOf(client.query("insert into items values (5, 'five')"))).code).toBe('25006');
    } finally {
      await client.end();
    }
  });

  it('a startup option cannot turn the read-only mode off', async () => {
    const result = await fx.psql(['-c', "insert into items values (6, 'six')"], { user: 'reader', password: readerToken, env: { PGOPTIONS: '-c default_transaction_read_only=off' } });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/startup parameter "default_transaction_read_only" is not allowed through portcullis/);
    const rows = await fx.direct`select count(*)::int as n from items where id = 6`;
    expect(rows[0]!.n).toBe(0);
  });

  // Only changing the mode is refused: reading it, or the words in a string literal, is not.
  it.each([
    ['show default_transaction_read_only', 'on'],
    ["select current_setting('transaction_read_only') as value", 'on'],
    ["select 'set_config' as value", 'set_config'],
    ["select count(*)::text as value from items where name = 'default_transaction_read_only'", '0'],
  ])('a read-only agent may run %s', async (statement, expected) => {
    const client = await connectAs(fx, 'reader', readerToken);
    try {
      const result = await client.query(statement);
      expect(Object.values(result.rows[0] as Record<string, unknown>)).toEqual([expected]);
    } finally {
      await client.end();
    }
  });
});

describe('PostgreSQL proxy: tokens', () => {
  it('a revoked agent is refused at its next connection with 28P01 naming the revocation', async () => {
    const token = await fx.gateway.addAgent('temp', { db: ['app'] });
    const before = await connectAs(fx, 'temp', token);
    expect((await before.query('select 1 as one')).rows[0].one).toBe(1);
    await before.end();

    const revoked = await fx.gateway.cli(['agent', 'revoke', 'temp']);
    expect(revoked.code, revoked.stderr).toBe(0);
    const refused = await errorOf(connectAs(fx, 'temp', token));
    expect(refused.code).toBe('28P01');
    expect(refused.severity).toBe('FATAL');
    expect(refused.message).toMatch(/^password authentication failed for user "temp": the token of agent temp was revoked at /);
    const psql = await fx.psql(['-c', 'select 1'], { user: 'temp', password: token });
    expect(psql.code).not.toBe(0);
    expect(psql.stderr).toMatch(/was revoked/);
  });

  it('an expired token is refused', async () => {
    const token = await fx.gateway.addAgent('shortlived', { db: ['app'], expires: '1s' });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const refused = await errorOf(connectAs(fx, 'shortlived', token));
    expect(refused.code).toBe('28P01');
    expect(refused.message).toMatch(/^password authentication failed for user "shortlived": the token of agent shortlived expired at /);
  });

  it("another agent's token under the wrong user name is refused both ways; each works under its own name", async () => {
    const otherToken = await fx.gateway.addAgent('other', { db: ['app'] });
    const asCoder = await errorOf(connectAs(fx, 'coder', otherToken));
    expect(asCoder.code).toBe('28P01');
    expect(asCoder.message).toMatch(/^password authentication failed for user "coder"/);
    const asOther = await errorOf(connectAs(fx, 'other', fx.token));
    expect(asOther.code).toBe('28P01');
    expect(asOther.message).toMatch(/^password authentication failed for user "other"/);

    const other = await connectAs(fx, 'other', otherToken);
    expect((await other.query('select current_user is not null as ok')).rows[0].ok).toBe(true);
    await other.end();
    expect((await fx.psql(['-At', '-c', 'select 7'])).stdout.trim()).toBe('7');
  });
});

describe('PostgreSQL proxy: TLS', () => {
  it('psql with sslmode=require gets TLS, and the session is recorded with tls true', async () => {
    const result = await tlsFx.psql(['-c', '\\conninfo', '-c', 'select count(*) from items'], { env: { PGSSLMODE: 'require', PGAPPNAME: 'tls-check' } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/SSL connection \(protocol: TLSv1\.[23]/);
    expect(result.stdout).toMatch(/\b2\b/);

    const list = await tlsFx.gateway.cli(['sessions', 'list', '--kind', 'database', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const session = (JSON.parse(list.stdout) as Array<{ id: string; applicationName: string | null }>).find((s) => s.applicationName === 'tls-check');
    expect(session).toBeDefined();
    const show = await tlsFx.gateway.cli(['sessions', 'show', session!.id, '--json']);
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout).session).toMatchObject({ tls: true, agent: 'coder', authMethod: 'scram', outcome: 'ok' });
  });

  it('node-postgres over TLS works, and a plaintext connection to the TLS listener still does', async () => {
    const secure = await connectAs(tlsFx, 'coder', tlsFx.token, { ssl: { rejectUnauthorized: false } });
    expect((await secure.query('select 1 as one')).rows[0].one).toBe(1);
    await secure.end();
    const plain = await tlsFx.psql(['-At', '-c', 'select 3'], { env: { PGSSLMODE: 'disable' } });
    expect(plain.stdout.trim()).toBe('3');
  });

  it('without listen.pgTls, sslmode=require fails with a clear psql error', async () => {
    const result = await fx.psql(['-c', 'select 1'], { env: { PGSSLMODE: 'require' } });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/server does not support SSL, but SSL was required/);
    expect((await fx.psql(['-At', '-c', 'select 1'], { env: { PGSSLMODE: 'prefer' } })).stdout.trim()).toBe('1');
  });
});
