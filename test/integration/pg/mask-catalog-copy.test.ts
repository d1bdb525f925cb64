/**
 * COPY … TO STDOUT masking against the real server: the CopyData messages are captured as the
 * server frames them (one row each in text and CSV, the binary header with the first tuple),
 * masked one by one, and the masked stream is loaded back with COPY … FROM STDIN into a copy of
 * the table: the server accepting it proves the output is still valid COPY data of those types.
 */
import { connect } from 'node:net';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSqlParser, parseSql } from '../../../src/pg/sql/parser.ts';
import { collectCatalogNeeds, compileMaskPolicy, computeLineage, copyFormatOf, createCatalogCache, createCopyOutMasker, createMaskContext, planCopy } from '../../../src/pg/mask/index.ts';
import { createTestDatabase, postgresAvailable } from '../../helpers/postgres.ts';

const pgUp = await postgresAvailable();
if (!pgUp && process.env.CI) throw new Error('CI must provide PostgreSQL at 127.0.0.1:5432');

/** The CopyData payloads of one COPY TO STDOUT, over a bare protocol connection (trust auth). */
async function copyOut(url: string, statement: string): Promise<Buffer[]> {
  const target = new URL(url);
  const socket = connect(Number(target.port || 5432), target.hostname);
  const params = Buffer.from(`user\0${decodeURIComponent(target.username)}\0database\0${target.pathname.slice(1)}\0\0`);
  const startup = Buffer.alloc(8);
  startup.writeInt32BE(8 + params.length);
  startup.writeInt32BE(196608, 4);
  socket.write(Buffer.concat([startup, params]));
  const payloads: Buffer[] = [];
  let pending = Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 5 && pending.length >= 1 + pending.readInt32BE(1)) {
        const type = String.fromCharCode(pending[0]!);
        const body = pending.subarray(5, 1 + pending.readInt32BE(1));
        pending = pending.subarray(1 + pending.readInt32BE(1));
        if (type === 'R' && body.readInt32BE(0) !== 0) return reject(new Error('the test server must trust local connections'));
        if (type === 'E') return reject(new Error(body.toString('utf8').replace(/\0/g, ' ')));
        if (type === 'Z' && payloads.length === 0 && !socket.readableEnded) {
          const text = Buffer.from(`${statement}\0`);
          const query = Buffer.alloc(5);
          query.write('Q');
          query.writeInt32BE(4 + text.length, 1);
          socket.write(Buffer.concat([query, text]));
          payloads.push(Buffer.alloc(0)); // marker: query sent
        } else if (type === 'd') {
          payloads.push(Buffer.from(body));
        } else if (type === 'Z') {
          socket.end(Buffer.from([0x58, 0, 0, 0, 4]));
          resolve(payloads.slice(1));
        }
      }
    });
  });
}

describe.skipIf(!pgUp)('COPY TO STDOUT masked and loaded back (PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sql: postgres.Sql;
  const rules = compileMaskPolicy({ columns: ['users.email', '*password*'], detectors: 'all', style: 'redact' }, Buffer.from('k'));

  beforeAll(async () => {
    await loadSqlParser();
    db = await createTestDatabase();
    sql = postgres(db.url, { max: 1, onnotice: () => {} });
    await sql.unsafe(`
      create table users (id int, email text, name text, password_hash text, born date, balance numeric, tags text[], photo bytea);
      insert into users values
        (1, 'alice@example.com', 'Alice, "the" first', '$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW', '1990-02-03', 12.5, '{a,"b c"}', '\\x00ff'),
        (2, 'bob@example.org', E'Bob\\tTab\\nNewline', null, null, null, '{}', null),
        (3, null, 'reach me at carol@example.net', 'x', '2000-01-01', -1, null, convert_to('dave@example.com', 'UTF8'));
      create table users_back (like users);
    `);
  });
  afterAll(async () => {
    await sql?.end({ timeout: 2 });
    await db?.drop();
  });

  for (const options of ['', '(format csv)', '(format csv, header true)', '(format binary)', "(delimiter '|', null 'NIL')"]) {
    it(`COPY users TO STDOUT ${options}`, async () => {
      const statement = `copy users to stdout ${options}`;
      const parsed = parseSql(statement);
      if (!parsed.ok) throw new Error(parsed.message);
      const stmt = parsed.tree.stmts![0]!.stmt!;
      const cache = createCatalogCache(async (text, params) => (await sql.unsafe(text, params as never[])) as unknown as Record<string, unknown>[]);
      await cache.prefetch(collectCatalogNeeds(stmt));
      const lineage = computeLineage(stmt, cache.snapshot(), rules.columns);
      const format = copyFormatOf((stmt as { CopyStmt: object }).CopyStmt);
      const plan = planCopy(lineage, 8, format, cache.snapshot(), rules);
      const ctx = createMaskContext(rules);
      const mask = createCopyOutMasker(format, plan, ctx);

      const payloads = await copyOut(db.url, statement);
      if (format.format !== 'binary') expect(payloads).toHaveLength(3 + (format.header ? 1 : 0)); // one row per CopyData
      const masked = payloads.map((p) => mask(p) ?? p);
      const all = Buffer.concat(masked).toString('latin1');
      for (const raw of ['alice@example.com', 'bob@example.org', 'carol@example.net', 'dave@example.com', '$2b$12$R9h']) expect(all).not.toContain(raw);
      expect(ctx.maskedCells).toBeGreaterThanOrEqual(6);

      await sql`truncate users_back`;
      const writable = await sql.unsafe(`copy users_back from stdin ${options}`).writable();
      await new Promise<void>((resolve, reject) => {
        writable.on('error', reject);
        writable.on('finish', resolve);
        for (const chunk of masked) writable.write(chunk);
        writable.end();
      });
      const back = await sql`select * from users_back order by id`;
      expect(back.map((r) => r.id)).toEqual([1, 2, 3]);
      expect(back.map((r) => r.name)).toEqual(['Alice, "the" first', 'Bob\tTab\nNewline', 'reach me at ****']);
      expect(back[0]!.email).toBe('****');
      expect(back[1]!.email).toBe('****');
      expect(back[2]!.email).toBeNull();
      expect(back[0]!.password_hash).toBe('****');
      expect(back[0]!.tags).toEqual(['a', 'b c']);
      expect(String(back[0]!.balance)).toBe('12.5');
      expect(Buffer.from(back[2]!.photo).toString()).toBe('****');
    });
  }
});
