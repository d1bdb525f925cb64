import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScramClientSession } from '../../../src/identity/scram.ts';
import {
  BackendType,
  MessageFramer,
  decodeAuthentication,
  decodeCommandComplete,
  decodeDataRow,
  decodeNoticeFields,
  decodeReadyForQuery,
  encodeQuery,
  encodeSaslInitialResponse,
  encodeSaslResponse,
  encodeStartupMessage,
  encodeTerminate,
  type PgMessage,
} from '../../../src/pg/codec/index.ts';
import { startPgProxy, type PgProxyFixture } from '../../helpers/pg-proxy.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';

/**
 * The PostgreSQL proxy at the edges of the protocol: the FunctionCall message, huge query strings,
 * oversized and malformed messages, clients and servers that go away mid-conversation, row caps,
 * recorded rows, and pgbench's load in all three query modes.
 */

/** Default limits and policy, plus a pgbench database `bench`. */
let fx: PgProxyFixture;
/** limits.maxPgMessageBytes 64 KiB, sql.maxRows 5, sql.recordRows 2. */
let capped: PgProxyFixture;
let bench: Awaited<ReturnType<typeof createTestDatabase>>;

const EMAILS = ['ada.lovelace@example.com', 'grace.hopper@example.org', 'edsger.dijkstra@example.net'];

beforeAll(async () => {
  bench = await createTestDatabase();
  await run('pgbench', ['-i', '-s', '1', '-q', bench.url]);
  [fx, capped] = await Promise.all([
    startPgProxy({
      databases: [{ name: 'bench', url: bench.url }],
      setupSql: `
        create table counter (n int);
        create table x (id int);
      `,
    }),
    startPgProxy({
      config: { limits: { maxPgMessageBytes: 65536 } },
      policy: { sql: { maxRows: 5, recordRows: 2 } },
      setupSql: `
        create table people (id int primary key, name text, email text);
        insert into people values (1, 'Ada', '${EMAILS[0]}'), (2, 'Grace', '${EMAILS[1]}'), (3, 'Edsger', '${EMAILS[2]}');
      `,
    }),
  ]);
});
afterAll(async () => {
  await Promise.all([fx?.stop(), capped?.stop()]);
  await bench?.drop();
});

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A message-at-a-time client over a raw socket. */
class Wire {
  private readonly framer = new MessageFramer(1 << 24);
  private readonly queue: PgMessage[] = [];
  private waiter: (() => void) | null = null;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.queue.push(...this.framer.push(chunk));
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => resolve(new Wire(socket)));
      socket.once('error', reject);
    });
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next message, or null once the server closed the connection and nothing is left. */
  async next(timeoutMs = 15_000): Promise<PgMessage | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = this.queue.shift();
      if (message) return message;
      if (this.closed) return null;
      if (Date.now() > deadline) throw new Error('no message from the gateway in time');
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 200);
      });
    }
  }

  /** Messages up to and including ReadyForQuery (or until the connection closes). */
  async untilReady(): Promise<PgMessage[]> {
    const messages: PgMessage[] = [];
    for (;;) {
      const message = await this.next();
      if (!message) return messages;
      messages.push(message);
      if (message.type === BackendType.ReadyForQuery) return messages;
    }
  }

  /** Everything until the gateway closes the connection. */
  async untilClosed(): Promise<PgMessage[]> {
    const messages: PgMessage[] = [];
    for (let message = await this.next(); message; message = await this.next()) messages.push(message);
    return messages;
  }

  close(): void {
    if (!this.socket.destroyed) this.socket.end(encodeTerminate());
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }
}

/** Startup and SCRAM-SHA-256 with the agent token, as libpq does, up to the first ReadyForQuery. */
async function login(fixture: PgProxyFixture, applicationName = 'raw-wire'): Promise<Wire> {
  const wire = await Wire.open(fixture.port);
  wire.send(encodeStartupMessage(new Map([['user', 'coder'], ['database', 'app'], ['application_name', applicationName]])));
  const scram = new ScramClientSession(fixture.token);
  for (;;) {
    const message = await wire.next();
    if (!message) throw new Error('the gateway closed the connection during login');
    if (message.type === BackendType.ErrorResponse) throw new Error(`login refused: ${decodeNoticeFields(message.body).get('M')}`);
    if (message.type === BackendType.ReadyForQuery) return wire;
    if (message.type !== BackendType.Authentication) continue;
    const auth = decodeAuthentication(message.body);
    if (auth.kind === 'sasl') {
      expect(auth.mechanisms).toContain('SCRAM-SHA-256');
      wire.send(encodeSaslInitialResponse('SCRAM-SHA-256', scram.first()));
    } else if (auth.kind === 'sasl-continue') {
      wire.send(encodeSaslResponse(scram.respond(auth.data)));
    } else if (auth.kind === 'sasl-final') {
      scram.verify(auth.data);
    } else if (auth.kind !== 'ok') {
      throw new Error(`unexpected authentication request ${auth.kind}`);
    }
  }
}

/** FunctionCall ('F'): function oid, no argument formats, no arguments, text result. */
function functionCall(functionOid: number): Buffer {
  const frame = Buffer.alloc(1 + 4 + 4 + 2 + 2 + 2);
  frame.write('F', 0, 'latin1');
  frame.writeInt32BE(frame.length - 1, 1);
  frame.writeInt32BE(functionOid, 5);
  frame.writeInt16BE(0, 9);
  frame.writeInt16BE(0, 11);
  frame.writeInt16BE(0, 13);
  return frame;
}

function errorFields(messages: PgMessage[]): Map<string, string> | undefined {
  const error = messages.find((message) => message.type === BackendType.ErrorResponse);
  return error ? decodeNoticeFields(error.body) : undefined;
}

async function gatewayAnswers(fixture: PgProxyFixture): Promise<void> {
  const result = await fixture.psql(['-At', '-c', 'select 40 + 2']);
  expect(result.stderr).toBe('');
  expect(result.stdout.trim()).toBe('42');
}

async function pollUntil<T>(what: string, probe: () => Promise<T | undefined | null | false>, attempts = 40, intervalMs = 500): Promise<T> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const value = await probe();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`gave up waiting: ${what}`);
}

interface SessionSummary {
  id: string;
  kind: string;
  agent: string | null;
  database: string;
  applicationName: string | null;
  outcome: string;
  error: string | null;
}

async function sessionsByCli(fixture: PgProxyFixture, args: string[] = []): Promise<SessionSummary[]> {
  const result = await fixture.gateway.cli(['sessions', 'list', '--kind', 'database', '--json', ...args]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as SessionSummary[];
}

describe('PostgreSQL proxy: protocol edges', () => {
  it('refuses a FunctionCall message with 42501 naming fastpath-function-call; the connection goes on', async () => {
    const wire = await login(fx, 'fastpath');
    try {
      // 2026 is pg_backend_pid(): harmless, but a fast-path call carries no SQL text to judge.
      wire.send(functionCall(2026));
      const answer = await wire.untilReady();
      expect(answer.map((message) => String.fromCharCode(message.type))).toEqual(['E', 'Z']);
      const error = errorFields(answer)!;
      expect(error.get('S')).toBe('ERROR');
      expect(error.get('C')).toBe('42501');
      expect(error.get('M')).toMatch(/fastpath-function-call/);
      expect(decodeReadyForQuery(answer[1]!.body)).toBe('I');
      expect(answer.some((message) => message.type === BackendType.FunctionCallResponse)).toBe(false);

      wire.send(encodeQuery('select 6 * 7 as answer'));
      const result = await wire.untilReady();
      expect(result.map((message) => String.fromCharCode(message.type))).toEqual(['T', 'D', 'C', 'Z']);
      expect(decodeDataRow(result[1]!.body).map((value) => value?.toString())).toEqual(['42']);
      expect(decodeCommandComplete(result[2]!.body)).toBe('SELECT 1');
    } finally {
      wire.close();
    }
  });

  it('runs a 10,000-statement query string and returns every result', async () => {
    const client = await fx.client();
    try {
      const results = (await client.query('select 1 as one;'.repeat(10_000))) as unknown as Array<{ rows: Array<{ one: number }> }>;
      expect(results).toHaveLength(10_000);
      expect(results.every((result) => result.rows.length === 1 && result.rows[0]!.one === 1)).toBe(true);
    } finally {
      await client.end();
    }
  });

  it('refuses a 10,000-statement string with one DROP in the middle as a whole: nothing of it runs', async () => {
    const statements = Array.from({ length: 10_000 }, (_, index) => (index === 5_000 ? 'drop table x' : 'insert into counter values (1)'));
    const client = await fx.client();
    try {
      await expect(client.query(statements.join(';\n'))).rejects.toMatchObject({ code: '42501', message: expect.stringMatching(/portcullis blocked this statement \(rule drop\)/) });
      expect((await client.query('select count(*)::int as n from counter')).rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
    const rows = await fx.direct`select count(*)::int as n from counter`;
    expect(rows[0]!.n).toBe(0);
    const x = await fx.direct`select to_regclass('public.x') is not null as present`;
    expect(x[0]!.present).toBe(true);
  });

  it('a message over limits.maxPgMessageBytes ends the connection with a FATAL 54000; new connections are served', async () => {
    const client = await capped.client();
    const error = await client.query(`select '${'a'.repeat(100_000)}' as big`).then(
      () => null,
      (caught: Error & { code?: string; severity?: string }) => caught,
    );
    expect(error).not.toBeNull();
    expect(error!.code).toBe('54000');
    expect(error!.severity).toBe('FATAL');
    expect(error!.message).toMatch(/exceeds the 65536-byte limit/);
    await client.end().catch(() => undefined);

    // Just under the limit is fine.
    const small = await capped.client();
    try {
      expect((await small.query(`select length('${'a'.repeat(60_000)}') as n`)).rows[0].n).toBe(60_000);
    } finally {
      await small.end();
    }
    await gatewayAnswers(capped);
  });

  it('a client that disconnects mid-query: the gateway stays up, the session is recorded as aborted, the upstream backend goes away', async () => {
    const client = await fx.client({ application_name: 'midquery-gone' });
    const running = client.query('select pg_sleep(5)').catch(() => undefined);
    await pollUntil('the query to run upstream', async () => {
      const rows = await fx.direct`select 1 from pg_stat_activity where application_name = 'midquery-gone' and query like 'select pg_sleep%' and state = 'active'`;
      return rows.length > 0;
    }, 40, 100);
    (client as unknown as { connection: { stream: Socket } }).connection.stream.destroy();
    await running;

    await pollUntil('the upstream backend to go away', async () => {
      const rows = await fx.direct`select pid from pg_stat_activity where application_name = 'midquery-gone'`;
      return rows.length === 0;
    }, 40, 500);
    await gatewayAnswers(fx);

    const session = await pollUntil('the session to be closed', async () => {
      const { body } = await fx.api<{ sessions: SessionSummary[] }>('GET', '/sessions?kind=database&limit=100');
      return body.sessions.find((s) => s.applicationName === 'midquery-gone' && s.outcome !== 'in_progress');
    });
    expect(session.outcome).toBe('aborted');
    const listed = (await sessionsByCli(fx)).find((s) => s.id === session.id);
    expect(listed).toMatchObject({ outcome: 'aborted', agent: 'coder', database: 'app' });
  });

  it('the upstream backend dies mid-query: the client gets a FATAL error, the gateway goes on serving', async () => {
    const client = await fx.client({ application_name: 'victim' });
    const running = client.query('select pg_sleep(10)').then(
      () => null,
      (caught: Error & { code?: string; severity?: string }) => caught,
    );
    await pollUntil('the victim query to run upstream', async () => {
      const rows = await fx.direct`select 1 from pg_stat_activity where application_name = 'victim' and state = 'active'`;
      return rows.length > 0;
    }, 40, 100);
    const terminated = await fx.direct`select pg_terminate_backend(pid) as done from pg_stat_activity where application_name = 'victim'`;
    expect(terminated.map((row) => row.done)).toEqual([true]);

    const error = await running;
    expect(error).not.toBeNull();
    expect(error!.severity).toBe('FATAL');
    expect(['57P01', '08006']).toContain(error!.code);
    await client.end().catch(() => undefined);
    await gatewayAnswers(fx);
    const session = await pollUntil('the victim session to be closed', async () => {
      const { body } = await fx.api<{ sessions: SessionSummary[] }>('GET', '/sessions?kind=database&limit=100');
      return body.sessions.find((s) => s.applicationName === 'victim' && s.outcome !== 'in_progress');
    });
    expect(session.outcome).toBe('upstream_error');
  });

  it('garbage after login (a bogus message type, a bogus length) gets an error and a closed connection; the gateway stays up', async () => {
    const bogusType = await login(fx, 'garbage-type');
    const frame = Buffer.from([0x7a, 0, 0, 0, 12, 0xde, 0xad, 0xbe, 0xef, 0x13, 0x37, 0x42, 0x42]);
    bogusType.send(frame);
    const typeAnswer = await bogusType.untilClosed();
    const typeError = errorFields(typeAnswer);
    expect(typeError?.get('S')).toBe('FATAL');
    expect(bogusType.closed).toBe(true);

    const bogusLength = await login(fx, 'garbage-length');
    bogusLength.send(Buffer.from([0x51, 0xff, 0xff, 0xff, 0xf0, 0x01, 0x02, 0x03]));
    const lengthAnswer = await bogusLength.untilClosed();
    const lengthError = errorFields(lengthAnswer);
    expect(lengthError?.get('S')).toBe('FATAL');
    expect(lengthError?.get('C')).toBe('08P01');
    expect(lengthError?.get('M')).toMatch(/invalid message length/);
    expect(bogusLength.closed).toBe(true);

    await gatewayAnswers(fx);
  });

  it('sql.maxRows caps the rows sent, says so in a NOTICE, and the command tag counts what was sent', async () => {
    const client = await capped.client();
    const notices: string[] = [];
    client.on('notice', (notice) => void notices.push(notice.message ?? ''));
    try {
      const result = await client.query('select generate_series(1, 100) as n');
      expect(result.rows.map((row) => row.n)).toEqual([1, 2, 3, 4, 5]);
      expect(result.rowCount).toBe(5);
      expect(result.command).toBe('SELECT');
      expect(notices).toEqual([expect.stringMatching(/95 more rows were not sent \(sql\.maxRows is 5\)/)]);

      // Under the cap: no notice.
      notices.length = 0;
      const few = await client.query('select generate_series(1, 3) as n');
      expect(few.rowCount).toBe(3);
      expect(notices).toEqual([]);
    } finally {
      await client.end();
    }
    const psql = await capped.psql(['-c', 'select generate_series(1, 100) as n']);
    expect(psql.stdout).toMatch(/\(5 rows\)/);
    expect(psql.stderr).toMatch(/NOTICE: {2}portcullis: 95 more rows were not sent/);
  });

  it('sql.maxRows caps the extended protocol too (node-postgres with parameters)', async () => {
    const client = await capped.client();
    try {
      const result = await client.query('select generate_series(1, $1::int) as n', [100]);
      expect(result.rows.map((row) => row.n)).toEqual([1, 2, 3, 4, 5]);
      expect(result.rowCount).toBe(5);
    } finally {
      await client.end();
    }
  });

  it('sql.maxRows caps COPY … TO STDOUT: at most 5 rows reach the agent', async () => {
    const result = await capped.psql(['-c', 'copy (select generate_series(1, 100)) to stdout']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n').length).toBeLessThanOrEqual(5);
  });

  it('sql.recordRows records the first rows as the agent saw them (masked)', async () => {
    const client = await capped.client({ application_name: 'row-recorder' });
    let received: Array<{ id: number; email: string }>;
    try {
      received = (await client.query('select id, email from people order by id')).rows;
    } finally {
      await client.end();
    }
    expect(received.map((row) => row.id)).toEqual([1, 2, 3]);
    expect(received.map((row) => row.email).filter((email) => EMAILS.includes(email))).toEqual([]);

    const session = await pollUntil('the recorded session', async () => (await sessionsByCli(capped)).find((s) => s.applicationName === 'row-recorder'), 10);
    const show = await capped.gateway.cli(['sessions', 'show', session.id, '--json']);
    expect(show.code, show.stderr).toBe(0);
    const detail = JSON.parse(show.stdout) as { statements: Array<{ text: string; rows: Array<Array<string | null>> | null; maskedValues: number }> };
    const statement = detail.statements.find((s) => s.text === 'select id, email from people order by id');
    expect(statement).toBeDefined();
    expect(statement!.rows).toHaveLength(2);
    expect(statement!.rows).toEqual(received.slice(0, 2).map((row) => [String(row.id), row.email]));
    expect(EMAILS.some((email) => show.stdout.includes(email))).toBe(false);
    expect(statement!.maskedValues).toBe(3);
  });

  it('pgbench runs through the proxy in simple, extended and select-only mode without errors', async () => {
    const token = await fx.gateway.addAgent('bencher', { db: ['bench'] });
    const env = { PGPASSWORD: token, PGSSLMODE: 'disable' };
    const target = ['-h', '127.0.0.1', '-p', String(fx.port), '-U', 'bencher', 'bench'];
    for (const mode of [['-M', 'simple'], ['-M', 'extended'], ['-S']]) {
      const result = await run('pgbench', ['-n', '-c', '4', '-j', '2', '-t', '200', ...mode, ...target], env);
      const output = result.stdout + result.stderr;
      expect(result.code, output).toBe(0);
      expect(output).not.toMatch(/error/i);
      expect(output).toMatch(/number of transactions actually processed: 800\/800/);
      expect(output).toMatch(/number of failed transactions: 0 /);
    }
    const direct = await run('psql', ['-X', '-At', '-c', 'select count(*) from pgbench_history', bench.url]);
    // TPC-B inserts one history row per transaction; -S only reads.
    expect(direct.stdout.trim()).toBe('1600');

    const sessions = await sessionsByCli(fx, ['--database', 'bench']);
    expect(sessions.length).toBeGreaterThanOrEqual(12);
    expect(sessions.every((s) => s.agent === 'bencher' && s.database === 'bench' && s.outcome === 'ok')).toBe(true);
    const table = await fx.gateway.cli(['sessions', 'list', '--kind', 'database', '--database', 'bench']);
    expect(table.stdout).toMatch(/bencher\s+db:bench\s+sql\s+ok/);
  });
});
