import path from 'node:path';
import { pino, type Logger } from 'pino';
import { createDbSessionLog, createMetrics, createSessionRecorder } from '../audit/index.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { Config } from '../config/index.ts';
import { configuredCredentials, createGitProxy, createHoldDecisions, type HoldDecisions, type RemoteCredentials } from '../git/index.ts';
import { createGitHubApp, remotesWithGitHubApp, resolveGitHubAppSettings } from '../github/index.ts';
import { createScanCheckRunsFor } from '../github/scan-check-runs.ts';
import { createHttpApp } from '../http/app.ts';
import type { GatewayDeps } from '../http/deps.ts';
import { createApprovalStore, noHoldEvents, type ApprovalStore, type HoldEvents } from '../approvals/index.ts';
import { createAuthenticator, createOidcVerifier, parseDuration } from '../identity/index.ts';
import { loadPolicy } from '../policy/index.ts';
import { createPgProxy, createSessionServiceFactory, loadSqlParser, pgTlsContext, type PgProxy } from '../pg/index.ts';
import { createSecretScannerPool } from '../scan/index.ts';
import { loadOrCreateKey } from './key-file.ts';
import { openStore, storeTargetFrom } from '../store/index.ts';
import { createAuditLog, loadOrCreateSigningKey } from '../audit/chain-store/index.ts';

export interface Gateway {
  deps: GatewayDeps;
  app: ReturnType<typeof createHttpApp>;
  /** The PostgreSQL proxy, when `databases` are configured; `serve` makes it listen. */
  pg: PgProxy | null;
  /** Starts what a server wants ready before the first request (the scanner threads, the SQL parser). */
  warmUp(): Promise<void>;
  close(): Promise<void>;
}

/** The one place the gateway is assembled: `serve` runs it, other commands use its API in-process. */
export async function buildGateway(config: Config, options: { env?: NodeJS.ProcessEnv; log?: Logger; clock?: Clock } = {}): Promise<Gateway> {
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const log = options.log ?? pino({ level: config.log.level, name: 'portcullis', base: { pid: process.pid }, redact: ['req.headers.authorization', '*.authorization', '*.token', '*.password'] });
  // Checked before anything opens: a half-configured GitHub App stops the start with a clear error.
  const githubSettings = resolveGitHubAppSettings(config.github, env);
  // In place, so every reader of the config (the serve banner too) sees the app's `github` remote.
  if (githubSettings) config.remotes = remotesWithGitHubApp(config.remotes, githubSettings);
  // The audit chain's checkpoint key, created (0600) on first start; read before the store opens.
  const auditKey = await loadOrCreateSigningKey(auditSigningKeyPath(config));
  const store = await openStore(storeTargetFrom(env, config.dataDir));
  const oidc = config.identity.oidc.length > 0 ? createOidcVerifier(config.identity.oidc, { now: () => clock.now() }) : null;
  const authenticator = createAuthenticator({ db: store.db, clock, oidc });
  // The tamper-evident audit chain, first: the git recorder, the approval store and the database
  // session log append to it, and a failed append fails their write (fail closed).
  const audit = createAuditLog(store.db, clock, {
    signingKey: auditKey.privateKey,
    publicKey: auditKey.publicKey,
    checkpointEvery: config.audit.checkpointEvery,
    checkpointIntervalMs: config.audit.checkpointIntervalMs,
    ...(config.audit.retainDays !== undefined ? { retainDays: config.audit.retainDays } : {}),
    log,
  });
  const recorder = createSessionRecorder(store.db, clock, audit);
  const metrics = createMetrics();
  const { policy, source: policySource } = await loadPolicy(config.policy);
  const approvals = createApprovalStore(store.db, clock, audit);
  const github = githubSettings
    ? await createGitHubApp(githubSettings, { db: store.db, clock, log, fallback: configuredCredentials, approvals, timeoutMs: config.limits.upstreamTimeoutMs, audit }).catch(async (error: unknown) => {
        await store.close();
        throw error;
      })
    : null;
  if (github) log.info({ appId: github.settings.appId, apiUrl: github.settings.apiUrl }, 'GitHub App enabled');
  const credentials: RemoteCredentials = github?.credentials ?? configuredCredentials;
  // With the app, holds on the `github` remote become a pull request and a `portcullis` check run.
  const holdEvents: HoldEvents = github?.holdEvents ?? noHoldEvents;
  // Opt-in (github.scanCheckRuns): a `portcullis / secret scan` check run on each sha pushed to GitHub.
  const pushEvents = github && githubSettings?.scanCheckRuns ? await createScanCheckRunsFor(github, { clock, log, timeoutMs: config.limits.upstreamTimeoutMs }) : undefined;
  const scanner = createSecretScannerPool({ allowFingerprints: policy.git.secrets.allow, timeoutMs: parseDuration(config.limits.scanTimeout) });
  const git = createGitProxy({
    remotes: config.remotes,
    authenticator,
    recorder,
    metrics,
    log,
    clock,
    upstreamTimeoutMs: config.limits.upstreamTimeoutMs,
    credentials,
    push: {
      dataDir: config.dataDir,
      maxPushBytes: config.limits.maxPushBytes,
      scanTimeoutMs: parseDuration(config.limits.scanTimeout),
      mirrorTimeoutMs: parseDuration(config.limits.mirrorFetchTimeout),
      policy,
      scanner,
      approvals,
      holdEvents,
      ...(pushEvents ? { pushEvents } : {}),
      recordFindings: (sessionId, findings) => recorder.recordFindings(sessionId, findings),
      clock,
      log,
    },
  });
  const holds = createHoldDecisions({
    remotes: config.remotes,
    credentials,
    holdEvents,
    approvals,
    dataDir: config.dataDir,
    mirrorTimeoutMs: parseDuration(config.limits.mirrorFetchTimeout),
    clock,
    log,
  });
  github?.useHoldDecisions(holds);
  const dbSessions = createDbSessionLog(store.db, clock, log, audit);
  const sessionServices =
    config.databases.length > 0
      ? createSessionServiceFactory({
          databases: config.databases,
          policy,
          approvals,
          approvalWindowMs: policy.approvals.window.ms,
          approvalTtlMs: policy.approvals.ttl.ms,
          maskKey: await loadOrCreateKey(path.join(config.dataDir, 'mask.key')),
          recordingFailure: () => dbSessions.failure(),
          clock,
        })
      : null;
  const pg = sessionServices
    ? createPgProxy({
        authenticator,
        databases: config.databases,
        sessions: dbSessions,
        metrics,
        services: (context) => sessionServices.services(context),
        tls: config.listen.pgTls ? await pgTlsContext(config.listen.pgTls) : null,
        log,
        limits: {
          maxMessageBytes: config.limits.maxPgMessageBytes,
          maxConnections: config.limits.maxPgConnections,
          handshakeTimeoutMs: 30_000,
          upstreamTimeoutMs: config.limits.upstreamTimeoutMs,
        },
      })
    : null;
  const deps: GatewayDeps = { config, store, authenticator, recorder, dbSessions, metrics, git, approvals, holds: routeSqlDecisions(holds, approvals, clock), policy, policySource, github, log, clock, audit };
  return {
    deps,
    app: createHttpApp(deps),
    pg,
    warmUp: async () => {
      await Promise.all([scanner.warmUp(), pg ? loadSqlParser() : undefined]);
    },
    close: async () => {
      await pg?.close();
      await dbSessions.flush().catch(() => undefined);
      await sessionServices?.close();
      await scanner.close();
      await audit.close().catch(() => undefined);
      await store.close();
    },
  };
}

/**
 * A held SQL statement has nothing to apply upstream: approving records the decision, and the
 * agent's next run of the same statement uses it up. Git holds go on to their upstream update.
 */
function routeSqlDecisions(git: HoldDecisions, approvals: ApprovalStore, clock: Clock): HoldDecisions {
  return {
    async approve(id, reviewer, comment) {
      if ((await approvals.get(id)).kind !== 'sql') return git.approve(id, reviewer, comment);
      return approvals.apply(id, { type: 'approve', reviewer, at: clock.now(), comment });
    },
    async deny(id, reviewer, comment) {
      if ((await approvals.get(id)).kind !== 'sql') return git.deny(id, reviewer, comment);
      return approvals.apply(id, { type: 'deny', reviewer, at: clock.now(), comment });
    },
    expireDue: () => git.expireDue(),
  };
}

/** `audit.signingKey`, or <dataDir>/audit-signing-key.pem. */
export function auditSigningKeyPath(config: Config): string {
  return config.audit.signingKey ?? path.join(config.dataDir, 'audit-signing-key.pem');
}

/** The admin socket of a running gateway: file permissions are its access control (like docker.sock). */
export function controlSocketPath(config: Config): string {
  return path.join(config.dataDir, 'portcullis.sock');
}
