import { connect } from 'node:net';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPgProxy, type PgProxyFixture } from '../../helpers/pg-proxy.ts';

let fx: PgProxyFixture;

beforeAll(async () => {
  fx = await startPgProxy({
    setupSql: `
      create table items (id int primary key, name text not null, qty int not null default 0);
      insert into items select g, 'item ' || g, g % 7 from generate_series(1, 50) g;
    `,
  });
});
afterAll(async () => fx?.stop());

describe('PostgreSQL proxy: clients and protocols', () => {
  it('psql runs a simple query and \\d through the gateway with the agent token', async () => {
    const result = await fx.psql(['-At', '-c', 'select count(*), sum(qty) from items']);
    expect(result.stderr).toBe('');
    const direct = await fx.direct`select count(*)::int as n, sum(qty)::int as total from items`;
    expect(result.stdout.trim()).toBe(`${direct[0]!.n}|${direct[0]!.total}`);
    const describe = await fx.psql(['-c', '\\d items']);
    expect(describe.code).toBe(0);
    expect(describe.stdout).toMatch(/Table "public\.items"/);
    expect(describe.stdout).toMatch(/qty\s+\| integer/);
  });

  it('refuses a wrong token with 28P01 and an unscoped database with 42501, and stays up', async () => {
    const wrong = await fx.psql(['-c', 'select 1'], { password: 'pcl_agent_wrong' });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/password authentication failed for user "coder"/);
    const unknownUser = await fx.psql(['-c', 'select 1'], { user: 'nobody' });
    expect(unknownUser.stderr).toMatch(/password authentication failed for user "nobody"/);
    const otherToken = await fx.gateway.addAgent('reader-elsewhere', { db: ['other'] });
    const unscoped = await fx.psql(['-c', 'select 1'], { user: 'reader-elsewhere', password: otherToken });
    expect(unscoped.stderr).toMatch(/permission denied: agent reader-elsewhere has no scope for database app/);
    const unknownDb = await fx.psql(['-c', 'select 1'], { database: 'nope' });
    expect(unknownDb.stderr).toMatch(/database "nope" is not configured in portcullis/);
    expect((await fx.psql(['-At', '-c', 'select 1'])).stdout.trim()).toBe('1');
  });

  it('blocks DROP TABLE with 42501 naming the rule, and the table is still there', async () => {
    const result = await fx.psql(['-c', 'drop table items']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/ERROR: {2}portcullis blocked this statement \(rule drop\)/);
    const rows = await fx.direct`select count(*)::int as count from items`;
    expect(rows[0]!.count).toBe(50);
  });

  it('a refused statement inside a transaction aborts it exactly as a server error would', async () => {
    const client = await fx.client();
    try {
      await client.query('begin');
      await client.query("insert into items values (1001, 'tx row', 1)");
      await expect(client.query('delete from items')).rejects.toMatchObject({ code: '42501' });
      await expect(client.query('select 1')).rejects.toMatchObject({ code: '25P02' });
      await client.query('rollback');
      const rows = await client.query('select count(*)::int as n from items where id = 1001');
      expect(rows.rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('node-postgres: extended protocol with parameters, binary-safe values, errors keep the connection usable', async () => {
    const client = await fx.client();
    try {
      const result = await client.query('select id, name from items where id = $1 or name = $2 order by id', [3, 'item 5']);
      expect(result.rows).toEqual([
        { id: 3, name: 'item 3' },
        { id: 5, name: 'item 5' },
      ]);
      await expect(client.query('update items set qty = $1', [0])).rejects.toMatchObject({ code: '42501', message: expect.stringMatching(/update-without-where/) });
      await expect(client.query('select * from no_such_table')).rejects.toMatchObject({ code: '42P01' });
      const after = await client.query('select $1::int + 1 as n', [41]);
      expect(after.rows[0].n).toBe(42);
      const rows = await fx.direct`select qty from items where id = 1`;
      expect(rows[0]!.qty).toBe(1);
    } finally {
      await client.end();
    }
  });

  it('postgres.js: pipelined prepared statements, a blocked one in the middle judged on its own', async () => {
    const sql = postgres({ host: '127.0.0.1', port: fx.port, user: 'coder', password: fx.token, database: 'app', max: 1, onnotice: () => undefined });
    try {
      const results = await Promise.allSettled([
        sql`select ${1}::int as a`,
        sql`select name from items where id = ${2}`,
        sql.unsafe('truncate items'),
        sql`select ${3}::int as c`,
      ]);
      expect(results[0]).toMatchObject({ status: 'fulfilled', value: [{ a: 1 }] });
      expect(results[1]).toMatchObject({ status: 'fulfilled', value: [{ name: 'item 2' }] });
      expect(results[2]).toMatchObject({ status: 'rejected', reason: { code: '42501' } });
      expect(results[3]).toMatchObject({ status: 'fulfilled', value: [{ c: 3 }] });
      const rows = await sql`select count(*)::int as n from items`;
      expect(rows[0]!.n).toBeGreaterThanOrEqual(50);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it('COPY in both directions through psql', async () => {
    await fx.direct`create table if not exists copied (id int, note text)`;
    const copyIn = await fx.psql(['-c', '\\copy copied from stdin'], { input: '1\tfirst\n2\tsecond\n\\.\n' });
    expect(copyIn.stderr).toBe('');
    expect(copyIn.stdout).toMatch(/COPY 2/);
    const copyOut = await fx.psql(['-c', 'copy (select id, note from copied order by id) to stdout with (format csv)']);
    expect(copyOut.stdout).toBe('1,first\n2,second\n');
  });

  it('cancels a running query (CancelRequest mapped to the upstream backend)', async () => {
    const client = await fx.client();
    try {
      const started = Date.now();
      const running = client.query('select pg_sleep(20)');
      await new Promise((resolve) => setTimeout(resolve, 500));
      // A CancelRequest on a fresh connection with the BackendKeyData the gateway gave this client, as psql's Ctrl-C sends.
      await new Promise<void>((resolve, reject) => {
        const con = (client as unknown as { processID: number; secretKey: number });
        const socket = connect(fx.port, '127.0.0.1', () => {
          const packet = Buffer.alloc(16);
          packet.writeInt32BE(16, 0);
          packet.writeInt32BE(80877102, 4);
          packet.writeInt32BE(con.processID, 8);
          packet.writeInt32BE(con.secretKey, 12);
          socket.end(packet);
        });
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
      await expect(running).rejects.toMatchObject({ code: '57014' });
      expect(Date.now() - started).toBeLessThan(15_000);
      expect((await client.query('select 1 as one')).rows[0].one).toBe(1);
    } finally {
      await client.end();
    }
  });

  it('garbage, oversized and truncated input on the port get a clean error; the gateway stays up', async () => {
    const exchange = (bytes: Buffer) =>
      new Promise<Buffer>((resolve) => {
        const chunks: Buffer[] = [];
        const socket = connect(fx.port, '127.0.0.1', () => socket.write(bytes));
        socket.on('data', (chunk) => chunks.push(chunk));
        socket.on('close', () => resolve(Buffer.concat(chunks)));
        socket.on('error', () => resolve(Buffer.concat(chunks)));
        setTimeout(() => socket.end(), 2_000);
      });
    const garbage = await exchange(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(garbage.toString('latin1')).toMatch(/invalid startup packet/);
    const huge = Buffer.alloc(8);
    huge.writeInt32BE(0x7fffffff, 0);
    huge.writeInt32BE(196608, 4);
    expect((await exchange(huge)).toString('latin1')).toMatch(/invalid startup packet/);
    const result = await fx.psql(['-At', '-c', 'select 2']);
    expect(result.stdout.trim()).toBe('2');
  });

  it('refuses startup options that would change identity, and replication connections', async () => {
    const role = await fx.psql(['-c', 'select 1'], { env: { PGOPTIONS: '-c role=postgres' } });
    expect(role.stderr).toMatch(/startup parameter "role" is not allowed through portcullis/);
    const replication = await fx.psql(['-d', 'dbname=app replication=database', '-c', 'select 1']);
    expect(replication.stderr).toMatch(/replication connections are not allowed through portcullis/);
  });

  it('records database sessions and statements with verdicts and row counts', async () => {
    const client = await fx.client({ application_name: 'recorder-check' });
    await client.query('select id from items where id <= 3');
    await client.query('drop table items').catch(() => undefined);
    await client.end();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const list = await fx.gateway.cli(['sessions', 'list', '--json']);
    expect(list.code).toBe(0);
    const sessions = JSON.parse(list.stdout) as Array<{ id: string; kind: string; applicationName?: string }>;
    const session = sessions.find((s) => s.kind === 'database' && s.applicationName === 'recorder-check');
    expect(session).toBeDefined();
    const show = await fx.gateway.cli(['sessions', 'show', session!.id, '--json']);
    const detail = JSON.parse(show.stdout) as { statements: Array<{ text: string; verdict: string; rule: string | null; rowsReturned: number }> };
    const select = detail.statements.find((s) => s.text.startsWith('select id'));
    expect(select).toMatchObject({ verdict: 'allow', rowsReturned: 3 });
    expect(detail.statements.find((s) => s.text === 'drop table items')).toMatchObject({ verdict: 'block', rule: 'drop' });
    const metrics = await (await fetch(`${fx.gateway.url}/metrics`)).text();
    expect(Number(/portcullis_db_statements_total\{database="app",verdict="block"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
    expect(Number(/portcullis_db_statements_total\{database="app",verdict="allow"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(5);
    expect(metrics).toMatch(/^portcullis_db_connections \d+$/m);

    // The statements are bound into the tamper-evident chain, which verifies.
    const verify = await fx.gateway.cli(['audit', 'verify']);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^audit chain intact: \d+ events/);
    const exported = await fx.gateway.cli(['audit', 'export', '--format', 'jsonl']);
    const events = exported.stdout.trim().split('\n').map((line) => JSON.parse(line) as { kind: string; type?: string; subject?: string; data?: { blocked?: number } });
    const batches = events.filter((event) => event.kind === 'event' && event.type === 'pg.statements' && event.subject === session!.id);
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.reduce((sum, batch) => sum + (batch.data?.blocked ?? 0), 0)).toBe(1);
    expect(events.some((event) => event.type === 'pg.session' && event.subject === session!.id)).toBe(true);
  });
});
