/**
 * `portcullis serve` as an operator starts it: in a chosen working directory and environment, so a
 * test can run it with no config at all, restart it on the same data directory, or watch it exit.
 * startGateway (gateway.ts) covers the usual case of a fresh gateway with a generated config.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './gateway.ts';

const BIN = path.join(REPO_ROOT, 'bin/portcullis.js');
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

export interface ServeProcess {
  /** `http://host:port` from the banner. */
  url: string;
  pid: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves once the output matches (the banner arrives in several chunks); rejects after `timeoutMs`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then waits (bounded) for the exit; resolves the exit code (null if killed by a signal). */
  stop(): Promise<number | null>;
}

export interface ServeOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Extra arguments after `serve`; `--port 0` is always added so tests never collide on 8080. */
  args?: string[];
}

/** The environment of the test process without anything that would pick a config or store for portcullis. */
export function cleanPortcullisEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.PORTCULLIS_CONFIG;
  delete env.DATABASE_URL;
  return { ...env, ...extra };
}

/** Starts `portcullis serve --port 0` and resolves once it prints where it listens; rejects with its output if it exits first. */
export function startServe(options: ServeOptions): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...(options.args ?? [])], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`portcullis serve did not start within ${START_TIMEOUT_MS / 1000}s:\n${output}`));
    }, START_TIMEOUT_MS);
    const onOutput = (chunk: Buffer) => {
      output += chunk.toString();
      listeners.forEach((check) => check());
      const match = /portcullis listening on (http:\/\/[\d.]+:\d+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        url: match[1]!,
        pid: child.pid!,
        output: () => output,
        waitForOutput: (pattern, timeoutMs = 10_000) =>
          new Promise<void>((resolveWait, rejectWait) => {
            const check = () => {
              if (!pattern.test(output)) return;
              clearTimeout(waitTimer);
              listeners.delete(check);
              resolveWait();
            };
            const waitTimer = setTimeout(() => {
              listeners.delete(check);
              rejectWait(new Error(`portcullis serve did not print ${pattern} within ${timeoutMs} ms:\n${output}`));
            }, timeoutMs);
            listeners.add(check);
            check();
          }),
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
          const code = await exited;
          clearTimeout(killer);
          return code;
        },
      });
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`portcullis serve exited with code ${code} before listening:\n${output}`));
    });
  });
}
