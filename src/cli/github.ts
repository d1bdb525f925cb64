import type { Command } from 'commander';
import type { BypassRecord } from '../github/bypass.ts';
import type { DeliveryRecord, InstallationRecord } from '../github/index.ts';
import { withApi } from './api-client.ts';
import { printJson, printTable } from './output.ts';
import type { ConfigLoader } from './program.ts';

interface GitHubStatus {
  configured: boolean;
  app: { appId: string; apiUrl: string; gitUrl: string; gheHost: string | null } | null;
  installations: InstallationRecord[];
  recentDeliveries: Array<DeliveryRecord & { at: string }>;
  /** Pushes to GitHub around the gateway by agents' GitHub logins, newest first (absent from older gateways). */
  recentBypasses?: Array<BypassRecord & { at: string }>;
}

export function registerGitHubCommands(program: Command, loadConfig: ConfigLoader): void {
  const github = program.command('github').description('the portcullis GitHub App: installations and webhook deliveries');

  github
    .command('status')
    .description('whether the app is configured, its installations and their repositories, recent webhook deliveries')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const status = await withApi(await loadConfig(), (api) => api.call<GitHubStatus>('GET', '/github/installations'));
      if (options.json) return printJson(status);
      const say = (line: string) => process.stdout.write(`${line}\n`);
      if (status.app) {
        say(`GitHub App ${status.app.appId}: API ${status.app.apiUrl}, git ${status.app.gitUrl}`);
      } else {
        say('the GitHub App is not configured on this gateway: set APP_ID, PRIVATE_KEY_PATH (or PRIVATE_KEY) and WEBHOOK_SECRET,');
        say('or the github section of portcullis.yml (README.md, "GitHub App")');
      }
      if (status.installations.length === 0) {
        if (status.app) say('no installations recorded yet: they arrive with the installation webhook when an org installs the app');
      } else {
        say('');
        printTable([
          ['INSTALLATION', 'ACCOUNT', 'TYPE', 'SUSPENDED', 'REPOSITORIES', 'UPDATED'],
          ...status.installations.map((i) => [
            String(i.id),
            i.account,
            i.targetType,
            i.suspended ? 'yes' : 'no',
            describeRepositories(i),
            i.updatedAt,
          ]),
        ]);
      }
      if (status.recentDeliveries.length > 0) {
        say('');
        printTable([
          ['DELIVERY', 'EVENT', 'INSTALLATION', 'OUTCOME', 'FROM', 'AT'],
          ...status.recentDeliveries.map((d) => [
            d.deliveryId ?? '-',
            [d.event ?? '-', d.action].filter(Boolean).join('.'),
            d.installationId === null ? '-' : String(d.installationId),
            d.outcome,
            d.sourceAddress,
            d.at,
          ]),
        ]);
      }
      if (status.recentBypasses && status.recentBypasses.length > 0) {
        say('');
        say("pushes around portcullis by agents' GitHub logins:");
        printTable([
          ['AGENT', 'LOGIN', 'REPOSITORY', 'REF', 'BEFORE..AFTER', 'DELIVERY', 'AT'],
          ...status.recentBypasses.map((b) => [
            b.agent,
            b.pusherLogin,
            `${b.owner}/${b.repo}`,
            b.ref,
            `${b.before.slice(0, 12)}..${b.after.slice(0, 12)}`,
            b.deliveryId,
            b.at,
          ]),
        ]);
      }
    });
}

function describeRepositories(installation: InstallationRecord): string {
  const names = installation.repositories.map((r) => `${r.owner}/${r.repo}`).join(', ');
  if (installation.repositorySelection === 'all') return names ? `all, including ${names}` : 'all';
  return names || '(none)';
}
