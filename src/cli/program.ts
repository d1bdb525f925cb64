import { Command } from 'commander';
import { loadConfig, type Config, type LoadedConfig } from '../config/index.ts';
import { registerAdminCommands } from './admin.ts';
import { registerAuditCommands } from './audit.ts';
import { registerApprovalCommands } from './approvals.ts';
import { registerGitHubCommands } from './github.ts';
import { registerAgentCommands } from './agent.ts';
import { registerMigrateCommand } from './migrate.ts';
import { registerScanCommand } from './scan.ts';
import { registerSessionCommands } from './sessions.ts';
import { registerServeCommand } from './serve.ts';

export interface ConfigLoader {
  (): Promise<Config>;
  withSource(): Promise<LoadedConfig>;
}

export function createProgram(): Command {
  const program = new Command('portcullis')
    .description('guardrail gateway for AI coding agents')
    .option('-c, --config <path>', 'config file (default: $PORTCULLIS_CONFIG or ./portcullis.yml)')
    .showHelpAfterError('(run portcullis --help for usage)');

  const withSource = () => loadConfig({ configPath: program.opts<{ config?: string }>().config });
  const loader: ConfigLoader = Object.assign(async () => (await withSource()).config, { withSource });

  registerServeCommand(program, loader);
  registerMigrateCommand(program, loader);
  registerAgentCommands(program, loader);
  registerAdminCommands(program, loader);
  registerSessionCommands(program, loader);
  registerApprovalCommands(program, loader);
  registerGitHubCommands(program, loader);
  registerScanCommand(program);
  registerAuditCommands(program, loader);
  return program;
}
