import type { Command } from 'commander';
import { withApi } from './api-client.ts';
import type { ConfigLoader } from './program.ts';
import { printJson } from './output.ts';

export function registerAdminCommands(program: Command, loadConfig: ConfigLoader): void {
  const admin = program.command('admin').description('administer the gateway');
  admin
    .command('token')
    .description('issue an admin token for the REST API (shown once)')
    .option('--label <label>', 'what the token is for', 'cli')
    .option('--expires <duration>', 'token lifetime, e.g. 24h (default: until revoked)')
    .option('--json', 'print {"token","expiresAt"} as JSON')
    .action(async (options: { label: string; expires?: string; json?: boolean }) => {
      const result = await withApi(await loadConfig(), (api) =>
        api.call<{ token: string; expiresAt: string | null }>('POST', '/admin-tokens', { label: options.label, expires: options.expires }),
      );
      if (options.json) return printJson(result);
      process.stdout.write(
        `admin token (shown once, store it now): ${result.token}\nuse it as: curl -H "Authorization: Bearer $TOKEN" http://<gateway>/api/v1/sessions\n`,
      );
    });
}
