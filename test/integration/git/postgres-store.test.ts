/**
 * The clone/push flow with the store on PostgreSQL (DATABASE_URL), and two gateway processes
 * sharing that database: each records into the same store and sees what the other recorded.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../helpers/gateway.ts';
import { gitOk, runGit } from '../../helpers/git-cli.ts';
import { startGitUpstream, type GitUpstream } from '../../helpers/git-upstream.ts';
import { createTestDatabase, postgresAvailable } from '../../helpers/postgres.ts';
import { cleanupTempDirs, createWorkRepo, makeTempDir, seedUpstreamRepo } from '../../helpers/repos.ts';

const UPSTREAM_USER = 'forge-bot';
const UPSTREAM_PASSWORD = 'upstream-password-FAKE-do-not-leak';

const pgUp = await postgresAvailable();
if (!pgUp && process.env.CI) throw new Error('CI must provide PostgreSQL at 127.0.0.1:5432 (or PORTCULLIS_TEST_PG)');

interface RecordedSession {
  id: string;
  agent: string;
  repo: string;
  operation: string;
  outcome: string;
  httpStatus: number;
  protocolVersion: number;
  bytesOut: number;
  refUpdates: Array<{ ref: string; newOid: string }>;
}

describe.skipIf(!pgUp)('the gateway on PostgreSQL', () => {
  let upstream: GitUpstream;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let first: RunningGateway;
  let second: RunningGateway;
  let seeded: string[];
  let token: string;

  function repoUrl(gateway: RunningGateway): string {
    return `${gateway.url.replace('http://', `http://agent:${token}@`)}/git/local/acme/app.git`;
  }

  async function sessionsSeenBy(gateway: RunningGateway): Promise<RecordedSession[]> {
    const listed = await gateway.cli(['sessions', 'list', '--json', '--agent', 'pg-writer']);
    expect(listed.code).toBe(0);
    return JSON.parse(listed.stdout) as RecordedSession[];
  }

  beforeAll(async () => {
    [upstream, database] = await Promise.all([
      startGitUpstream({ basicAuth: { username: UPSTREAM_USER, password: UPSTREAM_PASSWORD } }),
      createTestDatabase(),
    ]);
    seeded = await seedUpstreamRepo(upstream, 'acme', 'app', [
      { message: 'first', files: { 'README.md': '# app\n' } },
      { message: 'second', files: { 'src/main.txt': 'hello\n' } },
    ]);
    const options = {
      config: { remotes: [{ name: 'local', url: upstream.url, auth: { basic: { username: UPSTREAM_USER, password: 'env:UPSTREAM_PASSWORD' } } }] },
      env: { UPSTREAM_PASSWORD, DATABASE_URL: database.url },
    };
    // Both start (and migrate) at once: the migration lock lets one apply, the other wait.
    [first, second] = await Promise.all([startGateway(options), startGateway(options)]);
    token = await first.addAgent('pg-writer', { write: ['local/acme/app'] });
  });

  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
    await upstream?.close();
    await database?.drop();
    await cleanupTempDirs();
  });

  it('says it runs on PostgreSQL', async () => {
    const host = new URL(database.url);
    for (const gateway of [first, second]) {
      expect(gateway.output()).toContain(`  store    postgres://${host.host}${host.pathname}`);
      expect(await (await fetch(`${gateway.url}/healthz`)).json()).toMatchObject({ status: 'ok', store: `postgres://${host.host}${host.pathname}` });
    }
  });

  it('clones and pushes through one gateway and records the sessions in PostgreSQL', async () => {
    const work = await makeTempDir('pg-clone');
    await gitOk(['clone', '-q', repoUrl(first), work.path]);
    expect((await gitOk(['rev-parse', 'HEAD'], { cwd: work.path })).stdout.trim()).toBe(seeded[1]);
    const { shas } = await createWorkRepo(work.path, [{ message: 'on postgres', files: { 'pg.txt': 'recorded\n' } }]);
    // A feature branch: main is protected, so a push there would be held.
    await gitOk(['push', '-q', 'origin', 'HEAD:refs/heads/feature/pg'], { cwd: work.path });
    const upstreamMain = await runGit(['--git-dir', path.join(upstream.root, 'acme/app.git'), 'rev-parse', 'refs/heads/feature/pg']);
    expect(upstreamMain.stdout.trim()).toBe(shas[0]);

    const sessions = await sessionsSeenBy(first);
    const clone = sessions.find((s) => s.operation === 'clone');
    const push = sessions.find((s) => s.operation === 'push');
    expect(clone).toMatchObject({ agent: 'pg-writer', repo: 'local/acme/app', outcome: 'ok', httpStatus: 200, protocolVersion: 2 });
    expect(clone!.bytesOut).toBeGreaterThan(0);
    expect(push).toMatchObject({ agent: 'pg-writer', outcome: 'ok', httpStatus: 200 });
    expect(push!.refUpdates).toEqual([expect.objectContaining({ ref: 'refs/heads/feature/pg', newOid: shas[0] })]);
  });

  it('a second gateway on the same DATABASE_URL knows the agent and records into the same store', async () => {
    const work = await makeTempDir('pg-second');
    // The agent was added through the first gateway; the second one authenticates it from the shared store.
    await gitOk(['clone', '-q', repoUrl(second), work.path]);

    const seenByFirst = await sessionsSeenBy(first);
    const seenBySecond = await sessionsSeenBy(second);
    expect(seenBySecond.map((s) => s.id)).toEqual(seenByFirst.map((s) => s.id));
    expect(seenByFirst.filter((s) => s.operation === 'clone')).toHaveLength(2);
    expect(seenByFirst.filter((s) => s.operation === 'push')).toHaveLength(1);
    expect(seenByFirst.every((s) => s.outcome === 'ok')).toBe(true);
  });
});
