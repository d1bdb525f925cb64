import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { AgentPrincipal, Authenticator } from '../identity/index.ts';
import { createDecoyScramSession, ScramServerSession } from '../identity/scram.ts';
import {
  FrontendType,
  MAX_STARTUP_PACKET_BYTES,
  StartupFramer,
  decodePasswordMessage,
  decodeSaslInitialResponse,
  decodeSaslResponse,
  encodeAuthenticationCleartextPassword,
  encodeAuthenticationSasl,
  encodeAuthenticationSaslContinue,
  encodeAuthenticationSaslFinal,
  encodeNegotiateProtocolVersion,
  parseStartupPacket,
  type StartupPacket,
} from './codec/index.ts';
import { PgRefusal } from './refusal.ts';
import { SocketMessages } from './socket-messages.ts';
import { filterStartupParameters, type ClientStartup } from './startup-parameters.ts';

export type Handshake =
  | { kind: 'cancel'; processId: number; secretKey: Buffer }
  | {
      kind: 'session';
      socket: Socket;
      tls: boolean;
      startup: ClientStartup;
      principal: AgentPrincipal;
      authMethod: 'scram' | 'password' | 'oidc';
      messages: SocketMessages;
    };

export interface HandshakeDeps {
  authenticator: Authenticator;
  tls: SecureContext | null;
  /** Keys the decoy SCRAM exchange for unknown users, so a probe cannot tell them from known ones. */
  decoySecret: Buffer;
  timeoutMs: number;
  maxMessageBytes: number;
}

/**
 * Startup as a PostgreSQL server runs it: SSLRequest (TLS when configured, else 'N'), GSSENCRequest
 * declined, CancelRequest handed back to the caller, then the startup packet and authentication.
 * SCRAM-SHA-256 checks the agent token against its stored verifier, so the token never crosses the
 * wire; cleartext (for OIDC tokens and older agent tokens) is offered only inside TLS.
 */
export async function acceptClient(raw: Socket, deps: HandshakeDeps, onStartup: (startup: ClientStartup) => void): Promise<Handshake> {
  let socket = raw;
  let tls = false;
  let packet: StartupPacket;
  let leftover: Buffer;
  for (;;) {
    ({ packet, rest: leftover } = await readStartupPacket(socket, deps.timeoutMs));
    if (packet.kind === 'cancel') return { kind: 'cancel', processId: packet.processId, secretKey: packet.secretKey };
    if (packet.kind === 'gssenc-request') {
      socket.write('N');
      continue;
    }
    if (packet.kind === 'ssl-request') {
      if (tls) throw new PgRefusal('08P01', 'SSLRequest sent twice', undefined, 'FATAL');
      if (!deps.tls) {
        socket.write('N');
        continue;
      }
      socket.write('S');
      socket = await upgradeToTls(socket, deps.tls, deps.timeoutMs);
      tls = true;
      continue;
    }
    break;
  }
  if (packet.majorVersion !== 3) {
    throw new PgRefusal('0A000', `unsupported frontend protocol ${packet.majorVersion}.${packet.minorVersion}: portcullis speaks 3.0`, undefined, 'FATAL');
  }
  const parameters = new Map(packet.parameters);
  const protocolOptions = [...parameters.keys()].filter((name) => name.startsWith('_pq_.'));
  for (const name of protocolOptions) parameters.delete(name);
  if (packet.minorVersion > 0 || protocolOptions.length > 0) socket.write(encodeNegotiateProtocolVersion(0, protocolOptions));

  const startup = filterStartupParameters(parameters);
  onStartup(startup);
  const messages = new SocketMessages(socket, deps.maxMessageBytes, 'the client', leftover);
  const { principal, authMethod } = await authenticate(socket, messages, startup.user, tls, deps);
  return { kind: 'session', socket, tls, startup, principal, authMethod, messages };
}

async function authenticate(socket: Socket, messages: SocketMessages, user: string, tls: boolean, deps: HandshakeDeps): Promise<{ principal: AgentPrincipal; authMethod: 'scram' | 'password' | 'oidc' }> {
  const candidate = await deps.authenticator.scramCandidate(user);
  if (!candidate && tls) {
    socket.write(encodeAuthenticationCleartextPassword());
    const token = decodePasswordMessage((await nextPasswordMessage(messages, deps.timeoutMs)).body);
    const principal = await deps.authenticator.authenticateAgent(token).catch((error: unknown) => {
      throw authenticationFailed(user, error);
    });
    if (principal.agent !== user) {
      throw new PgRefusal('28P01', `the token belongs to agent ${principal.agent}, not ${user}`, `connect with user=${principal.agent}`, 'FATAL');
    }
    return { principal, authMethod: principal.authMethod === 'oidc' ? 'oidc' : 'password' };
  }
  const scram = candidate ? new ScramServerSession(candidate.verifier) : createDecoyScramSession(deps.decoySecret, user);
  socket.write(encodeAuthenticationSasl(['SCRAM-SHA-256']));
  const initial = decodeSaslInitialResponse((await nextPasswordMessage(messages, deps.timeoutMs)).body);
  if (initial.mechanism !== 'SCRAM-SHA-256') {
    throw new PgRefusal('28000', `SASL mechanism ${initial.mechanism} is not offered; use SCRAM-SHA-256`, undefined, 'FATAL');
  }
  socket.write(encodeAuthenticationSaslContinue(scram.start(initial.data)));
  const proof = scram.finish(decodeSaslResponse((await nextPasswordMessage(messages, deps.timeoutMs)).body));
  if (!proof.ok || !candidate) throw authenticationFailed(user, null);
  let principal: AgentPrincipal;
  try {
    principal = candidate.principal();
  } catch (error) {
    throw authenticationFailed(user, error);
  }
  socket.write(encodeAuthenticationSaslFinal(proof.serverFinal));
  return { principal, authMethod: 'scram' };
}

async function nextPasswordMessage(messages: SocketMessages, timeoutMs: number) {
  const message = await messages.next(timeoutMs);
  if (message.type !== FrontendType.PasswordMessage) {
    throw new PgRefusal('08P01', `expected a password message during authentication, got '${String.fromCharCode(message.type)}'`, undefined, 'FATAL');
  }
  return message;
}

function authenticationFailed(user: string, cause: unknown): PgRefusal {
  // A known reason (revoked, expired) is said only after the client proved it holds the token.
  const reason = cause instanceof Error && 'userMessage' in cause ? String((cause as { userMessage: string }).userMessage) : null;
  return new PgRefusal(
    '28P01',
    reason ? `password authentication failed for user "${user}": ${reason}` : `password authentication failed for user "${user}"`,
    'connect as user=<agent name> with the agent token as the password; an OIDC token or a token issued before database access needs TLS (sslmode=require)',
    'FATAL',
  );
}

function readStartupPacket(socket: Socket, timeoutMs: number): Promise<{ packet: StartupPacket; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const framer = new StartupFramer(MAX_STARTUP_PACKET_BYTES);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new PgRefusal('08P01', `no startup packet within ${Math.round(timeoutMs / 1000)} s`, undefined, 'FATAL'));
    }, timeoutMs);
    const onClose = () => {
      cleanup();
      reject(new PgRefusal('08006', 'the client closed the connection during startup', undefined, 'FATAL'));
    };
    const onData = (chunk: Buffer) => {
      try {
        const complete = framer.push(chunk);
        if (!complete) return;
        cleanup();
        socket.pause();
        resolve({ packet: parseStartupPacket(complete.packet), rest: complete.rest });
      } catch (error) {
        cleanup();
        reject(new PgRefusal('08P01', `invalid startup packet: ${(error as Error).message}`, 'connect with a PostgreSQL client (protocol 3.0)', 'FATAL'));
      }
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.resume();
  });
}

function upgradeToTls(socket: Socket, secureContext: SecureContext, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const secure = new TLSSocket(socket, { isServer: true, secureContext });
    const timer = setTimeout(() => reject(new PgRefusal('08P01', 'TLS handshake timed out', undefined, 'FATAL')), timeoutMs);
    secure.once('secure', () => {
      clearTimeout(timer);
      resolve(secure);
    });
    secure.once('error', (error) => {
      clearTimeout(timer);
      reject(new PgRefusal('08P01', `TLS handshake failed: ${error.message}`, undefined, 'FATAL'));
    });
  });
}
