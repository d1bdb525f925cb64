import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { DbSessionLog, Metrics } from '../audit/index.ts';
import type { DatabaseConfig } from '../config/index.ts';
import type { Authenticator } from '../identity/index.ts';
import { decideDatabaseAccess } from '../policy/index.ts';
import { acceptClient } from './client-handshake.ts';
import { encodeAuthenticationOk, encodeBackendKeyData, encodeErrorResponse, encodeNoticeResponse, encodeReadyForQuery, MalformedMessageError, MessageTooLargeError } from './codec/index.ts';
import { CancelKeys } from './cancel-keys.ts';
import { asRefusal, PgRefusal } from './refusal.ts';
import { refusalFields } from './refusal-fields.ts';
import { startRelay, type RelayEnd } from './relay.ts';
import type { ResultMasking, StatementGuard, StatementRecorder } from './session-seams.ts';
import type { ClientStartup } from './startup-parameters.ts';
import { connectUpstream, parseUpstreamUrl, type UpstreamTarget } from './upstream.ts';

/** What one authenticated session runs with: built per connection from policy, catalog and approvals. */
export interface SessionServices {
  guard: StatementGuard;
  masking: ResultMasking;
  maxRows: number | null;
  recordRows: number;
}

export interface SessionContext {
  sessionId: string;
  agent: string;
  database: DatabaseConfig;
  readOnly: boolean;
  /** Sends a NoticeResponse to the client now (e.g. "held for approval, waiting"). */
  notice(message: string): void;
}

export interface PgProxyDeps {
  authenticator: Authenticator;
  databases: readonly DatabaseConfig[];
  sessions: DbSessionLog;
  metrics: Metrics;
  services(context: SessionContext): Promise<SessionServices>;
  tls: SecureContext | null;
  log: Logger;
  limits: { maxMessageBytes: number; maxConnections: number; handshakeTimeoutMs: number; upstreamTimeoutMs: number };
}

export interface PgProxy {
  listen(port: number, host: string): Promise<AddressInfo>;
  /** Stops accepting, tells each client the gateway is shutting down, and closes. */
  close(): Promise<void>;
  readonly connections: number;
}

export function createPgProxy(deps: PgProxyDeps): PgProxy {
  deps.metrics.countDbConnectionsWith(() => open.size);
  const targets = new Map<string, UpstreamTarget>(deps.databases.map((database) => [database.name, parseUpstreamUrl(database.name, database.url)]));
  const cancelKeys = new CancelKeys();
  const decoySecret = randomBytes(32);
  const open = new Set<Socket>();
  let server: Server | null = null;

  const refuse = (socket: Socket, refusal: PgRefusal) => {
    if (!socket.destroyed) socket.end(encodeErrorResponse(refusalFields(refusal)));
  };

  const handle = async (raw: Socket) => {
    raw.setNoDelay(true);
    raw.on('error', () => undefined);
    if (open.size > deps.limits.maxConnections) {
      refuse(raw, new PgRefusal('53300', `sorry, too many clients already (portcullis admits ${deps.limits.maxConnections})`, 'try again shortly', 'FATAL'));
      return;
    }
    const sourceAddress = raw.remoteAddress ?? 'unknown';
    let startup: ClientStartup | null = null;
    let client: Socket = raw;
    try {
      const handshake = await acceptClient(
        raw,
        { authenticator: deps.authenticator, tls: deps.tls, decoySecret, timeoutMs: deps.limits.handshakeTimeoutMs, maxMessageBytes: deps.limits.maxMessageBytes },
        (seen) => (startup = seen),
      );
      if (handshake.kind === 'cancel') {
        raw.destroy();
        await cancelKeys.forward(handshake.processId, handshake.secretKey, deps.limits.upstreamTimeoutMs);
        return;
      }
      client = handshake.socket;
      client.on('error', () => undefined);
      const { principal, startup: accepted } = handshake;
      const database = deps.databases.find((candidate) => candidate.name === accepted.database);
      if (!database) {
        throw new PgRefusal('3D000', `database "${accepted.database}" is not configured in portcullis`, `ask an administrator; configured: ${deps.databases.map((d) => d.name).join(', ') || 'none'}`, 'FATAL');
      }
      const access = decideDatabaseAccess(principal.agent, principal.databases, database.name);
      if (!access.allowed) {
        throw new PgRefusal('42501', `permission denied: ${access.reason}`, `an admin can grant it: portcullis agent add ${principal.agent} --db ${database.name} (or --db-read)`, 'FATAL');
      }
      await runSession(client, handshake, database, access.readOnly, sourceAddress);
    } catch (error) {
      const refusal = asRefusal(error instanceof MessageTooLargeError || error instanceof MalformedMessageError ? new PgRefusal('08P01', error.message, undefined, 'FATAL') : error, 'FATAL', randomBytes(4).toString('hex'));
      if (!(error instanceof PgRefusal)) deps.log.warn({ err: error, sourceAddress }, 'database connection refused');
      refuse(client, refusal);
      const seen = startup as ClientStartup | null;
      if (seen) {
        await deps.sessions
          .open({ agent: null, authMethod: null, sourceAddress, database: seen.database, applicationName: seen.forwarded.get('application_name') ?? null, readOnly: false, tls: client !== raw }, refusal)
          .catch((storeError: unknown) => deps.log.error({ err: storeError }, 'could not record a refused database connection'));
      }
    }
  };

  const runSession = async (client: Socket, handshake: Extract<Awaited<ReturnType<typeof acceptClient>>, { kind: 'session' }>, database: DatabaseConfig, readOnly: boolean, sourceAddress: string) => {
    const { principal, startup } = handshake;
    const sessionId = await deps.sessions.open({
      agent: principal.agent,
      authMethod: handshake.authMethod,
      sourceAddress,
      database: database.name,
      applicationName: startup.forwarded.get('application_name') ?? null,
      readOnly,
      tls: handshake.tls,
    });
    let bytesIn = 0;
    let bytesOut = 0;
    const upstreamParameters = new Map(startup.forwarded);
    // Read-only scopes are enforced by the server as well as by the guard.
    if (readOnly) upstreamParameters.set('default_transaction_read_only', 'on');
    let upstream;
    try {
      upstream = await connectUpstream(targets.get(database.name)!, { parameters: upstreamParameters, timeoutMs: deps.limits.upstreamTimeoutMs, maxMessageBytes: deps.limits.maxMessageBytes });
    } catch (error) {
      await deps.sessions.close(sessionId, { outcome: 'upstream_error', error: (error as Error).message, bytesIn, bytesOut });
      throw error;
    }
    const services = await deps.services({
      sessionId,
      agent: principal.agent,
      database,
      readOnly,
      notice: (message) => client.write(encodeNoticeResponse({ severity: 'NOTICE', code: '01000', message })),
    });
    const { pending, framer } = handshake.messages.detach();
    const key = cancelKeys.register(targets.get(database.name)!, upstream.backendKey);
    client.write(Buffer.concat([encodeAuthenticationOk(), ...upstream.parameterFrames, encodeBackendKeyData(key.processId, key.secretKey), encodeReadyForQuery('I')]));
    let end: RelayEnd | undefined;
    try {
      end = await startRelay({
        client,
        clientFramer: framer,
        clientPending: pending,
        upstream: upstream.socket,
        upstreamFramer: upstream.framer,
        upstreamPending: upstream.pending,
        guard: services.guard,
        masking: services.masking,
        recorder: observed(deps.sessions.statements(sessionId), deps.metrics, database.name),
        maxRows: services.maxRows,
        recordRows: services.recordRows,
        onBytes: (direction, count) => (direction === 'in' ? (bytesIn += count) : (bytesOut += count)),
      });
    } finally {
      // A client gone mid-query would leave its statement running upstream until it finished.
      if (end?.kind !== 'terminated') await cancelKeys.forward(key.processId, key.secretKey, deps.limits.upstreamTimeoutMs).catch(() => false);
      cancelKeys.unregister(key);
    }
    const outcome = relayOutcome(end!);
    if (end.kind === 'upstream-closed' || (end.kind === 'failed' && end.side === 'upstream')) {
      refuse(client, new PgRefusal('08006', `the upstream database ${database.name} closed the connection`, 'reconnect; if it persists, an administrator can check the database', 'FATAL'));
    } else if (end.kind === 'failed') {
      const error = end.error;
      refuse(client, error instanceof MessageTooLargeError || error instanceof MalformedMessageError ? new PgRefusal(error instanceof MessageTooLargeError ? '54000' : '08P01', error.message, undefined, 'FATAL') : asRefusal(error, 'FATAL', sessionId));
      if (!(error instanceof MessageTooLargeError || error instanceof MalformedMessageError)) deps.log.error({ err: error, session: sessionId }, 'database session failed');
    }
    client.end();
    upstream.socket.destroy();
    await deps.sessions.close(sessionId, { ...outcome, bytesIn, bytesOut });
  };

  return {
    async listen(port, host) {
      server = createServer((socket) => {
        open.add(socket);
        socket.once('close', () => open.delete(socket));
        handle(socket).catch((error: unknown) => {
          deps.log.error({ err: error }, 'database connection handler failed');
          socket.destroy();
        });
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, host, () => resolve());
      });
      return server.address() as AddressInfo;
    },
    async close() {
      const closing = server ? new Promise<void>((resolve) => server!.close(() => resolve())) : Promise.resolve();
      for (const socket of open) refuse(socket, new PgRefusal('57P01', 'terminating connection: the portcullis gateway is shutting down', 'reconnect when it is back', 'FATAL'));
      setTimeout(() => open.forEach((socket) => socket.destroy()), 1000).unref();
      await closing;
    },
    get connections() {
      return open.size;
    },
  };
}

function observed(recorder: StatementRecorder, metrics: Metrics, database: string): StatementRecorder {
  return {
    record(statement) {
      metrics.observeDbStatement({ database, verdict: statement.verdict, maskedValues: statement.maskedValues });
      recorder.record(statement);
    },
  };
}

function relayOutcome(end: RelayEnd): { outcome: 'ok' | 'client_error' | 'upstream_error' | 'aborted'; error: string | null } {
  switch (end.kind) {
    case 'terminated':
      return { outcome: 'ok', error: null };
    case 'client-closed':
      return { outcome: 'aborted', error: 'the client disconnected without Terminate' };
    case 'upstream-closed':
      return { outcome: 'upstream_error', error: 'the upstream database closed the connection' };
    case 'failed':
      return { outcome: end.side === 'client' ? 'client_error' : 'upstream_error', error: end.error instanceof Error ? end.error.message : String(end.error) };
  }
}
