import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPgProxy, type PgProxyFixture } from '../../helpers/pg-proxy.ts';

/**
 * Sensitive values that must never reach the agent raw, whatever way a query asks for them. The
 * checks grep everything the client received for these exact strings (and their obvious encodings).
 */
const EMAILS = ['alice.liddell@example.com', 'bob.builder@example.org'];
const CARD = '4111111111111111';
const SSN = '078-05-1120';
const BCRYPT = '$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW';
const RAW = [...EMAILS, CARD, SSN, BCRYPT];

let fx: PgProxyFixture;

beforeAll(async () => {
  fx = await startPgProxy({
    setupSql: `
      create table customers (id int primary key, name text, email text unique, card_number text, ssn text, password_hash text, notes text, score int);
      insert into customers values
        (1, 'Alice', '${EMAILS[0]}', '${CARD}', '${SSN}', '${BCRYPT}', 'call me at ${EMAILS[0]}', 10),
        (2, 'Bob', '${EMAILS[1]}', '5500 0000 0000 0004', '219-09-9999', '${BCRYPT}', 'prefers post', 20);
      create view customer_contacts as select id, name, email from customers;
      create table audit_blobs (id int, payload text, raw bytea);
      insert into audit_blobs values (1, encode('${EMAILS[0]}'::bytea, 'base64'), convert_to('${CARD}', 'UTF8'));
      create function contact_of(i int) returns setof customers language sql as $$ select * from customers where id = i $$;
      create function shout() returns void language plpgsql as $$ begin raise notice 'customer %', (select email from customers where id = 1); end $$;
    `,
  });
});
afterAll(async () => fx?.stop());

async function viaPg(text: string, values?: unknown[], binary = false): Promise<pg.QueryResult> {
  const client = await fx.client();
  try {
    return await client.query({ text, values, ...(binary ? { binary: true } : {}) } as pg.QueryConfig);
  } finally {
    await client.end();
  }
}

function leaks(received: unknown): string[] {
  const text = JSON.stringify(received, (_key, value) => (Buffer.isBuffer(value) ? value.toString('latin1') : value));
  return [...RAW, Buffer.from(EMAILS[0]!).toString('base64')].filter((value) => text.includes(value));
}

describe('PostgreSQL proxy: inline masking', () => {
  it('masks sensitive columns by name and leaves the others byte-identical, row counts unchanged', async () => {
    const through = await viaPg('select id, name, email, card_number, ssn, password_hash, score from customers order by id');
    const direct = await fx.direct`select id, name, email, card_number, ssn, password_hash, score from customers order by id`;
    expect(through.rows.length).toBe(direct.length);
    expect(through.fields.length).toBe(7);
    expect(leaks(through.rows)).toEqual([]);
    for (const [index, row] of through.rows.entries()) {
      expect(row.id).toBe(direct[index]!.id);
      expect(row.name).toBe(direct[index]!.name);
      expect(row.score).toBe(direct[index]!.score);
      expect(row.email).not.toBe(direct[index]!.email);
    }
  });

  it.each([
    ['alias', 'select email as contact from customers'],
    ['lower()', 'select lower(email) from customers'],
    ['cast', 'select email::varchar(200) from customers'],
    ['concatenation', "select name || ' <' || email || '>' from customers"],
    ['row_to_json', 'select row_to_json(c) from customers c'],
    ['to_jsonb of the row', 'select to_jsonb(c.*) from customers c'],
    ['json_agg', 'select json_agg(email) from customers'],
    ['string_agg', "select string_agg(card_number, ',') from customers"],
    ['array_agg', 'select array_agg(ssn) from customers'],
    ['union', 'select name from customers union all select email from customers'],
    ['subquery', 'select (select email from customers c2 where c2.id = c.id) from customers c'],
    ['cte', 'with x as (select email e from customers) select e from x'],
    ['view', 'select * from customer_contacts'],
    ['set-returning function', 'select * from contact_of(1)'],
    ['case', "select case when id = 1 then email else card_number end from customers"],
    ['coalesce', 'select coalesce(null, password_hash) from customers'],
    ['whole row', 'select c from customers c'],
    ['innocent column with an email in it', 'select notes from customers'],
    ['base64 of an email', 'select payload from audit_blobs'],
    ['bytea holding a card number', 'select raw from audit_blobs'],
  ])('%s: no raw sensitive value reaches the client', async (_label, text) => {
    const result = await viaPg(text);
    expect(result.rows.length).toBeGreaterThan(0);
    expect(leaks(result.rows)).toEqual([]);
  });

  it('binary results stay valid values of their type and are masked', async () => {
    const result = await viaPg('select id, email, score from customers order by id', [], true);
    expect(result.rows.length).toBe(2);
    expect(leaks(result.rows)).toEqual([]);
    expect(result.rows[0].id).toBe(1);
    expect(result.rows[0].score).toBeGreaterThanOrEqual(10);
  });

  it('RETURNING, cursors (FETCH) and COPY TO STDOUT are masked too', async () => {
    const client = await fx.client();
    try {
      const returned = await client.query("update customers set score = score + 1 where id = 1 returning email, card_number");
      expect(leaks(returned.rows)).toEqual([]);
      await client.query('begin');
      await client.query('declare cur cursor for select email, ssn from customers');
      const fetched = await client.query('fetch all from cur');
      expect(fetched.rows.length).toBe(2);
      expect(leaks(fetched.rows)).toEqual([]);
      await client.query('rollback');
    } finally {
      await client.end();
    }
    for (const format of ['text', 'csv']) {
      const copied = await fx.psql(['-c', `copy (select id, email, card_number from customers order by id) to stdout with (format ${format})`]);
      expect(copied.stderr).toBe('');
      expect(copied.stdout.trim().split('\n')).toHaveLength(2);
      expect(leaks(copied.stdout)).toEqual([]);
    }
    const whole = await fx.psql(['-c', 'copy customers to stdout']);
    expect(leaks(whole.stdout)).toEqual([]);
  });

  it('values in error and notice fields are masked (unique-violation DETAIL, RAISE NOTICE)', async () => {
    const notices: string[] = [];
    const client = await fx.client();
    client.on('notice', (notice) => notices.push(JSON.stringify(notice)));
    try {
      const error = await client.query(`insert into customers (id, email) values (3, '${EMAILS[0]}')`).catch((e: unknown) => e as pg.DatabaseError);
      expect((error as pg.DatabaseError).code).toBe('23505');
      expect(leaks([(error as pg.DatabaseError).detail, (error as pg.DatabaseError).message])).toEqual([]);
      await client.query('select shout()');
      expect(notices.length).toBeGreaterThan(0);
      expect(leaks(notices)).toEqual([]);
    } finally {
      await client.end();
    }
  });

  it('NOTIFY payloads are values too: a detected email is masked before the listener sees it', async () => {
    const listener = await fx.client();
    const sender = await fx.client();
    try {
      const received = new Promise<string | undefined>((resolve) => listener.on('notification', (message) => resolve(message.payload)));
      await listener.query('listen customer_events');
      await sender.query(`select pg_notify('customer_events', 'signed up: ${EMAILS[1]}')`);
      const payload = await received;
      expect(payload).toMatch(/^signed up: /);
      expect(leaks([payload])).toEqual([]);
    } finally {
      await Promise.all([listener.end(), sender.end()]);
    }
  });

  it('postgres.js (extended protocol, pipelined) sees masked values too, and the hash style is stable', async () => {
    const sql = postgres({ host: '127.0.0.1', port: fx.port, user: 'coder', password: fx.token, database: 'app', max: 1, onnotice: () => undefined });
    try {
      const [a, b] = await Promise.all([sql`select email from customers where id = ${1}`, sql`select email from customers where id = ${1}`]);
      expect(leaks([a, b])).toEqual([]);
      expect(a![0]!.email).toBe(b![0]!.email);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  it('records masked column counts and never the raw values', async () => {
    await viaPg('select email from customers');
    await new Promise((resolve) => setTimeout(resolve, 400));
    // Newest first: the session just closed, and the ones of the tests before it (the INSERT with a raw email among them).
    const list = JSON.parse((await fx.gateway.cli(['sessions', 'list', '--json', '--kind', 'database', '--limit', '4'])).stdout) as Array<{ id: string }>;
    const details = await Promise.all(list.map(async (s) => JSON.parse((await fx.gateway.cli(['sessions', 'show', s.id, '--json'])).stdout) as { statements: Array<{ text: string; maskedValues: number; maskedColumns: string[] }> }));
    const statement = details.flatMap((d) => d.statements).find((s) => s.text === 'select email from customers');
    expect(statement?.maskedValues).toBe(2);
    expect(leaks(details)).toEqual([]);
    expect(fx.gateway.output().includes(EMAILS[0]!)).toBe(false);
  });
});
