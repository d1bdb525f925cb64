/** Small process and system helpers for `bench/pg.ts`: memory, CPU time, free ports, bounded output. */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every mainstream Linux). */
const USER_HZ = 100;

export interface Memory {
  rssKb: number;
  peakKb: number;
}

export async function memoryOf(pid: number): Promise<Memory> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rssKb: field('VmRSS'), peakKb: field('VmHWM') };
}

/** User + system CPU seconds the process has used so far (all its threads), or NaN once it is gone. */
export async function cpuSecondsOf(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may itself hold spaces or ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "pid (comm)".
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return NaN;
  }
}

/** A loopback port nobody listens on right now (the OS picks it; we release it for the caller). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Keeps the last `limit` characters written to it: enough for an error message, bounded for chatty children. */
export class OutputTail {
  private text = '';

  constructor(private readonly limit = 32_000) {}

  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.limit * 2) this.text = this.text.slice(-this.limit);
  }

  toString(): string {
    return this.text.slice(-this.limit);
  }

  /** The last `lines` lines, each prefixed, for an error report. */
  lastLines(lines: number, prefix = '    '): string {
    return this.toString()
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .map((line) => prefix + line)
      .join('\n');
  }
}

/** Runs a command to completion and collects its output (for version probes and psql one-liners). */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', (error) => resolve({ code: -1, stdout, stderr: stderr + String(error) }));
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The first existing executable among absolute candidates or names on PATH, else null. */
export async function findExecutable(name: string, candidates: string[]): Promise<string | null> {
  for (const candidate of candidates) {
    const probe = await run('sh', ['-c', 'test -x "$1"', 'sh', candidate]);
    if (probe.code === 0) return candidate;
  }
  const which = await run('sh', ['-c', 'command -v "$1"', 'sh', name]);
  return which.code === 0 && which.stdout.trim() ? which.stdout.trim() : null;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
