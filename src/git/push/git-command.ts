/**
 * Runs the git CLI for the push pipeline (mirror fetch, index-pack, rev-list, diff-tree).
 *
 * Every process gets the same environment: none of the gateway's own GIT_* variables (a GIT_DIR
 * inherited from a hook, or GIT_CURL_VERBOSE printing request headers into stderr that may end up
 * in an error message), no prompts, no credential helpers, no hooks, English messages, and config
 * passed through GIT_CONFIG_COUNT/KEY/VALUE (git ≥ 2.31), so nothing secret is ever on a command
 * line or in a repository's config file.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { devNull } from 'node:os';
import type { Readable, Writable } from 'node:stream';

export type GitConfigEntry = readonly [key: string, value: string];

export interface GitCommandOptions {
  /** The repository to run in (`--git-dir`); omitted for `git init`. */
  gitDir?: string;
  /** Added to the environment, e.g. a quarantine's GIT_OBJECT_DIRECTORY. */
  env?: Record<string, string>;
  /** Config for this process only, after the fixed safe defaults. */
  config?: readonly GitConfigEntry[];
  /** A string, or a file descriptor git reads from directly (a spooled pack). */
  stdin?: string | number;
  /** Kills git (and the helpers it started) after this long. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface GitCommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** stderr is only kept for error messages; a runaway git cannot fill memory with it. */
const MAX_STDERR_BYTES = 64 * 1024;
/** For commands whose output is small by construction (for-each-ref, index-pack, merge-base). */
const MAX_BUFFERED_STDOUT_BYTES = 64 * 1024 * 1024;

/** Variables of the gateway's environment that git may still see: TLS trust and where git lives. */
const INHERITED_GIT_VARIABLES = /^GIT_(SSL_|EXEC_PATH$|HTTP_LOW_SPEED_)/;

const SAFE_CONFIG: readonly GitConfigEntry[] = [
  ['core.quotePath', 'false'],
  ['core.hooksPath', devNull],
  ['core.attributesFile', devNull],
  ['core.fsmonitor', 'false'],
  // Empty resets the list: no helper may supply, store or erase a credential for the upstream.
  ['credential.helper', ''],
  // Auto-gc after a fetch runs inside the mirror lock instead of in the background.
  ['gc.autoDetach', 'false'],
  ['fetch.recurseSubmodules', 'false'],
  ['submodule.recurse', 'false'],
];

export function gitEnvironment(options: Pick<GitCommandOptions, 'env' | 'config'> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name === 'SSH_ASKPASS' || name === 'LANGUAGE') continue;
    if (name.startsWith('GIT_') && !INHERITED_GIT_VARIABLES.test(name)) continue;
    env[name] = value;
  }
  const config = [...SAFE_CONFIG, ...(options.config ?? [])];
  Object.assign(env, {
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '', // empty, not unset: git would fall back to core.askPass or SSH_ASKPASS
    GIT_ATTR_NOSYSTEM: '1',
    GIT_NO_REPLACE_OBJECTS: '1',
    GIT_CONFIG_COUNT: String(config.length),
  });
  config.forEach(([key, value], index) => {
    env[`GIT_CONFIG_KEY_${index}`] = key;
    env[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return { ...env, ...options.env };
}

export type GitChild = ChildProcessByStdio<Writable | null, Readable, Readable>;

/**
 * Starts git with its stdout left to the caller (streamed). The child leads its own process group
 * so that a timeout also ends `git-remote-http` and other helpers it started.
 */
export function spawnGitCommand(args: readonly string[], options: GitCommandOptions = {}): GitChild {
  const fullArgs = options.gitDir === undefined ? [...args] : ['--git-dir', options.gitDir, ...args];
  const stdin = typeof options.stdin === 'number' ? options.stdin : 'pipe';
  const child = spawn('git', fullArgs, {
    env: gitEnvironment(options),
    stdio: [stdin, 'pipe', 'pipe'],
    detached: true,
  }) as GitChild;
  if (child.stdin) {
    child.stdin.on('error', () => undefined); // git may exit without reading it all; its exit code tells why
    if (typeof options.stdin === 'string') child.stdin.end(options.stdin);
  }
  return child;
}

export function killGitCommand(child: GitChild): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/** Keeps the last MAX_STDERR_BYTES of stderr (git's `fatal:` line comes last); returns a getter. */
export function collectStderr(child: GitChild): () => string {
  let kept: Buffer[] = [];
  let length = 0;
  child.stderr.on('data', (chunk: Buffer) => {
    kept.push(chunk);
    length += chunk.length;
    if (length > 2 * MAX_STDERR_BYTES) {
      const tail = Buffer.concat(kept).subarray(-MAX_STDERR_BYTES);
      kept = [tail];
      length = tail.length;
    }
  });
  return () => Buffer.concat(kept).subarray(-MAX_STDERR_BYTES).toString('utf8');
}

/** Resolves with git's exit code (null when killed by a signal) once its pipes are closed. */
export function waitForExit(child: GitChild): Promise<number | null> {
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  // Callers that stop early (a parse error, a consumer leaving) never await it.
  exited.catch(() => undefined);
  return exited;
}

/** Runs git to completion, buffering its (small) output. A non-zero exit is a result, not an error. */
export async function runGitCommand(args: readonly string[], options: GitCommandOptions = {}): Promise<GitCommandResult> {
  const child = spawnGitCommand(args, options);
  const stderr = collectStderr(child);
  const stdout: Buffer[] = [];
  let stdoutBytes = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    stdoutBytes += chunk.length;
    if (stdoutBytes > MAX_BUFFERED_STDOUT_BYTES) killGitCommand(child);
    else stdout.push(chunk);
  });
  let timedOut = false;
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          killGitCommand(child);
        }, options.timeoutMs);
  const onAbort = () => killGitCommand(child);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const code = await waitForExit(child);
    return { code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: stderr(), timedOut };
  } finally {
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** The last `fatal:`/`error:` line git printed, without the prefix: the part worth showing a person. */
export function gitFailureReason(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  const fatal = [...lines].reverse().find((line) => /^(fatal|error):/.test(line));
  const chosen = fatal ?? lines[lines.length - 1] ?? 'no message';
  return chosen.replace(/^(fatal|error):\s*/, '').slice(0, 300);
}
