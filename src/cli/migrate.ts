import type { Command } from 'commander';
import { openStore, storeTargetFrom } from '../store/index.ts';
import type { ConfigLoader } from './program.ts';

export function registerMigrateCommand(program: Command, loadConfig: ConfigLoader): void {
  program
    .command('migrate')
    .description('apply pending store migrations and exit (serve also applies them at start)')
    .action(async () => {
      const config = await loadConfig();
      const store = await openStore(storeTargetFrom(process.env, config.dataDir));
      await store.close();
      process.stdout.write(`store ${store.description} is up to date\n`);
    });
}
