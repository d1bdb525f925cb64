import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { isIP } from 'node:net';
import { decodeAuthentication, decodeBackendKeyData, decodeNoticeFields } from './codec/backend.ts';
import type { MessageFramer, PgMessage } from './codec/framer.ts';
import { encodePasswordMessage, encodeSaslInitialResponse, encodeSaslResponse } from './codec/frontend.ts';
import { BackendType } from './codec/message-types.ts';
import { encodeSslRequest, encodeStartupMessage } from './codec/startup.ts';
import { md5PasswordHash } from './auth/md5.ts';
import { ScramClientSession } from '../identity/scram.ts';
import { PgRefusal } from './refusal.ts';
import { SocketMessages } from './socket-messages.ts';

/** Where and as whom the gateway logs in: parsed once from `databases[].url`. */
export interface UpstreamTarget {
  /** The name agents use (portcullis.yml), for messages. */
  name: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  sslmode: 'disable' | 'prefer' | 'require' | 'verify-full';
}

export function parseUpstreamUrl(name: string, url: string): UpstreamTarget {
  const parsed = new URL(url);
  const sslmode = parsed.searchParams.get('sslmode') ?? 'prefer';
  if (!['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'].includes(sslmode)) {
    throw new Error(`databases.${name}: sslmode=${sslmode} is not a PostgreSQL sslmode`);
  }
  return {
    name,
    host: decodeURIComponent(parsed.hostname.replace(/^\[|\]$/g, '')) || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 5432,
    user: decodeURIComponent(parsed.username) || 'postgres',
    password: decodeURIComponent(parsed.password),
    database: decodeURIComponent(parsed.pathname.slice(1)) || decodeURIComponent(parsed.username) || 'postgres',
    sslmode: sslmode === 'allow' ? 'prefer' : sslmode === 'verify-ca' ? 'verify-full' : (sslmode as UpstreamTarget['sslmode']),
  };
}

export interface UpstreamConnection {
  socket: Socket;
  /** ParameterStatus, NoticeResponse and BackendKeyData frames of the login, in order, minus the key. */
  backendKey: { processId: number; secretKey: Buffer };
  parameterFrames: Buffer[];
  /** Messages after ReadyForQuery (none in practice) and the framer holding any partial one. */
  pending: PgMessage[];
  framer: MessageFramer;
}

export interface UpstreamLogin {
  parameters: Map<string, string>;
  timeoutMs: number;
  maxMessageBytes: number;
}

/** Opens a connection to the real database and logs in with the gateway's credential, up to the first ReadyForQuery. */
export async function connectUpstream(target: UpstreamTarget, login: UpstreamLogin): Promise<UpstreamConnection> {
  let socket = await openSocket(target, login.timeoutMs);
  try {
    if (target.sslmode !== 'disable') socket = await negotiateTls(socket, target, login.timeoutMs);
    const startup = new Map([['user', target.user], ['database', target.database], ...login.parameters]);
    socket.write(encodeStartupMessage(startup));
    const messages = new SocketMessages(socket, login.maxMessageBytes, `upstream database ${target.name}`);
    await authenticate(socket, messages, target, login.timeoutMs);
    const parameterFrames: Buffer[] = [];
    let backendKey: UpstreamConnection['backendKey'] | null = null;
    for (;;) {
      const message = await messages.next(login.timeoutMs);
      if (message.type === BackendType.ReadyForQuery) break;
      if (message.type === BackendType.BackendKeyData) backendKey = decodeBackendKeyData(message.body);
      else if (message.type === BackendType.ErrorResponse) throw upstreamRefused(target, message);
      else parameterFrames.push(Buffer.from(message.frame));
    }
    const { pending, framer } = messages.detach();
    return { socket, backendKey: backendKey ?? { processId: 0, secretKey: Buffer.alloc(4) }, parameterFrames, pending, framer };
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

async function authenticate(socket: Socket, messages: SocketMessages, target: UpstreamTarget, timeoutMs: number): Promise<void> {
  let scram: ScramClientSession | null = null;
  for (;;) {
    const message = await messages.next(timeoutMs);
    if (message.type === BackendType.ErrorResponse) throw upstreamRefused(target, message);
    if (message.type !== BackendType.Authentication) {
      throw new PgRefusal('08006', `upstream database ${target.name} sent an unexpected message during login`);
    }
    const request = decodeAuthentication(message.body);
    switch (request.kind) {
      case 'ok':
        return;
      case 'cleartext':
        socket.write(encodePasswordMessage(target.password));
        break;
      case 'md5':
        socket.write(encodePasswordMessage(md5PasswordHash(target.user, target.password, request.salt)));
        break;
      case 'sasl':
        if (!request.mechanisms.includes('SCRAM-SHA-256')) {
          throw new PgRefusal('08006', `upstream database ${target.name} offers only ${request.mechanisms.join(', ')}; portcullis speaks SCRAM-SHA-256`);
        }
        scram = new ScramClientSession(target.password);
        socket.write(encodeSaslInitialResponse('SCRAM-SHA-256', scram.first()));
        break;
      case 'sasl-continue':
        if (!scram) throw new PgRefusal('08006', `upstream database ${target.name} sent SASLContinue out of order`);
        socket.write(encodeSaslResponse(scram.respond(request.data)));
        break;
      case 'sasl-final':
        if (!scram) throw new PgRefusal('08006', `upstream database ${target.name} sent SASLFinal out of order`);
        // A wrong server signature means whoever answered does not know the password: not our database.
        scram.verify(request.data);
        break;
      default:
        throw new PgRefusal('08006', `upstream database ${target.name} asks for an authentication method portcullis does not speak (code ${request.code})`);
    }
  }
}

function upstreamRefused(target: UpstreamTarget, message: PgMessage): PgRefusal {
  const fields = decodeNoticeFields(message.body);
  const code = fields.get('C') ?? '08006';
  // The upstream's words concern the gateway's own credential and database: name them, keep the SQLSTATE.
  return new PgRefusal(
    code.startsWith('28') ? '08006' : code,
    `upstream database ${target.name} refused the gateway's login: ${fields.get('M') ?? 'no message'}`,
    'an administrator must check databases[].url in portcullis.yml',
    'FATAL',
  );
}

function openSocket(target: UpstreamTarget, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host: target.host, port: target.port });
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new PgRefusal('08006', `upstream database ${target.name} did not accept a connection within ${Math.round(timeoutMs / 1000)} s`, undefined, 'FATAL'));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(new PgRefusal('08006', `upstream database ${target.name} is unreachable (${(error as NodeJS.ErrnoException).code ?? error.message})`, 'try again later; an administrator can check the database and databases[].url', 'FATAL'));
    });
  });
}

function negotiateTls(socket: Socket, target: UpstreamTarget, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new PgRefusal('08006', `upstream database ${target.name} did not answer the TLS request`, undefined, 'FATAL')), timeoutMs);
    socket.once('data', (answer) => {
      clearTimeout(timer);
      if (answer[0] === 0x53) {
        const secure = connectTls({
          socket,
          servername: isIP(target.host) ? undefined : target.host,
          rejectUnauthorized: target.sslmode === 'verify-full',
        });
        secure.once('secureConnect', () => resolve(secure));
        secure.once('error', (error) => reject(new PgRefusal('08006', `TLS to upstream database ${target.name} failed: ${error.message}`, undefined, 'FATAL')));
      } else if (target.sslmode === 'prefer') resolve(socket);
      else reject(new PgRefusal('08006', `upstream database ${target.name} does not offer TLS but its URL says sslmode=${target.sslmode}`, undefined, 'FATAL'));
    });
    socket.write(encodeSslRequest());
  });
}
