import type { Command } from 'commander';
import type { StoredApproval } from '../approvals/index.ts';
import { withApi } from './api-client.ts';
import type { ConfigLoader } from './program.ts';
import { printJson, printTable } from './output.ts';

export function registerApprovalCommands(program: Command, loadConfig: ConfigLoader): void {
  const approvals = program.command('approvals').description('review held pushes: list, approve, deny, grant windows');

  approvals
    .command('list')
    .description('held pushes and held SQL statements, newest first')
    .option('--status <status>', 'pending | approved | denied | expired | applied | stale')
    .option('--json', 'print JSON')
    .action(async (options: { status?: string; json?: boolean }) => {
      const query = options.status ? `?status=${encodeURIComponent(options.status)}` : '';
      const { approvals: rows } = await withApi(await loadConfig(), (api) => api.call<{ approvals: StoredApproval[] }>('GET', `/approvals${query}`));
      if (options.json) return printJson(rows);
      if (rows.length === 0) return void process.stdout.write(`no ${options.status ?? ''} approvals\n`.replace('no  ', 'no '));
      printTable([
        ['ID', 'STATUS', 'AGENT', 'TARGET', 'WHAT', 'WHY', 'EXPIRES'],
        ...rows.map((a) =>
          a.kind === 'sql'
            ? [a.id, a.status, a.agent, `db:${a.owner}`, truncate(String(a.summary.statement ?? a.ref), 60), a.reasons.join('; '), String(a.expiresAt)]
            : [a.id, a.status, a.agent, `${a.remote}/${a.owner}/${a.repo}`, `${a.ref} ${a.newOid.slice(0, 12)}`, a.reasons.join('; '), String(a.expiresAt)],
        ),
      ]);
    });

  for (const verb of ['approve', 'deny'] as const) {
    approvals
      .command(verb)
      .description(
        verb === 'approve'
          ? 'approve a hold: a held push moves the protected ref to the held commit; a held SQL statement may then run once'
          : 'deny a hold: a held push loses its held branch; a held SQL statement stays refused',
      )
      .argument('<id>', 'approval id (printed by git push, listed by approvals list)')
      .requiredOption('--as <reviewer>', 'who decides (recorded); never the agent that pushed')
      .option('--comment <text>', 'why (recorded)')
      .option('--json', 'print JSON')
      .action(async (id: string, options: { as: string; comment?: string; json?: boolean }) => {
        const { approval } = await withApi(await loadConfig(), (api) =>
          api.call<{ approval: StoredApproval }>('POST', `/approvals/${encodeURIComponent(id)}/${verb}`, { reviewer: options.as, comment: options.comment }),
        );
        if (options.json) return printJson(approval);
        process.stdout.write(`${describeOutcome(approval)}\n`);
      });
  }

  approvals
    .command('grant')
    .description("let an agent's pushes to matching refs pass without a hold for a while (still scanned and recorded)")
    .requiredOption('--agent <name>', 'agent name')
    .requiredOption('--ref <glob>', 'ref glob, e.g. refs/heads/main or refs/heads/release/*')
    .requiredOption('--for <duration>', 'how long, e.g. 30m, 2h')
    .requiredOption('--as <reviewer>', 'who grants (recorded)')
    .option('--repo <glob>', 'remote/owner/repo glob', '*/*/*')
    .option('--json', 'print JSON')
    .action(async (options: { agent: string; ref: string; for: string; as: string; repo: string; json?: boolean }) => {
      const { grant } = await withApi(await loadConfig(), (api) =>
        api.call<{ grant: { id: string; expiresAt: string } }>('POST', '/grants', {
          agent: options.agent,
          ref: options.ref,
          repo: options.repo,
          for: options.for,
          grantedBy: options.as,
        }),
      );
      if (options.json) return printJson(grant);
      process.stdout.write(`grant ${grant.id}: ${options.agent} may push to ${options.ref} in ${options.repo} without a hold until ${grant.expiresAt}\n`);
    });
}

function truncate(text: string, length: number): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > length ? `${line.slice(0, length - 1)}…` : line;
}

function describeOutcome(approval: StoredApproval): string {
  if (approval.kind === 'sql') {
    const statement = truncate(String(approval.summary.statement ?? ''), 80);
    if (approval.status === 'approved') return `approved ${approval.id}: ${approval.agent} may run this statement once on ${approval.owner} (same text): ${statement}`;
    if (approval.status === 'denied') return `denied ${approval.id}: the statement stays refused: ${statement}`;
    return `approval ${approval.id} is ${approval.status}`;
  }
  const target = `${approval.ref} of ${approval.remote}/${approval.owner}/${approval.repo}`;
  switch (approval.status) {
    case 'applied':
      // A held delete (new id all zeros) removed the ref rather than moving it.
      if (/^0+$/.test(approval.newOid)) return `approved ${approval.id}: ${target} was deleted`;
      return `approved ${approval.id}: ${target} is now ${approval.newOid.slice(0, 12)}`;
    case 'stale':
      return `approval ${approval.id} is stale: ${approval.staleReason}`;
    case 'denied':
      return `denied ${approval.id}: ${target} stays as it was; the held branch was removed`;
    default:
      return `approval ${approval.id} is ${approval.status}`;
  }
}
