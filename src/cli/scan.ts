import { readFileSync } from 'node:fs';
import { Option, type Command, type CommanderError } from 'commander';
import { isPortcullisError } from '../errors.ts';
import {
  ALLOW_MARKER,
  createSecretScanner,
  readFileInputs,
  readRangeAddedLines,
  toSarif,
  type SarifFinding,
  type SecretScanner,
} from '../scan/index.ts';
import { printJson } from './output.ts';

type Format = 'text' | 'json' | 'sarif';

interface ScanReport {
  findings: SarifFinding[];
  scanned: { files: number; bytes: number };
  skipped: Array<{ path: string; reason: string; commit?: string }>;
}

/** Exit codes: 0 clean, 1 secrets found, 2 usage error or the scan could not run. */
const EXIT = { clean: 0, found: 1, usage: 2 } as const;

/**
 * `portcullis scan PATH...` and `portcullis scan --range A..B`: the gateway's own scanner as a
 * pre-commit hook or CI step. Needs no config or store.
 */
export function registerScanCommand(program: Command): void {
  program
    .command('scan')
    .description('scan files, directories or the commits of a range for secrets; exit 1 when any is found')
    .argument('[paths...]', 'files or directories (recursively; .git and node_modules are skipped)')
    .option('--range <A..B>', 'scan the lines added by each commit in A..B of the repository in the current directory')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'sarif']).default('text'))
    .exitOverride(exitOnUsageError)
    .action(async function scanAction(this: Command, paths: string[], options: { range?: string; format: Format }) {
      if (paths.length > 0 && options.range) this.error('error: give paths or --range, not both', { exitCode: EXIT.usage });
      if (paths.length === 0 && !options.range) this.error('error: nothing to scan: give files or directories, or --range A..B', { exitCode: EXIT.usage });
      if (options.range && !/^[^\s-]\S*\.\.\.?\S+$/.test(options.range)) {
        this.error(`error: "${options.range}" is not a commit range: write it as A..B, e.g. origin/main..HEAD`, { exitCode: EXIT.usage });
      }
      let report: ScanReport;
      try {
        const scanner = await createSecretScanner();
        report = options.range ? await scanRange(scanner, options.range) : await scanPaths(scanner, paths);
      } catch (error) {
        if (isPortcullisError(error)) {
          process.stderr.write(`portcullis: ${error.userMessage}\n${error.hint ? `hint: ${error.hint}\n` : ''}`);
        } else if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          process.stderr.write(`portcullis: no such file or directory: ${(error as NodeJS.ErrnoException).path}\n`);
        } else throw error;
        process.exit(EXIT.usage);
      }
      print(report, options.format);
      process.exitCode = report.findings.length > 0 ? EXIT.found : EXIT.clean;
    });
}

function exitOnUsageError(error: CommanderError): never {
  const helpOrVersion = ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code);
  process.exit(helpOrVersion ? 0 : EXIT.usage);
}

async function scanPaths(scanner: SecretScanner, paths: string[]): Promise<ScanReport> {
  const report: ScanReport = { findings: [], scanned: { files: 0, bytes: 0 }, skipped: [] };
  for await (const item of readFileInputs(paths)) {
    if (item.kind === 'skipped') {
      report.skipped.push({ path: item.path, reason: item.reason });
      continue;
    }
    report.scanned.files += 1;
    report.scanned.bytes += item.bytes;
    report.findings.push(...(await scanner.scan(item.input)));
  }
  return report;
}

async function scanRange(scanner: SecretScanner, range: string): Promise<ScanReport> {
  const report: ScanReport = { findings: [], scanned: { files: 0, bytes: 0 }, skipped: [] };
  for await (const file of readRangeAddedLines(range)) {
    if ('skipped' in file) {
      report.skipped.push({ path: file.path, reason: file.skipped === 'binary' ? 'binary' : 'too large', commit: file.commit });
      continue;
    }
    report.scanned.files += 1;
    for (const line of file.lines) report.scanned.bytes += line.text.length + 1;
    for (const finding of await scanner.scan({ path: file.path, lines: file.lines })) report.findings.push({ ...finding, commit: file.commit });
  }
  return report;
}

function print(report: ScanReport, format: Format): void {
  if (format === 'json') return printJson(report);
  if (format === 'sarif') return printJson(toSarif(report.findings, { version: packageVersion() }));
  for (const skip of report.skipped) {
    process.stderr.write(`skipped ${skip.path}${skip.commit ? ` in ${skip.commit.slice(0, 7)}` : ''} (${skip.reason})\n`);
  }
  const out: string[] = [];
  for (const f of report.findings) {
    out.push(`${f.path}:${f.line}:${f.column}  ${f.ruleId}  ${f.preview}${f.commit ? `  (commit ${f.commit.slice(0, 7)})` : ''}`);
    out.push(`    ${f.message}`);
    out.push(`    fingerprint ${f.fingerprint}`);
  }
  const files = `${report.scanned.files} file${report.scanned.files === 1 ? '' : 's'}`;
  if (report.findings.length === 0) out.push(`no secrets found in ${files}`);
  else {
    const n = report.findings.length;
    out.push(
      '',
      `${n} secret${n === 1 ? '' : 's'} found in ${files} scanned.`,
      'Remove each one and rotate it: it is exposed once committed. A false positive can be allowed by',
      `its fingerprint (git.secrets.allow in rules/policy.yml) or a "${ALLOW_MARKER}" comment on its line.`,
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}
