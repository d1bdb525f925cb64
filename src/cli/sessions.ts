import type { Command } from 'commander';
import type { DbSessionSummary, RecordedDbStatement, RecordedRequest } from '../audit/index.ts';
import type { GitSessionSummary } from '../git/index.ts';
import { withApi } from './api-client.ts';
import type { ConfigLoader } from './program.ts';
import { formatBytes, printJson, printTable } from './output.ts';

export function registerSessionCommands(program: Command, loadConfig: ConfigLoader): void {
  const sessions = program.command('sessions').description('read the recorded git and database sessions');

  sessions
    .command('list')
    .description('recent sessions, newest first')
    .option('--agent <name>', 'only this agent')
    .option('--repo <repo>', 'only this repository: owner/repo or remote/owner/repo (git sessions)')
    .option('--database <name>', 'only this database (database sessions)')
    .option('--kind <kind>', 'git or database')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON')
    .action(async (options: { agent?: string; repo?: string; database?: string; kind?: string; limit: string; json?: boolean }) => {
      const query = new URLSearchParams({ limit: options.limit });
      if (options.agent) query.set('agent', options.agent);
      if (options.repo) query.set('repo', options.repo);
      if (options.database) query.set('database', options.database);
      if (options.kind) query.set('kind', options.kind);
      const result = await withApi(await loadConfig(), (api) => api.call<{ sessions: Array<GitSessionSummary | DbSessionSummary> }>('GET', `/sessions?${query}`));
      const rows = result.sessions;
      if (options.json) return printJson(rows);
      if (rows.length === 0) return void process.stdout.write('no sessions recorded yet\n');
      printTable([
        ['ID', 'STARTED', 'AGENT', 'TARGET', 'OPERATION', 'OUTCOME', 'STATUS', 'IN', 'OUT', 'MS'],
        ...rows.map((s) =>
          s.kind === 'git'
            ? [s.id, s.startedAt, s.agent, s.repo, s.operation, s.outcome, String(s.httpStatus), formatBytes(s.bytesIn), formatBytes(s.bytesOut), String(s.durationMs)]
            : [s.id, s.startedAt, s.agent ?? '-', `db:${s.database}`, s.readOnly ? 'sql (read-only)' : 'sql', s.outcome, '-', formatBytes(s.bytesIn), formatBytes(s.bytesOut), s.durationMs === null ? 'open' : String(s.durationMs)],
        ),
      ]);
    });

  sessions
    .command('show')
    .description('one session with each of its requests')
    .argument('<id>', 'session id (from sessions list)')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const found = await withApi(await loadConfig(), (api) =>
        api.call<{ session: GitSessionSummary; requests: RecordedRequest[] } | { session: DbSessionSummary; statements: RecordedDbStatement[] }>('GET', `/sessions/${encodeURIComponent(id)}`),
      );
      if (options.json) return printJson(found);
      if ('statements' in found) return printDatabaseSession(found.session, found.statements);
      const result = found;
      const s = result.session;
      const lines = [
        `session ${s.id}: ${s.operation} of ${s.repo} by ${s.agent} (${s.authMethod})`,
        `  started   ${s.startedAt}, ${s.durationMs} ms, outcome ${s.outcome} (HTTP ${s.httpStatus})`,
        `  client    ${s.sourceAddress} ${s.userAgent ?? ''}, protocol v${s.protocolVersion}`,
        `  traffic   ${formatBytes(s.bytesIn)} in, ${formatBytes(s.bytesOut)} out, ${s.requests} request(s)`,
        ...(s.refPrefixes.length ? [`  listed    ${s.refPrefixes.join(' ')}`] : []),
        ...(s.refsWanted.length ? [`  wanted    ${s.refsWanted.join(' ')}`] : []),
        ...s.refUpdates.map((u) => `  update    ${u.ref} ${u.oldOid.slice(0, 12)} -> ${u.newOid.slice(0, 12)}`),
        '',
        'requests:',
      ];
      process.stdout.write(lines.join('\n') + '\n');
      printTable([
        ['STARTED', 'ENDPOINT', 'STATUS', 'OUTCOME', 'IN', 'OUT', 'MS', 'DETAIL'],
        ...result.requests.map((r) => [
          new Date(r.startedAt).toISOString(),
          r.endpoint,
          String(r.httpStatus),
          r.outcome,
          formatBytes(r.bytesIn),
          formatBytes(r.bytesOut),
          String(r.durationMs),
          describeDetails(r.details),
        ]),
      ]);
      const pushes = result.requests.map((request) => describePush(request.details)).filter((lines) => lines.length > 0);
      if (pushes.length > 0) process.stdout.write(['', 'push:', ...pushes.flat()].join('\n') + '\n');
    });
}

function describeDetails(details: Record<string, unknown>): string {
  const error = details.error as { message?: string } | undefined;
  if (error?.message) return error.message;
  const parts: string[] = [];
  if (typeof details.command === 'string') parts.push(`command=${details.command}`);
  if (typeof details.wantCount === 'number' && details.wantCount > 0) parts.push(`wants=${details.wantCount}`);
  if (typeof details.haveCount === 'number' && details.haveCount > 0) parts.push(`haves=${details.haveCount}`);
  if (typeof details.refUpdateCount === 'number') parts.push(`ref updates=${details.refUpdateCount}`);
  return parts.join(' ');
}

interface PushDetails {
  decisions?: Array<{ ref: string; verdict: string; rule: string; reason: string }>;
  commitsByRef?: Record<string, { commits?: string[]; changedPaths?: string[] }>;
  findings?: Array<{ ruleId: string; path: string; line: number; commit: string; preview: string }>;
  approvals?: string[];
}

/** What a push asked and what became of each ref: decision, commits, changed files, findings (redacted), holds. */
function describePush(details: Record<string, unknown>): string[] {
  const push = details as PushDetails;
  if (!push.decisions?.length) return [];
  const lines: string[] = [];
  for (const decision of push.decisions) {
    const verdict = decision.verdict === 'allow' ? 'allowed' : decision.verdict === 'block' ? 'BLOCKED' : 'HELD';
    lines.push(`  ${decision.ref}: ${verdict} (${decision.rule}) ${decision.reason}`);
    const summary = push.commitsByRef?.[decision.ref];
    if (summary?.commits?.length) lines.push(`    commits  ${summary.commits.map((sha) => sha.slice(0, 12)).join(' ')}`);
    if (summary?.changedPaths?.length) lines.push(`    files    ${summary.changedPaths.slice(0, 20).join(' ')}${summary.changedPaths.length > 20 ? ` (+${summary.changedPaths.length - 20} more)` : ''}`);
  }
  for (const finding of push.findings ?? []) lines.push(`  secret   ${finding.ruleId} in ${finding.path}:${finding.line} @ ${finding.commit.slice(0, 12)}: ${finding.preview}`);
  if (push.approvals?.length) lines.push(`  holds    ${push.approvals.join(' ')} (portcullis approvals list)`);
  return lines;
}

/** A database session as a replay: every statement in order with its verdict, time, rows and masking. */
function printDatabaseSession(s: DbSessionSummary, statements: RecordedDbStatement[]): void {
  const lines = [
    `session ${s.id}: database ${s.database} by ${s.agent ?? '(not authenticated)'}${s.authMethod ? ` (${s.authMethod})` : ''}${s.readOnly ? ', read-only' : ''}`,
    `  started   ${s.startedAt}${s.durationMs === null ? ', still open' : `, ${s.durationMs} ms`}, outcome ${s.outcome}${s.error ? ` (${s.error})` : ''}`,
    `  client    ${s.sourceAddress}${s.applicationName ? ` ${s.applicationName}` : ''}${s.tls ? ', TLS' : ''}`,
    `  traffic   ${formatBytes(s.bytesIn)} in, ${formatBytes(s.bytesOut)} out, ${statements.length} statement(s)`,
    '',
  ];
  for (const statement of statements) {
    const verdict = statement.verdict === 'allow' ? (statement.approvalId ? `allowed by approval ${statement.approvalId}` : 'allowed') : `${statement.verdict === 'block' ? 'BLOCKED' : 'HELD'} (${statement.rule})${statement.approvalId ? ` approval ${statement.approvalId}` : ''}`;
    const rows = statement.commandTag ? `${statement.commandTag}` : statement.errorCode ? `error ${statement.errorCode}: ${statement.errorMessage ?? ''}` : '';
    lines.push(`#${statement.seq} ${new Date(statement.startedAt).toISOString()} ${statement.durationMs} ms  ${verdict}`);
    lines.push(...statement.text.split('\n').map((line) => `    ${line}`));
    if (rows) lines.push(`    -> ${rows}${statement.rowsReturned ? `, ${statement.rowsReturned} row(s) returned` : ''}`);
    if (statement.maskedValues > 0) lines.push(`    masked ${statement.maskedValues} value(s) in ${statement.maskedColumns.join(', ') || 'detected values'}`);
    if (statement.parameters?.length) lines.push(`    parameters ${statement.parameters.map((p) => (p === null ? 'NULL' : p)).join(', ')}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}
