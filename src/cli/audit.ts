import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { KeyObject } from 'node:crypto';
import type { Command } from 'commander';
import { pino } from 'pino';
import { createAuditLog, loadOrCreateSigningKey, readPublicKeyFile, type AuditLog } from '../audit/chain-store/index.ts';
import { verifyExport, type VerifyResult } from '../audit/chain/index.ts';
import type { Config } from '../config/index.ts';
import { PortcullisError, type ErrorCode } from '../errors.ts';
import { openStore, storeTargetFrom } from '../store/index.ts';
import { auditSigningKeyPath, controlSocketPath } from './gateway.ts';
import type { ConfigLoader } from './program.ts';

const PROGRESS_EVERY = 100_000;

export function registerAuditCommands(program: Command, loadConfig: ConfigLoader): void {
  const audit = program.command('audit').description('the tamper-evident audit trail: public key, verification, export');

  audit
    .command('pubkey')
    .description('print the public key (SPKI PEM) that verifies the audit checkpoints')
    .action(async () => {
      const key = await loadOrCreateSigningKey(auditSigningKeyPath(await loadConfig()));
      process.stdout.write(key.publicKeyPem);
    });

  audit
    .command('verify')
    .description('walk the hash chain and its signed checkpoints; exit 0 when intact, 1 naming the first bad event')
    .option('--from <seq>', 'start at this seq (its prevHash is trusted unless a checkpoint covers seq-1)')
    .option('--pubkey <file>', 'verify checkpoints with this public key (PEM) instead of the gateway\'s own')
    .option('--file <export.jsonl>', 'verify an export offline: no database, no gateway')
    .action(async (options: { from?: string; pubkey?: string; file?: string }) => {
      const publicKeys = options.pubkey ? [await readPublicKeyFile(options.pubkey)] : undefined;
      let result: VerifyResult;
      if (options.file) {
        if (!publicKeys) process.stderr.write('portcullis: no --pubkey given: trusting the public keys in the export\'s own header\n');
        const lines = createInterface({ input: createReadStream(options.file), crlfDelay: Infinity });
        result = await verifyExport(lines, publicKeys ? { publicKeys } : {});
      } else {
        const from = options.from === undefined ? undefined : parseSeq(options.from);
        const config = await loadConfig();
        const socket = await runningGateway(config);
        if (socket) {
          const query = new URLSearchParams();
          if (from !== undefined) query.set('from', String(from));
          if (options.pubkey) query.set('publicKey', (publicKeys![0] as KeyObject).export({ type: 'spki', format: 'pem' }).toString());
          result = JSON.parse(await getOverSocket(socket, `/audit/verify?${query}`)) as VerifyResult;
        } else {
          result = await withAuditLog(config, (log) => log.verify({ ...(from !== undefined ? { from } : {}), ...(publicKeys ? { publicKeys } : {}) }));
        }
      }
      if (result.ok) {
        process.stdout.write(`${describeIntact(result)}\n`);
      } else {
        process.stderr.write(`audit chain NOT intact: ${result.problem?.message ?? 'verification failed'}\n`);
        process.exitCode = 1;
      }
    });

  audit
    .command('export')
    .description('write the audit events with their hashes and the checkpoints, for offline verification')
    .option('--format <format>', 'jsonl (the only format)', 'jsonl')
    .option('--since <time>', 'first event at or after this ISO time')
    .option('--until <time>', 'last event at or before this ISO time')
    .option('--out <file>', 'write here instead of stdout')
    .action(async (options: { format: string; since?: string; until?: string; out?: string }) => {
      if (options.format !== 'jsonl') throw new PortcullisError('CONFIG_INVALID', `unknown export format ${JSON.stringify(options.format)}: only jsonl`);
      const since = parseTime(options.since, '--since');
      const until = parseTime(options.until, '--until');
      const config = await loadConfig();
      const out: Writable = options.out ? createWriteStream(options.out, { mode: 0o600 }) : process.stdout;
      let events = 0;
      const progress = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          // Every line after the header starting `{"kind":"event"` is an event; counting newlines is close enough for progress.
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) {
            events += 1;
            if (events % PROGRESS_EVERY === 0) process.stderr.write(`portcullis: ${events} lines exported\n`);
          }
          done(null, chunk);
        },
      });
      const socket = await runningGateway(config);
      if (socket) {
        const query = new URLSearchParams();
        if (since) query.set('since', since.toISOString());
        if (until) query.set('until', until.toISOString());
        const response = await requestOverSocket(socket, `/audit/export?${query}`);
        await pipeline(response, progress, out, { end: Boolean(options.out) });
      } else {
        const done = pipeline(progress, out, { end: Boolean(options.out) });
        await withAuditLog(config, async (log) => {
          await log.export(progress, { ...(since ? { since } : {}), ...(until ? { until } : {}) });
          progress.end();
          await done;
        });
      }
      if (options.out) process.stderr.write(`portcullis: audit export written to ${options.out}\n`);
    });
}

export function describeIntact(result: VerifyResult): string {
  if (result.events === 0) return `audit chain intact: 0 events, ${result.checkpoints} checkpoints`;
  const last = result.lastCheckpointSeq === null ? 'no checkpoint yet' : `last checkpoint at seq ${result.lastCheckpointSeq}`;
  return `audit chain intact: ${result.events} events (seq ${result.firstSeq}..${result.lastSeq}), ${result.checkpoints} checkpoints, ${last}`;
}

/** No gateway running: the store is opened here (PGlite admits one process; a running gateway is asked instead). */
async function withAuditLog<T>(config: Config, use: (log: AuditLog) => Promise<T>): Promise<T> {
  const key = await loadOrCreateSigningKey(auditSigningKeyPath(config));
  const store = await openStore(storeTargetFrom(process.env, config.dataDir));
  const log = createAuditLog(store.db, { now: () => new Date() }, {
    signingKey: key.privateKey,
    publicKey: key.publicKey,
    checkpointEvery: config.audit.checkpointEvery,
    checkpointIntervalMs: config.audit.checkpointIntervalMs,
    log: pino({ level: 'silent' }),
  });
  try {
    return await use(log);
  } finally {
    await log.close();
    await store.close();
  }
}

async function runningGateway(config: Config): Promise<string | null> {
  const socket = controlSocketPath(config);
  if (!existsSync(socket)) return null;
  return new Promise((resolve) => {
    const request = http.get({ socketPath: socket, path: '/healthz', timeout: 2000 }, (response) => {
      response.resume();
      resolve(socket);
    });
    request.on('error', () => resolve(null));
    request.on('timeout', () => request.destroy());
  });
}

function requestOverSocket(socketPath: string, path: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = http.get({ socketPath, path: `/api/v1${path}` }, (response) => {
      if ((response.statusCode ?? 0) >= 200 && (response.statusCode ?? 0) < 300) return resolve(response);
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => reject(apiError(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
    });
    request.on('error', reject);
  });
}

async function getOverSocket(socketPath: string, path: string): Promise<string> {
  const response = await requestOverSocket(socketPath, path);
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function apiError(status: number, text: string): PortcullisError {
  let error: { code?: string; message?: string; hint?: string } | undefined;
  try {
    error = (JSON.parse(text) as { error?: typeof error }).error;
  } catch {
    error = undefined;
  }
  return new PortcullisError((error?.code ?? 'UPSTREAM_ERROR') as ErrorCode, error?.message ?? `the API answered HTTP ${status}`, { hint: error?.hint });
}

function parseSeq(text: string): number {
  const seq = Number(text);
  if (!Number.isSafeInteger(seq) || seq < 1) throw new PortcullisError('CONFIG_INVALID', `--from must be a seq (a positive integer), not ${JSON.stringify(text)}`);
  return seq;
}

function parseTime(text: string | undefined, option: string): Date | undefined {
  if (text === undefined) return undefined;
  const time = new Date(text);
  if (Number.isNaN(time.getTime())) throw new PortcullisError('CONFIG_INVALID', `${option} must be an ISO time such as 2026-01-31T00:00:00Z, not ${JSON.stringify(text)}`);
  return time;
}
