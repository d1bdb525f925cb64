/**
 * The codec and SCRAM client against real PostgreSQL, over a raw node:net socket.
 *
 * Two servers. The shared one on 127.0.0.1:5432 (TEST_PG_ADMIN_URL) has `host all all 127.0.0.1/32
 * trust` here, so it never asks for a password: there the test asserts AuthenticationOk (and would
 * run SCRAM if the server asked). To exercise the exchange for real, a private cluster is started
 * with initdb on a free port with pg_hba requiring scram-sha-256 (md5 for one role); it is skipped
 * where initdb is not installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { md5PasswordHash } from '../../../src/pg/auth/md5.ts';
import { ScramClientSession, createScramVerifier, decodeScramVerifier, SCRAM_SHA_256, ScramServerSession } from '../../../src/identity/scram.ts';
import {
  BackendType,
  MessageFramer,
  decodeAuthentication,
  decodeBackendKeyData,
  decodeCommandComplete,
  decodeDataRow,
  decodeNoticeFields,
  decodeParameterStatus,
  decodeReadyForQuery,
  decodeRowDescription,
  encodePasswordMessage,
  encodeQuery,
  encodeSaslInitialResponse,
  encodeSaslResponse,
  encodeSslRequest,
  encodeStartupMessage,
  encodeTerminate,
  rowCountOf,
} from '../../../src/pg/codec/index.ts';
import type { PgMessage, RowField, TransactionStatus } from '../../../src/pg/codec/index.ts';
import { TEST_PG_ADMIN_URL, postgresAvailable } from '../../helpers/postgres.ts';

/** A message-at-a-time reader over a socket, framed by MessageFramer. */
class WireConnection {
  private readonly framer = new MessageFramer(1 << 24);
  private readonly queue: PgMessage[] = [];
  private waiter: (() => void) | null = null;
  private closed: Error | null = null;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.queue.push(...this.framer.push(chunk));
      this.wake();
    });
    socket.on('close', () => {
      this.closed ??= new Error('connection closed by the server');
      this.wake();
    });
    socket.on('error', (error) => {
      this.closed = error;
      this.wake();
    });
  }

  static open(port: number): Promise<WireConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port }, () => resolve(new WireConnection(socket)));
      socket.once('error', reject);
    });
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  async next(): Promise<PgMessage> {
    for (;;) {
      const message = this.queue.shift();
      if (message) return message;
      if (this.closed) throw this.closed;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
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

type AuthMethod = 'trust' | 'scram' | 'md5' | 'cleartext';

interface Session {
  connection: WireConnection;
  method: AuthMethod;
  mechanisms: string[];
  parameters: Map<string, string>;
  processId: number;
  status: TransactionStatus;
}

class ServerError extends Error {
  constructor(
    readonly fields: Map<string, string>,
    /** The ReadyForQuery status after the error, when the session survived it. */
    readonly status?: TransactionStatus,
  ) {
    super(`${fields.get('S')} ${fields.get('C')}: ${fields.get('M')}`);
  }
}

/** Startup and authentication as a client (the gateway's upstream side), up to the first ReadyForQuery. */
async function login(port: number, user: string, password: string, database = 'postgres'): Promise<Session> {
  const connection = await WireConnection.open(port);
  connection.send(encodeStartupMessage(new Map([['user', user], ['database', database], ['application_name', 'portcullis-codec-test']])));
  let method: AuthMethod = 'trust';
  let mechanisms: string[] = [];
  let scram: ScramClientSession | null = null;
  const parameters = new Map<string, string>();
  let processId = 0;
  for (;;) {
    const message = await connection.next();
    if (message.type === BackendType.ErrorResponse) {
      connection.close();
      throw new ServerError(decodeNoticeFields(message.body));
    }
    if (message.type === BackendType.ParameterStatus) {
      const { name, value } = decodeParameterStatus(message.body);
      parameters.set(name, value);
    } else if (message.type === BackendType.BackendKeyData) {
      processId = decodeBackendKeyData(message.body).processId;
    } else if (message.type === BackendType.ReadyForQuery) {
      return { connection, method, mechanisms, parameters, processId, status: decodeReadyForQuery(message.body) };
    } else if (message.type === BackendType.Authentication) {
      const auth = decodeAuthentication(message.body);
      switch (auth.kind) {
        case 'ok':
          break;
        case 'sasl':
          method = 'scram';
          mechanisms = auth.mechanisms;
          expect(auth.mechanisms).toContain(SCRAM_SHA_256);
          scram = new ScramClientSession(password);
          connection.send(encodeSaslInitialResponse(SCRAM_SHA_256, scram.first()));
          break;
        case 'sasl-continue':
          connection.send(encodeSaslResponse((scram as ScramClientSession).respond(auth.data)));
          break;
        case 'sasl-final':
          (scram as ScramClientSession).verify(auth.data);
          break;
        case 'md5':
          method = 'md5';
          connection.send(encodePasswordMessage(md5PasswordHash(user, password, auth.salt)));
          break;
        case 'cleartext':
          method = 'cleartext';
          connection.send(encodePasswordMessage(password));
          break;
        default:
          throw new Error(`unsupported authentication request ${auth.code}`);
      }
    }
  }
}

interface QueryResult {
  fields: RowField[];
  rows: (string | null)[][];
  tag: string;
  status: TransactionStatus;
}

async function simpleQuery(session: Session, sql: string): Promise<QueryResult> {
  session.connection.send(encodeQuery(sql));
  const result: QueryResult = { fields: [], rows: [], tag: '', status: 'I' };
  let error: Map<string, string> | null = null;
  for (;;) {
    const message = await session.connection.next();
    switch (message.type) {
      case BackendType.RowDescription:
        result.fields = decodeRowDescription(message.body);
        break;
      case BackendType.DataRow:
        result.rows.push(decodeDataRow(message.body).map((cell) => cell?.toString('utf8') ?? null));
        break;
      case BackendType.CommandComplete:
        result.tag = decodeCommandComplete(message.body);
        break;
      case BackendType.ErrorResponse:
        error = decodeNoticeFields(message.body); // the server still sends ReadyForQuery
        break;
      case BackendType.ReadyForQuery:
        result.status = decodeReadyForQuery(message.body);
        if (error) throw new ServerError(error, result.status);
        return result;
    }
  }
}

/** The single byte a server answers an SSLRequest with. */
function sslAnswer(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(encodeSslRequest()));
    socket.once('data', (chunk) => {
      resolve(chunk.subarray(0, 1).toString('latin1'));
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

const fakePassword = (): string => `pcl_fake_pw_${Math.random().toString(36).slice(2)}`;
const sharedPort = Number(new URL(TEST_PG_ADMIN_URL).port || 5432);
const pgUp = await postgresAvailable();

describe.skipIf(!pgUp)('the codec against the shared PostgreSQL (trust on loopback)', () => {
  const role = `pcl_scram_${process.pid}_${Date.now().toString(36)}`;
  const password = fakePassword();
  const admin = postgres(TEST_PG_ADMIN_URL, { max: 1, onnotice: () => {} });

  beforeAll(async () => {
    await admin.unsafe(`set password_encryption = 'scram-sha-256'`);
    await admin.unsafe(`create role ${role} login password '${password}'`);
  });

  afterAll(async () => {
    await admin.unsafe(`drop role if exists ${role}`);
    await admin.end({ timeout: 5 });
  });

  it('stores a verifier our code computes identically and our server session accepts', async () => {
    const [row] = await admin<{ rolpassword: string }[]>`select rolpassword from pg_authid where rolname = ${role}`;
    const stored = decodeScramVerifier(row?.rolpassword ?? '');
    expect(stored).not.toBeNull();
    if (!stored) return;
    expect(createScramVerifier(password, { salt: stored.salt, iterations: stored.iterations })).toEqual(stored);
    const server = new ScramServerSession(stored);
    const client = new ScramClientSession(password);
    const result = server.finish(client.respond(server.start(client.first())));
    expect(result.ok).toBe(true);
  });

  it('logs in (SCRAM if asked; with trust, AuthenticationOk straight away) and runs a simple Query', async () => {
    const session = await login(sharedPort, role, password);
    try {
      // pg_hba here is `host all all 127.0.0.1/32 trust`: the server never asks. If it is ever
      // tightened, the same code path completes SCRAM instead.
      expect(['trust', 'scram']).toContain(session.method);
      expect(session.status).toBe('I');
      expect(session.parameters.get('server_encoding')).toBe('UTF8');
      expect(session.parameters.get('application_name')).toBe('portcullis-codec-test');
      expect(session.processId).toBeGreaterThan(0);
      const result = await simpleQuery(session, `select 1 as one, 'héllo'::text as greeting, null::int as nothing, current_user as who from generate_series(1, 3)`);
      expect(result.fields.map((field) => [field.name, field.typeOid, field.format])).toEqual([
        ['one', 23, 0],
        ['greeting', 25, 0],
        ['nothing', 23, 0],
        ['who', 19, 0],
      ]);
      expect(result.rows).toEqual(Array.from({ length: 3 }, () => ['1', 'héllo', null, role]));
      expect(result.tag).toBe('SELECT 3');
      expect(rowCountOf(result.tag)).toBe(3);
      expect(result.status).toBe('I');
      const begin = await simpleQuery(session, 'begin');
      expect([begin.tag, begin.status]).toEqual(['BEGIN', 'T']);
      const division = await simpleQuery(session, 'select 1/0').catch((caught: unknown) => caught);
      expect(division).toBeInstanceOf(ServerError);
      expect([(division as ServerError).fields.get('C'), (division as ServerError).status]).toEqual(['22012', 'E']);
      const failed = await simpleQuery(session, 'rollback');
      expect([failed.tag, failed.status]).toEqual(['ROLLBACK', 'I']);
    } finally {
      session.connection.close();
    }
  });

  it('decodes the server’s ErrorResponse fields', async () => {
    const session = await login(sharedPort, role, password);
    try {
      const error = await simpleQuery(session, 'select * from pcl_no_such_table').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ServerError);
      const fields = (error as ServerError).fields;
      expect(fields.get('S')).toBe('ERROR');
      expect(fields.get('V')).toBe('ERROR');
      expect(fields.get('C')).toBe('42P01');
      expect(fields.get('M')).toBe('relation "pcl_no_such_table" does not exist');
      expect(fields.get('P')).toBe('15');
    } finally {
      session.connection.close();
    }
  });

  it('answers an SSLRequest with one byte', async () => {
    expect(['S', 'N']).toContain(await sslAnswer(sharedPort));
  });
});

/** Where initdb/pg_ctl live; null when PostgreSQL's server binaries are not installed. */
function serverBinaries(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v initdb || ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | tail -1'], { encoding: 'utf8' });
  const initdb = found.stdout.trim().split('\n').pop();
  return initdb ? join(initdb, '..') : null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const binaries = serverBinaries();

describe.skipIf(!binaries)('the SCRAM client against a private cluster that requires scram-sha-256', () => {
  const bin = binaries as string;
  const asRoot = process.getuid?.() === 0;
  let dir = '';
  let port = 0;
  let superuser: ReturnType<typeof postgres>;
  const scramPassword = fakePassword();
  const md5Password = fakePassword();
  // Precomposed in the catalog, decomposed by the client: SASLprep makes them the same password.
  const unicodePassword = 'p\u00E4ssw\u00F6rd-fake';

  /** Runs a server binary, as the postgres OS user when we are root (the server refuses root). */
  const run = (program: string, args: string[]): void => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, program), ...args]] : [join(bin, program), args];
    execFileSync(file, argv, { stdio: 'pipe', timeout: 60_000 });
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pcl-scram-'));
    chmodSync(dir, 0o700);
    if (asRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(dir, uid, gid);
    }
    port = await freePort();
    const data = join(dir, 'data');
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    const hba = ['local all all trust', 'host all postgres 127.0.0.1/32 trust', 'host all pcl_md5 127.0.0.1/32 md5', 'host all all 127.0.0.1/32 scram-sha-256', ''].join('\n');
    writeFileSync(join(data, 'pg_hba.conf'), hba);
    run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
    superuser = postgres({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', max: 1, onnotice: () => {} });
    await superuser.unsafe(`set password_encryption = 'scram-sha-256'`);
    await superuser.unsafe(`create role pcl_scram login password '${scramPassword}'`);
    await superuser.unsafe(`create role pcl_unicode login password '${unicodePassword}'`);
    await superuser.unsafe(`set password_encryption = 'md5'`);
    await superuser.unsafe(`create role pcl_md5 login password '${md5Password}'`);
  }, 120_000);

  afterAll(async () => {
    await superuser?.end({ timeout: 5 });
    if (dir) {
      try {
        run('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }, 60_000);

  it('completes SCRAM-SHA-256 (the server asks, verifies our proof, and we verify its signature), then queries', async () => {
    const session = await login(port, 'pcl_scram', scramPassword);
    try {
      expect(session.method).toBe('scram');
      expect(session.mechanisms).toEqual([SCRAM_SHA_256]); // no -PLUS without TLS
      const result = await simpleQuery(session, `select current_user, 40 + 2 as answer`);
      expect(result.fields.map((field) => field.name)).toEqual(['current_user', 'answer']);
      expect(result.rows).toEqual([['pcl_scram', '42']]);
      expect(result.tag).toBe('SELECT 1');
      expect(result.status).toBe('I');
    } finally {
      session.connection.close();
    }
  });

  it('gets FATAL 28P01 for a wrong password', async () => {
    const error = await login(port, 'pcl_scram', `${scramPassword}x`).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ServerError);
    expect((error as ServerError).fields.get('C')).toBe('28P01');
    expect((error as ServerError).fields.get('V')).toBe('FATAL');
  });

  it('prepares a non-ASCII password with SASLprep as the server does', async () => {
    const session = await login(port, 'pcl_unicode', unicodePassword.normalize('NFD'));
    expect(session.method).toBe('scram');
    session.connection.close();
  });

  it('answers an MD5 challenge', async () => {
    const session = await login(port, 'pcl_md5', md5Password);
    try {
      expect(session.method).toBe('md5');
      expect((await simpleQuery(session, 'select current_user')).rows).toEqual([['pcl_md5']]);
    } finally {
      session.connection.close();
    }
  });
});
