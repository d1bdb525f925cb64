import type { Command } from 'commander';
import type { AgentSummary } from '../identity/index.ts';
import { withApi } from './api-client.ts';
import type { ConfigLoader } from './program.ts';
import { printJson, printTable } from './output.ts';

export function registerAgentCommands(program: Command, loadConfig: ConfigLoader): void {
  const agent = program.command('agent').description('issue, list and revoke agent tokens');

  agent
    .command('add')
    .description('create an agent and print its token (shown once)')
    .argument('<name>', 'agent name, e.g. claude-ci')
    .option('--read <pattern...>', 'repositories it may clone/fetch: remote/owner/repo globs, e.g. github/acme/*', [])
    .option('--write <pattern...>', 'repositories it may push to (implies read)', [])
    .option('--expires <duration>', 'token lifetime, e.g. 24h, 30m, 7d (default: until revoked)')
    .option('--github-login <login>', 'the GitHub login it commits as; that login can never approve its holds on GitHub')
    .option('--db <name...>', 'databases (names from portcullis.yml, globs) it may read and change through the PostgreSQL proxy', [])
    .option('--db-read <name...>', 'databases it may only read (the upstream session is read-only)', [])
    .option('--json', 'print {"name","token"} as JSON')
    .action(async (name: string, options: { read: string[]; write: string[]; expires?: string; githubLogin?: string; db: string[]; dbRead: string[]; json?: boolean }) => {
      const config = await loadConfig();
      const result = await withApi(config, (api) =>
        api.call<{ agent: AgentSummary; token: string }>('POST', '/agents', {
          name,
          read: options.read,
          write: options.write,
          expires: options.expires,
          githubLogin: options.githubLogin,
          db: options.db,
          dbRead: options.dbRead,
        }),
      );
      if (options.json) return printJson({ name: result.agent.name, token: result.token });
      if (options.read.length + options.write.length + options.db.length + options.dbRead.length === 0) {
        process.stderr.write('note: this agent has no scopes yet, so every repository and database will refuse it (add --read/--write/--db/--db-read)\n');
      }
      process.stdout.write(
        [
          `agent ${result.agent.name} created${result.agent.expiresAt ? `, token expires ${result.agent.expiresAt}` : ''}`,
          `token (shown once, store it now): ${result.token}`,
          '',
          'git sends it as the password (any username); keep it out of URLs, e.g.:',
          `  export PORTCULLIS_TOKEN=<token>`,
          `  git -c credential.helper='!f() { echo username=agent; echo "password=$PORTCULLIS_TOKEN"; }; f' \\`,
          `      clone http://<gateway>/git/<remote>/<owner>/<repo>.git`,
          ...(options.db.length + options.dbRead.length > 0
            ? ['', 'databases: connect as the agent with the token as password, e.g.:', `  PGPASSWORD=$PORTCULLIS_TOKEN psql "host=<gateway> port=6433 user=${result.agent.name} dbname=<database>"`]
            : []),
          '',
        ].join('\n'),
      );
    });

  agent
    .command('list')
    .description('list agents and their scopes')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const { agents } = await withApi(await loadConfig(), (api) => api.call<{ agents: AgentSummary[] }>('GET', '/agents'));
      if (options.json) return printJson(agents);
      if (agents.length === 0) return void process.stdout.write('no agents yet: portcullis agent add NAME --read PATTERN\n');
      printTable([
        ['NAME', 'STATUS', 'READ', 'WRITE', 'DATABASES', 'EXPIRES', 'CREATED'],
        ...agents.map((a) => [
          a.name,
          a.status,
          a.read.join(',') || '-',
          a.write.join(',') || '-',
          [...a.db, ...a.dbRead.map((name) => `${name} (read-only)`)].join(',') || '-',
          a.expiresAt ?? 'never',
          a.createdAt,
        ]),
      ]);
    });

  agent
    .command('revoke')
    .description('revoke an agent token; its next request is refused')
    .argument('<name>', 'agent name')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { json?: boolean }) => {
      const { agent: revoked } = await withApi(await loadConfig(), (api) =>
        api.call<{ agent: AgentSummary }>('DELETE', `/agents/${encodeURIComponent(name)}`),
      );
      if (options.json) return printJson(revoked);
      process.stdout.write(`agent ${revoked.name} revoked at ${revoked.revokedAt}; its token is refused from now on\n`);
    });
}
