/**
 * Messages the server sends: https://www.postgresql.org/docs/current/protocol-message-formats.html
 * (authentication flow: https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP).
 *
 * The gateway is a server to its clients (encoders) and a client of the upstream (decoders).
 * Decoders take the BODY. Error/notice fields live in notice.ts, result shapes in rows.ts; both are
 * re-exported here so "what the backend says" has one import.
 */
import { MalformedMessageError } from './errors.ts';
import { AuthenticationCode, BackendType } from './message-types.ts';
import { MessageReader } from './message-reader.ts';
import { MessageWriter } from './message-writer.ts';
import { MAX_CANCEL_KEY_BYTES } from './startup.ts';

export { NOTICE_FIELD_BY_NAME, decodeNoticeFields, encodeErrorResponse, encodeNoticeFieldsFrom, encodeNoticeResponse } from './notice.ts';
export type { NoticeFields } from './notice.ts';
export {
  decodeCopyResponse,
  decodeDataRow,
  decodeParameterDescription,
  decodeRowDescription,
  encodeCopyResponse,
  encodeDataRow,
  encodeParameterDescription,
  encodeRowDescription,
} from './rows.ts';
export type { CopyResponse, RowField } from './rows.ts';

/** ReadyForQuery's status: idle, in a transaction block, in a failed transaction block. */
export type TransactionStatus = 'I' | 'T' | 'E';

export type Authentication =
  | { kind: 'ok' }
  | { kind: 'cleartext' }
  | { kind: 'md5'; salt: Buffer }
  | { kind: 'sasl'; mechanisms: string[] }
  | { kind: 'sasl-continue'; data: Buffer }
  | { kind: 'sasl-final'; data: Buffer }
  /** Kerberos, GSS, SSPI: methods the gateway does not speak. */
  | { kind: 'other'; code: number };

/** Any message: tag, Int32 length, body. */
export function encodeMessage(type: number, body: Uint8Array): Buffer {
  return new MessageWriter(type, 5 + body.length).bytes(body).end();
}

export function encodeAuthenticationOk(): Buffer {
  return new MessageWriter(BackendType.Authentication, 9).int32(AuthenticationCode.Ok).end();
}

export function encodeAuthenticationCleartextPassword(): Buffer {
  return new MessageWriter(BackendType.Authentication, 9).int32(AuthenticationCode.CleartextPassword).end();
}

export function encodeAuthenticationMd5Password(salt: Buffer): Buffer {
  if (salt.length !== 4) throw new RangeError(`an MD5 salt has 4 bytes, got ${salt.length}`);
  return new MessageWriter(BackendType.Authentication, 13).int32(AuthenticationCode.Md5Password).bytes(salt).end();
}

/** AuthenticationSASL: the mechanisms offered, in order of preference. */
export function encodeAuthenticationSasl(mechanisms: string[]): Buffer {
  const writer = new MessageWriter(BackendType.Authentication, 32).int32(AuthenticationCode.Sasl);
  for (const mechanism of mechanisms) {
    if (mechanism === '') throw new RangeError('a SASL mechanism name cannot be empty (it ends the list)');
    writer.cstring(mechanism);
  }
  return writer.int8(0).end();
}

export function encodeAuthenticationSaslContinue(data: Buffer): Buffer {
  return new MessageWriter(BackendType.Authentication, 9 + data.length).int32(AuthenticationCode.SaslContinue).bytes(data).end();
}

export function encodeAuthenticationSaslFinal(data: Buffer): Buffer {
  return new MessageWriter(BackendType.Authentication, 9 + data.length).int32(AuthenticationCode.SaslFinal).bytes(data).end();
}

export function decodeAuthentication(body: Buffer): Authentication {
  const reader = new MessageReader(body, 'Authentication');
  const code = reader.int32('authentication code');
  switch (code) {
    case AuthenticationCode.Ok:
      reader.end();
      return { kind: 'ok' };
    case AuthenticationCode.CleartextPassword:
      reader.end();
      return { kind: 'cleartext' };
    case AuthenticationCode.Md5Password: {
      const salt = reader.bytes(4, 'salt');
      reader.end();
      return { kind: 'md5', salt };
    }
    case AuthenticationCode.Sasl: {
      const mechanisms: string[] = [];
      for (let mechanism = reader.cstring('mechanism'); mechanism !== ''; mechanism = reader.cstring('mechanism')) mechanisms.push(mechanism);
      reader.end();
      return { kind: 'sasl', mechanisms };
    }
    case AuthenticationCode.SaslContinue:
      return { kind: 'sasl-continue', data: reader.rest() };
    case AuthenticationCode.SaslFinal:
      return { kind: 'sasl-final', data: reader.rest() };
    default:
      return { kind: 'other', code };
  }
}

export function encodeParameterStatus(name: string, value: string): Buffer {
  return new MessageWriter(BackendType.ParameterStatus, 8 + name.length + value.length).cstring(name).cstring(value).end();
}

export function decodeParameterStatus(body: Buffer): { name: string; value: string } {
  const reader = new MessageReader(body, 'ParameterStatus');
  const name = reader.cstring('parameter name');
  const value = reader.cstring('parameter value');
  reader.end();
  return { name, value };
}

/** processId must be an Int32; the key 4 bytes (protocol 3.0) or up to 256 (3.2). */
export function encodeBackendKeyData(processId: number, secretKey: Buffer): Buffer {
  if (secretKey.length < 4 || secretKey.length > MAX_CANCEL_KEY_BYTES) {
    throw new RangeError(`a cancel secret key has 4 to ${MAX_CANCEL_KEY_BYTES} bytes, got ${secretKey.length}`);
  }
  return new MessageWriter(BackendType.BackendKeyData, 9 + secretKey.length).int32(processId).bytes(secretKey).end();
}

export function decodeBackendKeyData(body: Buffer): { processId: number; secretKey: Buffer } {
  const reader = new MessageReader(body, 'BackendKeyData');
  const processId = reader.int32('process ID');
  const secretKey = reader.rest();
  if (secretKey.length < 4 || secretKey.length > MAX_CANCEL_KEY_BYTES) throw reader.malformed(`secret key of ${secretKey.length} bytes (4 to ${MAX_CANCEL_KEY_BYTES})`);
  return { processId, secretKey };
}

export function encodeReadyForQuery(status: TransactionStatus): Buffer {
  return new MessageWriter(BackendType.ReadyForQuery, 6).int8(status.charCodeAt(0)).end();
}

export function decodeReadyForQuery(body: Buffer): TransactionStatus {
  if (body.length !== 1) throw new MalformedMessageError(`invalid ReadyForQuery message: body of ${body.length} bytes, expected 1`);
  const status = String.fromCharCode(body[0] as number);
  if (status !== 'I' && status !== 'T' && status !== 'E') throw new MalformedMessageError(`invalid ReadyForQuery message: unknown transaction status 0x${(body[0] as number).toString(16)}`);
  return status;
}

export function encodeCommandComplete(tag: string): Buffer {
  return new MessageWriter(BackendType.CommandComplete, 6 + tag.length).cstring(tag).end();
}

export function decodeCommandComplete(body: Buffer): string {
  const reader = new MessageReader(body, 'CommandComplete');
  const tag = reader.cstring('command tag');
  reader.end();
  return tag;
}

// Tags that end in a row count (CREATE TABLE AS and SELECT INTO report 'SELECT n').
const ROW_COUNT_COMMANDS = new Set(['INSERT', 'DELETE', 'UPDATE', 'MERGE', 'SELECT', 'MOVE', 'FETCH', 'COPY']);

/** 'SELECT 5' → 5, 'INSERT 0 3' → 3, 'BEGIN' → null. */
export function rowCountOf(tag: string): number | null {
  const first = tag.indexOf(' ');
  if (first < 0 || !ROW_COUNT_COMMANDS.has(tag.slice(0, first))) return null;
  const count = tag.slice(tag.lastIndexOf(' ') + 1);
  return /^\d+$/.test(count) ? Number(count) : null;
}

export function encodeEmptyQueryResponse(): Buffer {
  return new MessageWriter(BackendType.EmptyQueryResponse, 5).end();
}

export function encodeParseComplete(): Buffer {
  return new MessageWriter(BackendType.ParseComplete, 5).end();
}

export function encodeBindComplete(): Buffer {
  return new MessageWriter(BackendType.BindComplete, 5).end();
}

export function encodeCloseComplete(): Buffer {
  return new MessageWriter(BackendType.CloseComplete, 5).end();
}

export function encodeNoData(): Buffer {
  return new MessageWriter(BackendType.NoData, 5).end();
}

export function encodePortalSuspended(): Buffer {
  return new MessageWriter(BackendType.PortalSuspended, 5).end();
}

/** NegotiateProtocolVersion 'v': the newest minor version the server speaks and the `_pq_.` options it did not recognise. */
export function encodeNegotiateProtocolVersion(newestMinorVersion: number, unrecognizedOptions: string[]): Buffer {
  const writer = new MessageWriter(BackendType.NegotiateProtocolVersion).int32(newestMinorVersion).int32(unrecognizedOptions.length);
  for (const option of unrecognizedOptions) writer.cstring(option);
  return writer.end();
}

export function decodeNegotiateProtocolVersion(body: Buffer): { newestMinorVersion: number; unrecognizedOptions: string[] } {
  const reader = new MessageReader(body, 'NegotiateProtocolVersion');
  const newestMinorVersion = reader.int32('newest minor version');
  const count = reader.int32('option count');
  if (count < 0) throw reader.malformed(`negative option count ${count}`);
  const unrecognizedOptions: string[] = [];
  for (let i = 0; i < count; i++) unrecognizedOptions.push(reader.cstring('option name'));
  reader.end();
  return { newestMinorVersion, unrecognizedOptions };
}

/** NotificationResponse 'A' (LISTEN/NOTIFY). */
export function decodeNotificationResponse(body: Buffer): { processId: number; channel: string; payload: string } {
  const reader = new MessageReader(body, 'NotificationResponse');
  const processId = reader.int32('process ID');
  const channel = reader.cstring('channel');
  const payload = reader.cstring('payload');
  reader.end();
  return { processId, channel, payload };
}

export function encodeNotificationResponse(processId: number, channel: string, payload: string): Buffer {
  return new MessageWriter(BackendType.NotificationResponse, 16 + channel.length + payload.length).int32(processId).cstring(channel).cstring(payload).end();
}
