/**
 * Runs the real `git` CLI for tests in an environment that cannot see the developer's config,
 * credentials or repository, with fixed identities and dates so commit hashes are stable
 * (STYLE.md "How portcullis applies this" 13).
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** 2024-01-01T00:00:00Z: the default author/committer time, in seconds since the epoch. */
export const FIXED_GIT_EPOCH = 1_704_067_200;

/** A date in git's raw format (`<seconds> +0000`), `offsetSeconds` after FIXED_GIT_EPOCH. */
export function gitDate(offsetSeconds = 0): string {
  return `${FIXED_GIT_EPOCH + offsetSeconds} +0000`;
}

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunGitOptions {
  cwd?: string;
  /** Added to (and overriding) the isolated environment, e.g. `GIT_COMMITTER_DATE`. */
  env?: Record<string, string>;
  input?: string;
}

/**
 * An empty HOME shared by all test processes, so no user or XDG config is read. Fixed rather than
 * per-process: vitest workers do not reliably run exit hooks, so per-process dirs would pile up.
 */
function getIsolatedHome(): string {
  const home = join(tmpdir(), 'portcullis-git-home');
  mkdirSync(home, { recursive: true });
  return home;
}

/** The environment every test git process (client or http-backend) runs with. */
export function gitEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const inherited: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    // Inherited GIT_* (GIT_DIR from a hook, GIT_CONFIG_PARAMETERS, …) could point a test at
    // the developer's repository; askpass helpers could pop up or leak real credentials.
    if (value === undefined || name.startsWith('GIT_') || name === 'SSH_ASKPASS') continue;
    if (name === 'XDG_CONFIG_HOME') continue; // git also reads $XDG_CONFIG_HOME/git/config
    inherited[name] = value;
  }
  const date = gitDate();
  return {
    ...inherited,
    HOME: getIsolatedHome(),
    LC_ALL: 'C', // English messages, so tests can match stderr
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '', // empty (not unset) so git does not fall back to core.askPass or SSH_ASKPASS
    // Config from the environment (git ≥ 2.31) instead of a .gitconfig file nobody has to clean up.
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'init.defaultBranch',
    GIT_CONFIG_VALUE_0: 'main',
    GIT_AUTHOR_NAME: 'Portcullis Test',
    GIT_AUTHOR_EMAIL: 'test@portcullis.invalid',
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_NAME: 'Portcullis Test',
    GIT_COMMITTER_EMAIL: 'test@portcullis.invalid',
    GIT_COMMITTER_DATE: date,
    ...overrides,
  };
}

/** Runs git and reports how it ended; a non-zero exit is a result, not an exception. */
export function runGit(args: string[], options: RunGitOptions = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: options.cwd, env: gitEnv(options.env) });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject); // git missing or cwd absent: nothing ran, so there is no result
    child.on('close', (code) => {
      resolve({
        code: code ?? -1, // null means killed by a signal
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    // git may exit without reading its input (EPIPE); the exit code already tells that story.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
  });
}

/** Like runGit, but a non-zero exit throws with everything git printed. */
export async function gitOk(args: string[], options: RunGitOptions = {}): Promise<GitResult> {
  const result = await runGit(args, options);
  if (result.code !== 0) {
    throw new Error(
      `git ${args.join(' ')} exited with ${result.code}\n--- stdout\n${result.stdout}--- stderr\n${result.stderr}`,
    );
  }
  return result;
}
