/**
 * The CLI as an operator meets it: help, starting with and without a config, config mistakes,
 * agents, admin tokens, sessions and migrations, both through a running gateway's control socket
 * and in-process on the embedded store when the gateway is stopped.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../../helpers/gateway.ts';
import { gitOk } from '../../helpers/git-cli.ts';
import { startGitUpstream, type GitUpstream } from '../../helpers/git-upstream.ts';
import { cleanupTempDirs, makeTempDir, seedUpstreamRepo } from '../../helpers/repos.ts';
import { cleanPortcullisEnv, startServe, type ServeProcess } from '../../helpers/serve-process.ts';

let upstream: GitUpstream;
let configPath: string;
let dataDir: string;
let env: NodeJS.ProcessEnv;
let gatewayStarting: Promise<ServeProcess>;
const running: ServeProcess[] = [];

function cli(args: string[], withEnv: NodeJS.ProcessEnv = env) {
  return runCli(args, withEnv);
}

function repoUrl(gatewayUrl: string, token: string): string {
  return `${gatewayUrl.replace('http://', `http://agent:${token}@`)}/git/local/acme/app.git`;
}

async function startTracked(options: Parameters<typeof startServe>[0]): Promise<ServeProcess> {
  const serve = await startServe(options);
  running.push(serve);
  return serve;
}

beforeAll(async () => {
  upstream = await startGitUpstream();
  await seedUpstreamRepo(upstream, 'acme', 'app', [{ message: 'first', files: { 'README.md': '# app\n' } }]);
  const dir = await makeTempDir('cli');
  configPath = path.join(dir.path, 'portcullis.yml');
  dataDir = path.join(dir.path, 'data');
  await writeFile(configPath, stringify({ dataDir: './data', remotes: [{ name: 'local', url: upstream.url }] }));
  env = cleanPortcullisEnv({ PORTCULLIS_CONFIG: configPath });
  // Started now, awaited by the first test that needs it: a first start initialises the embedded
  // store, which takes seconds, and the config-only tests below do not need to wait for that.
  gatewayStarting = startTracked({ env });
  gatewayStarting.catch(() => undefined);
});

afterAll(async () => {
  await Promise.all(running.map((serve) => serve.stop()));
  await upstream?.close();
  await cleanupTempDirs();
});

describe('without a running gateway', () => {
  it('--help lists the commands', async () => {
    const [top, agent] = await Promise.all([cli(['--help']), cli(['agent', '--help'])]);
    expect(top.code).toBe(0);
    for (const command of ['serve', 'migrate', 'agent', 'admin', 'sessions']) expect(top.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    expect(agent.code).toBe(0);
    for (const command of ['add', 'list', 'revoke']) expect(agent.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it('serve with no config file in an empty directory says it runs on built-in defaults with the github remote', async () => {
    const empty = await makeTempDir('cli-empty');
    const serve = await startTracked({ cwd: empty.path, env: cleanPortcullisEnv() });
    await serve.waitForOutput(/agents {3}npx portcullis agent add/);
    expect(serve.output()).toContain('portcullis: no portcullis.yml found (nor --config / PORTCULLIS_CONFIG): running on built-in defaults');
    expect(serve.output()).toContain('  remote   github = https://github.com (anonymous)');
    expect(serve.output()).toContain(`  store    pglite:${path.join(empty.path, 'data', 'pglite')}`);
    expect(await (await fetch(`${serve.url}/healthz`)).json()).toMatchObject({ status: 'ok' });

    expect(await serve.stop()).toBe(0);
    expect(serve.output()).toContain('portcullis: SIGTERM received, finishing open requests');
    expect(existsSync(path.join(empty.path, 'data', 'portcullis.sock'))).toBe(false);
  });

  it('serve with an invalid config exits 1 naming the file, the key and what is wrong', async () => {
    const dir = await makeTempDir('cli-bad-config');
    const files = {
      schema: path.join(dir.path, 'schema.yml'),
      secret: path.join(dir.path, 'secret.yml'),
      yaml: path.join(dir.path, 'yaml.yml'),
    };
    await writeFile(
      files.schema,
      stringify({ listen: { http: 'eighty' }, remotes: [{ name: 'Git Hub', url: 'ftp://example.com' }], colour: 'blue' }),
    );
    await writeFile(files.secret, stringify({ remotes: [{ name: 'forge', url: 'https://forge.example', auth: { bearer: 'env:PORTCULLIS_TEST_UNSET_TOKEN' } }] }));
    await writeFile(files.yaml, 'listen: [http: 8080\n');
    const missing = path.join(dir.path, 'missing.yml');
    const serveWith = (file: string) => cli(['serve', '--port', '0'], cleanPortcullisEnv({ PORTCULLIS_CONFIG: file }));
    const [schema, secret, yaml, notThere] = await Promise.all([serveWith(files.schema), serveWith(files.secret), serveWith(files.yaml), serveWith(missing)]);

    for (const result of [schema, secret, yaml, notThere]) {
      expect(result.code).toBe(1);
      expect(result.stderr).not.toContain('listening');
      expect(result.stderr).not.toContain('unexpected error');
    }
    expect(schema.stderr).toContain(`portcullis: ${files.schema} is not a valid portcullis config:`);
    expect(schema.stderr).toMatch(/^ {2}listen\.http: .*number/m);
    expect(schema.stderr).toContain('  remotes[0].name: must be lowercase letters, digits, "-" or "_"');
    expect(schema.stderr).toContain('  remotes[0].url: must be an http:// or https:// URL');
    expect(schema.stderr).toContain('  (top level): unknown key(s) "colour"');
    expect(schema.stderr).toContain('hint: see the configuration reference in README.md');

    expect(secret.stderr).toContain(
      `portcullis: ${files.secret}: remotes[0].auth.bearer: environment variable PORTCULLIS_TEST_UNSET_TOKEN is not set or empty`,
    );
    expect(secret.stderr).toContain('hint: export PORTCULLIS_TEST_UNSET_TOKEN=... before starting portcullis');
    expect(yaml.stderr).toContain(`portcullis: ${files.yaml}: not valid YAML:`);
    expect(notThere.stderr).toContain(`portcullis: config file ${missing} does not exist`);
  });
});

describe('while the gateway runs (through its control socket)', () => {
  let gateway: ServeProcess;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    gateway = await gatewayStarting;
  });

  it('agent add --json prints the name and token; a bad scope or a duplicate is refused with exit 1', async () => {
    const [added, badScope, badName] = await Promise.all([
      cli(['agent', 'add', 'ci-bot', '--read', 'local/acme/*', '--json']),
      cli(['agent', 'add', 'sloppy', '--read', 'acme/app']),
      cli(['agent', 'add', 'bad name!', '--read', 'local/acme/*']),
    ]);
    expect(added.code).toBe(0);
    const printed = JSON.parse(added.stdout) as { name: string; token: string };
    expect(Object.keys(printed).sort()).toEqual(['name', 'token']);
    expect(printed.name).toBe('ci-bot');
    expect(printed.token).toMatch(/^pcl_agent_/);
    tokens.ci = printed.token;

    expect(badScope.code).toBe(1);
    expect(badScope.stdout).toBe('');
    expect(badScope.stderr).toBe(
      'portcullis: scope "acme/app" must look like remote/owner/repo\nhint: globs are allowed in each part, e.g. local/acme/* or github/acme/app-*\n',
    );
    expect(badName.code).toBe(1);
    expect(badName.stderr).toContain('portcullis: "bad name!" is not a valid agent name');

    const duplicate = await cli(['agent', 'add', 'ci-bot', '--read', 'local/acme/*']);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('portcullis: agent ci-bot already exists');
    expect(duplicate.stderr).toContain('hint: revoke it first (portcullis agent revoke ci-bot)');

    // The running gateway knows the new agent at once.
    await gitOk(['ls-remote', repoUrl(gateway.url, tokens.ci)]);
  });

  it('agent list shows each agent with its status; revoking an unknown agent is a clear error', async () => {
    expect((await cli(['agent', 'add', 'retired', '--write', 'local/acme/app'])).code).toBe(0);
    const [revoked, unknown] = await Promise.all([cli(['agent', 'revoke', 'retired']), cli(['agent', 'revoke', 'nobody'])]);
    expect(revoked.stdout).toMatch(/^agent retired revoked at \S+; its token is refused from now on\n$/);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('portcullis: no active agent named nobody\nhint: portcullis agent list shows the agents\n');

    const list = await cli(['agent', 'list']);
    expect(list.code).toBe(0);
    const rows = list.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^NAME\s+STATUS\s+READ\s+WRITE\s+DATABASES\s+EXPIRES\s+CREATED$/);
    expect(rows.find((row) => row.startsWith('ci-bot '))).toMatch(/^ci-bot\s+active\s+local\/acme\/\*\s+-\s+-\s+never\s/);
    expect(rows.find((row) => row.startsWith('retired '))).toMatch(/^retired\s+revoked\s+-\s+local\/acme\/app\s+-\s+never\s/);

    // Issuing and revoking are on the tamper-evident trail: the token's sha256, never the token.
    const exported = await cli(['audit', 'export', '--format', 'jsonl']);
    const events = exported.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type?: string; subject?: string; actor?: string; data?: { tokenSha256?: string } });
    const issued = events.find((event) => event.type === 'token.issued' && event.subject === 'retired');
    expect(issued?.data?.tokenSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(issued?.actor).toBe('admin (local CLI)');
    expect(events.some((event) => event.type === 'token.revoked' && event.subject === 'retired')).toBe(true);
    expect(exported.stdout).not.toMatch(/pcl_agent_/);
  });

  it('admin token --json prints a token the REST API accepts; sessions show of an unknown id is a clear error', async () => {
    const [admin, missing] = await Promise.all([cli(['admin', 'token', '--json']), cli(['sessions', 'show', 'nope'])]);
    expect(admin.code).toBe(0);
    const issued = JSON.parse(admin.stdout) as { token: string; expiresAt: string | null };
    expect(issued.token).toMatch(/^pcl_admin_/);
    expect(issued.expiresAt).toBeNull();
    const response = await fetch(`${gateway.url}/api/v1/sessions?agent=ci-bot`, { headers: { authorization: `Bearer ${issued.token}` } });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { sessions: Array<{ operation: string }> }).sessions.map((s) => s.operation)).toEqual(['ls-remote']);

    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe('portcullis: no session with id nope\nhint: portcullis sessions list shows recent sessions\n');
  });

  it('migrate while the gateway holds the embedded store says which process holds it', async () => {
    const migrate = await cli(['migrate']);
    expect(migrate.code).toBe(1);
    expect(migrate.stderr).toContain(`is in use by another portcullis process (pid ${gateway.pid})`);
    expect(migrate.stderr).toContain('hint: stop that process, or set DATABASE_URL');
  });

  it('stops cleanly on SIGTERM and removes its control socket', async () => {
    expect(await gateway.stop()).toBe(0);
    expect(existsSync(path.join(dataDir, 'portcullis.sock'))).toBe(false);
  });
});

describe('with the gateway stopped (in-process on the embedded store)', () => {
  it('reads what was written through the running gateway, and migrate says the store is up to date (twice)', async () => {
    const list = await cli(['agent', 'list', '--json']);
    expect(list.code).toBe(0);
    const agents = JSON.parse(list.stdout) as Array<{ name: string; status: string }>;
    expect(agents.map((a) => [a.name, a.status])).toEqual([
      ['ci-bot', 'active'],
      ['retired', 'revoked'],
    ]);

    const sessions = JSON.parse((await cli(['sessions', 'list', '--json'])).stdout) as Array<{ agent: string; operation: string }>;
    expect(sessions).toEqual([expect.objectContaining({ agent: 'ci-bot', operation: 'ls-remote' })]);

    for (let run = 0; run < 2; run++) {
      const migrate = await cli(['migrate']);
      expect(migrate.code).toBe(0);
      expect(migrate.stdout).toBe(`store pglite:${path.join(dataDir, 'pglite')} is up to date\n`);
    }
  });

  it('an agent added while stopped can use its token once the gateway is back', async () => {
    // One at a time: each command opens the embedded store itself, and it admits one process.
    const added = await cli(['agent', 'add', 'offline-bot', '--read', 'local/*/*', '--json']);
    const missing = await cli(['sessions', 'show', 'nope']);
    expect(added.code).toBe(0);
    const { token } = JSON.parse(added.stdout) as { token: string };
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('portcullis: no session with id nope');

    const restarted = await startTracked({ env });
    await gitOk(['ls-remote', repoUrl(restarted.url, token)]);
    const sessions = JSON.parse((await cli(['sessions', 'list', '--json', '--agent', 'offline-bot'])).stdout) as Array<{ operation: string; outcome: string }>;
    expect(sessions).toEqual([expect.objectContaining({ operation: 'ls-remote', outcome: 'ok' })]);
  });
});
