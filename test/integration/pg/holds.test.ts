import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPgProxy, type PgProxyFixture } from '../../helpers/pg-proxy.ts';

/**
 * Held statements through the PostgreSQL proxy, end to end: what the agent sees (psql and
 * node-postgres), what an operator does (`portcullis approvals …`), and what reaches the database.
 */

interface ListedApproval {
  id: string;
  kind: string;
  status: string;
  agent: string;
  owner: string;
  decidedBy?: string | null;
}

const HELD = /portcullis held this statement for approval (\S+) \(rule ([a-z-]+)\)/;

/** The gateway with the default policy (holdMode error) and `accounts` protected. */
let fx: PgProxyFixture;
/** The same, with `sql.holdMode: wait`. */
let waiting: PgProxyFixture;

beforeAll(async () => {
  [fx, waiting] = await Promise.all([
    startPgProxy({
      policy: { sql: { protectedTables: ['accounts'] } },
      setupSql: `
        create table accounts (id int primary key, x int not null default 0, owner text);
        insert into accounts values (1, 0, 'ann'), (2, 0, 'ben');
        create view account_view as select id, x from accounts;
        create table notes (id int primary key, body text);
        insert into notes values (1, 'one');
      `,
    }),
    startPgProxy({ policy: { sql: { holdMode: 'wait', holdTimeout: '1m' } } }),
  ]);
});
afterAll(async () => {
  await Promise.all([fx?.stop(), waiting?.stop()]);
});

async function tableExists(fixture: PgProxyFixture, name: string): Promise<boolean> {
  const rows = await fixture.direct`select to_regclass(${`public.${name}`}) is not null as present`;
  return rows[0]!.present as boolean;
}

/** Runs a statement through psql and returns the approval id it was held under (failing if it ran). */
async function heldByPsql(fixture: PgProxyFixture, statement: string): Promise<{ id: string; stderr: string }> {
  const result = await fixture.psql(['-c', statement]);
  expect(result.code, `expected "${statement}" to be held, psql said: ${result.stdout}${result.stderr}`).not.toBe(0);
  const match = HELD.exec(result.stderr);
  expect(match, result.stderr).not.toBeNull();
  return { id: match![1]!, stderr: result.stderr };
}

async function listApprovals(fixture: PgProxyFixture): Promise<ListedApproval[]> {
  const result = await fixture.gateway.cli(['approvals', 'list', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as ListedApproval[];
}

async function decide(fixture: PgProxyFixture, verb: 'approve' | 'deny', id: string, reviewer = 'alice') {
  return fixture.gateway.cli(['approvals', verb, id, '--as', reviewer, '--json']);
}

describe('PostgreSQL proxy: held statements (holdMode error)', () => {
  it('holds CREATE TABLE with an approval id and a hint; approved, the same text runs once, then is held again', async () => {
    const first = await heldByPsql(fx, 'create table t2 (id int)');
    expect(first.stderr).toMatch(/ERROR: {2}portcullis held this statement for approval \S+ \(rule ddl\)/);
    expect(first.stderr).toContain(`HINT:  a maintainer can approve it (portcullis approvals approve ${first.id}`);
    expect(first.stderr).toMatch(/then run exactly the same statement again/);
    expect(await tableExists(fx, 't2')).toBe(false);

    const listed = (await listApprovals(fx)).find((approval) => approval.id === first.id);
    expect(listed).toMatchObject({ id: first.id, kind: 'sql', status: 'pending', agent: 'coder', owner: 'app' });

    // The agent cannot approve its own statement; the approval stays pending.
    const selfReview = await decide(fx, 'approve', first.id, 'coder');
    expect(selfReview.code).not.toBe(0);
    expect(selfReview.stderr).toMatch(/cannot approve its own hold/);

    const approved = await decide(fx, 'approve', first.id);
    expect(approved.code, approved.stderr).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ id: first.id, status: 'approved', decidedBy: 'alice' });

    const run = await fx.psql(['-c', 'create table t2 (id int)']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe('CREATE TABLE');
    expect(await tableExists(fx, 't2')).toBe(true);

    // Used up: the same statement is held again under a new approval (had it run, the server would say "already exists").
    const again = await heldByPsql(fx, 'create table t2 (id int)');
    expect(again.id).not.toBe(first.id);
    expect(again.stderr).not.toMatch(/already exists/);
  });

  it('a denied statement stays refused and never reaches the database', async () => {
    const held = await heldByPsql(fx, 'create table t_denied (id int)');
    const denied = await decide(fx, 'deny', held.id);
    expect(denied.code, denied.stderr).toBe(0);
    expect(JSON.parse(denied.stdout)).toMatchObject({ id: held.id, status: 'denied' });

    const retry = await heldByPsql(fx, 'create table t_denied (id int)');
    expect(retry.id).not.toBe(held.id);
    expect(await tableExists(fx, 't_denied')).toBe(false);
    const listed = await listApprovals(fx);
    expect(listed.find((approval) => approval.id === held.id)).toMatchObject({ status: 'denied' });
    expect(listed.find((approval) => approval.id === retry.id)).toMatchObject({ status: 'pending', kind: 'sql' });
  });

  it('an approval covers exactly the text that was held: one extra space is another statement', async () => {
    const held = await heldByPsql(fx, 'create table t_space (id int)');
    const approved = await decide(fx, 'approve', held.id);
    expect(approved.code, approved.stderr).toBe(0);

    const spaced = await heldByPsql(fx, 'create table t_space  (id int)');
    expect(spaced.id).not.toBe(held.id);
    expect(await tableExists(fx, 't_space')).toBe(false);

    // The approval was not used up by the other text: the exact statement still runs.
    const exact = await fx.psql(['-c', 'create table t_space (id int)']);
    expect(exact.stderr).toBe('');
    expect(exact.stdout.trim()).toBe('CREATE TABLE');
    expect(await tableExists(fx, 't_space')).toBe(true);
  });

  it('the extended protocol (node-postgres, Parse/Bind/Execute) is held and approved the same way', async () => {
    const client = await fx.client();
    try {
      const statement = { text: 'create table t_ext (id int)', queryMode: 'extended' as const };
      const refused = (await client.query(statement).then(
        () => null,
        (caught: Error & { code?: string }) => caught,
      ))!;
      expect(refused).not.toBeNull();
      expect(refused.code).toBe('42501');
      const id = HELD.exec(refused.message)![1]!;
      expect(await tableExists(fx, 't_ext')).toBe(false);

      const approved = await decide(fx, 'approve', id);
      expect(approved.code, approved.stderr).toBe(0);
      const ran = await client.query(statement);
      expect(ran.command).toBe('CREATE');
      expect(await tableExists(fx, 't_ext')).toBe(true);
      const again = (await client.query(statement).then(
        () => null,
        (caught: Error & { code?: string }) => caught,
      ))!;
      expect(again?.message).toMatch(HELD);
      expect(HELD.exec(again.message)![1]).not.toBe(id);
    } finally {
      await client.end();
    }
  });

  it('protected tables: UPDATE and DELETE with a WHERE (also schema-qualified), INSERT … ON CONFLICT DO UPDATE and a write through a view are held; a plain INSERT is allowed', async () => {
    const client = await fx.client();
    try {
      const expectHeld = async (statement: string) => {
        const error = (await client.query(statement).then(
          () => null,
          (caught: unknown) => caught,
        )) as (Error & { code?: string }) | null;
        expect(error, `${statement} was not held`).not.toBeNull();
        expect(error!.code).toBe('42501');
        expect(error!.message).toMatch(HELD);
        expect(HELD.exec(error!.message)![2]).toBe('protected-table-write');
      };
      await expectHeld('update accounts set x=1 where id=1');
      await expectHeld('delete from accounts where id=1');
      await expectHeld('update account_view set x=1 where id=1');
      await expectHeld('update public.accounts set x=1 where id=2');
      await expectHeld("insert into accounts values (1, 5, 'ann') on conflict (id) do update set x = excluded.x");

      const inserted = await client.query("insert into accounts values (3, 0, 'cal')");
      expect(inserted.rowCount).toBe(1);
      // An unprotected table next to it is written as usual.
      const updated = await client.query("update notes set body = 'changed' where id = 1");
      expect(updated.rowCount).toBe(1);
    } finally {
      await client.end();
    }
    const rows = await fx.direct`select id, x from accounts order by id`;
    expect(rows.map((row) => [row.id, row.x])).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
    ]);
    const notes = await fx.direct`select body from notes where id = 1`;
    expect(notes[0]!.body).toBe('changed');
  });
});

describe('PostgreSQL proxy: held statements (holdMode wait)', () => {
  /** Starts `statement` and resolves with the approval id from the NoticeResponse that arrives while it waits. */
  async function startHeld(client: pg.Client, statement: string) {
    const notices: string[] = [];
    client.on('notice', (notice) => void notices.push(notice.message ?? ''));
    let settled = false;
    const query = client.query(statement).finally(() => (settled = true));
    query.catch(() => undefined);
    for (let attempt = 0; attempt < 100 && notices.length === 0 && !settled; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(notices, 'no NoticeResponse while the statement waits').toHaveLength(1);
    expect(settled, 'the held statement was answered before a decision').toBe(false);
    const match = /held for approval (\S+) \(/.exec(notices[0]!);
    expect(match, notices[0]).not.toBeNull();
    return { id: match![1]!, notice: notices[0]!, query };
  }

  it('the statement waits with a notice naming the approval, and completes once it is approved', async () => {
    const client = await waiting.client();
    try {
      const held = await startHeld(client, 'create table t3 (id int)');
      expect(held.notice).toContain(`portcullis approvals approve ${held.id}`);
      expect(await tableExists(waiting, 't3')).toBe(false);

      const listed = await waiting.gateway.cli(['approvals', 'list', '--json']);
      expect((JSON.parse(listed.stdout) as ListedApproval[]).find((approval) => approval.id === held.id)).toMatchObject({ kind: 'sql', status: 'pending' });

      const approved = await decide(waiting, 'approve', held.id);
      expect(approved.code, approved.stderr).toBe(0);
      const result = await held.query;
      expect(result.command).toBe('CREATE');
      expect(await tableExists(waiting, 't3')).toBe(true);
      // The session goes on as usual.
      expect((await client.query('select count(*)::int as n from t3')).rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('a denied waiting statement fails with an error saying it was denied, and the session stays usable', async () => {
    const client = await waiting.client();
    try {
      const held = await startHeld(client, 'create table t4 (id int)');
      const denied = await decide(waiting, 'deny', held.id);
      expect(denied.code, denied.stderr).toBe(0);
      await expect(held.query).rejects.toMatchObject({ code: '42501', message: expect.stringMatching(new RegExp(`approval ${held.id} was denied by alice`)) });
      expect(await tableExists(waiting, 't4')).toBe(false);
      expect((await client.query('select 1 as one')).rows[0].one).toBe(1);
    } finally {
      await client.end();
    }
  });
});
