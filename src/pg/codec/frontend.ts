/**
 * Messages the client sends after startup: https://www.postgresql.org/docs/current/protocol-message-formats.html
 * (extended query flow: https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY).
 *
 * Decoders take the BODY (PgMessage.body) and, like the server's pq_getmsgend, refuse trailing bytes.
 * Their MalformedMessageError leaves the framing intact: the server answers such a message with an
 * ERROR 08P01 ("invalid message format") and carries on, and the proxy can do the same.
 * Encoders return whole messages, ready to write. SQL text is decoded strictly as UTF-8 (see
 * MessageReader.cstringStrict); byte fields are zero-copy views of the body.
 */
import { FrontendType } from './message-types.ts';
import { MessageReader } from './message-reader.ts';
import { MessageWriter } from './message-writer.ts';

/** 'S' or 'P' in Describe and Close. */
export type DescribeTarget = 'statement' | 'portal';

export interface ParseMessage {
  name: string;
  query: string;
  /** Type OIDs; 0 leaves a parameter's type to the server. */
  parameterTypes: number[];
}

export interface BindMessage {
  portal: string;
  statement: string;
  /** Empty: all text; one code: applies to all; else one per parameter. */
  parameterFormats: number[];
  /** null is SQL NULL (length -1). */
  parameters: (Buffer | null)[];
  resultFormats: number[];
}

/** Query 'Q' */
export function decodeQuery(body: Buffer): string {
  const reader = new MessageReader(body, 'Query');
  const sql = reader.cstringStrict('query string');
  reader.end();
  return sql;
}

/** Parse 'P' */
export function decodeParse(body: Buffer): ParseMessage {
  const reader = new MessageReader(body, 'Parse');
  const name = reader.cstring('statement name');
  const query = reader.cstringStrict('query string');
  const count = reader.uint16('parameter type count');
  const parameterTypes = new Array<number>(count);
  for (let i = 0; i < count; i++) parameterTypes[i] = reader.uint32('parameter type');
  reader.end();
  return { name, query, parameterTypes };
}

/** Bind 'B' */
export function decodeBind(body: Buffer): BindMessage {
  const reader = new MessageReader(body, 'Bind');
  const portal = reader.cstring('portal name');
  const statement = reader.cstring('statement name');
  const parameterFormats = readFormats(reader, 'parameter format');
  const count = reader.uint16('parameter count');
  const parameters = new Array<Buffer | null>(count);
  for (let i = 0; i < count; i++) {
    const length = reader.int32('parameter length');
    parameters[i] = length === -1 ? null : reader.bytes(length, `parameter ${i + 1}`);
  }
  const resultFormats = readFormats(reader, 'result format');
  reader.end();
  return { portal, statement, parameterFormats, parameters, resultFormats };
}

/** Describe 'D' */
export function decodeDescribe(body: Buffer): { target: DescribeTarget; name: string } {
  return readTargeted(new MessageReader(body, 'Describe'));
}

/** Close 'C' */
export function decodeClose(body: Buffer): { target: DescribeTarget; name: string } {
  return readTargeted(new MessageReader(body, 'Close'));
}

/** Execute 'E'. maxRows 0 (or negative, as the server reads it) means no limit. */
export function decodeExecute(body: Buffer): { portal: string; maxRows: number } {
  const reader = new MessageReader(body, 'Execute');
  const portal = reader.cstring('portal name');
  const maxRows = reader.int32('row limit');
  reader.end();
  return { portal, maxRows };
}

/** FunctionCall 'F' (fast-path): only the function is read; the gateway refuses or forwards the frame whole. */
export function decodeFunctionCall(body: Buffer): { functionOid: number } {
  return { functionOid: new MessageReader(body, 'FunctionCall').uint32('function OID') };
}

/** PasswordMessage 'p' answering AuthenticationCleartextPassword. */
export function decodePasswordMessage(body: Buffer): string {
  const reader = new MessageReader(body, 'PasswordMessage');
  const password = reader.cstring('password');
  reader.end();
  return password;
}

/** SASLInitialResponse 'p'. A data length of -1 (no initial response) gives an empty buffer. */
export function decodeSaslInitialResponse(body: Buffer): { mechanism: string; data: Buffer } {
  const reader = new MessageReader(body, 'SASLInitialResponse');
  const mechanism = reader.cstring('mechanism');
  const length = reader.int32('data length');
  const data = length === -1 ? Buffer.alloc(0) : reader.bytes(length, 'data');
  reader.end();
  return { mechanism, data };
}

/** SASLResponse 'p': the body is the mechanism's data. */
export function decodeSaslResponse(body: Buffer): Buffer {
  return body;
}

/** CopyFail 'f' */
export function decodeCopyFail(body: Buffer): string {
  const reader = new MessageReader(body, 'CopyFail');
  const message = reader.cstring('error message');
  reader.end();
  return message;
}

export function encodeQuery(sql: string): Buffer {
  return new MessageWriter(FrontendType.Query, sql.length + 6).cstring(sql).end();
}

export function encodeParse(message: ParseMessage): Buffer {
  const writer = new MessageWriter(FrontendType.Parse, message.query.length + 16).cstring(message.name).cstring(message.query).uint16(message.parameterTypes.length);
  for (const oid of message.parameterTypes) writer.uint32(oid);
  return writer.end();
}

export function encodeBind(message: BindMessage): Buffer {
  let size = 16 + message.portal.length + message.statement.length;
  for (const value of message.parameters) size += 4 + (value?.length ?? 0);
  const writer = new MessageWriter(FrontendType.Bind, size).cstring(message.portal).cstring(message.statement);
  writeFormats(writer, message.parameterFormats);
  writer.uint16(message.parameters.length);
  for (const value of message.parameters) {
    if (value === null) writer.int32(-1);
    else writer.int32(value.length).bytes(value);
  }
  writeFormats(writer, message.resultFormats);
  return writer.end();
}

export function encodeDescribe(target: DescribeTarget, name: string): Buffer {
  return new MessageWriter(FrontendType.Describe).int8(targetByte(target)).cstring(name).end();
}

export function encodeClose(target: DescribeTarget, name: string): Buffer {
  return new MessageWriter(FrontendType.Close).int8(targetByte(target)).cstring(name).end();
}

/** The proxy re-encodes Execute to cap rows (sql.maxRows). */
export function encodeExecute(portal: string, maxRows: number): Buffer {
  return new MessageWriter(FrontendType.Execute).cstring(portal).int32(maxRows).end();
}

export function encodePasswordMessage(password: string): Buffer {
  return new MessageWriter(FrontendType.PasswordMessage).cstring(password).end();
}

export function encodeSaslInitialResponse(mechanism: string, data: Buffer): Buffer {
  return new MessageWriter(FrontendType.SaslInitialResponse, 32 + data.length).cstring(mechanism).int32(data.length).bytes(data).end();
}

export function encodeSaslResponse(data: Buffer): Buffer {
  return new MessageWriter(FrontendType.SaslResponse, 8 + data.length).bytes(data).end();
}

export function encodeSync(): Buffer {
  return new MessageWriter(FrontendType.Sync, 5).end();
}

export function encodeFlush(): Buffer {
  return new MessageWriter(FrontendType.Flush, 5).end();
}

export function encodeTerminate(): Buffer {
  return new MessageWriter(FrontendType.Terminate, 5).end();
}

export function encodeCopyDone(): Buffer {
  return new MessageWriter(FrontendType.CopyDone, 5).end();
}

export function encodeCopyFail(message: string): Buffer {
  return new MessageWriter(FrontendType.CopyFail).cstring(message).end();
}

/** CopyData 'd' (the same message in both directions). */
export function encodeCopyData(data: Uint8Array): Buffer {
  return new MessageWriter(FrontendType.CopyData, 5 + data.length).bytes(data).end();
}

function readTargeted(reader: MessageReader): { target: DescribeTarget; name: string } {
  const byte = reader.int8('target');
  if (byte !== 0x53 && byte !== 0x50) throw reader.malformed(`target must be 'S' or 'P', got 0x${byte.toString(16)}`);
  const name = reader.cstring('name');
  reader.end();
  return { target: byte === 0x53 ? 'statement' : 'portal', name };
}

function targetByte(target: DescribeTarget): number {
  return target === 'statement' ? 0x53 : 0x50;
}

function readFormats(reader: MessageReader, field: string): number[] {
  const count = reader.uint16(`${field} count`);
  const formats = new Array<number>(count);
  // Codes other than 0/1 are passed on: the server answers them with an ordinary ERROR, not a protocol violation.
  for (let i = 0; i < count; i++) formats[i] = reader.int16(field);
  return formats;
}

function writeFormats(writer: MessageWriter, formats: number[]): void {
  writer.uint16(formats.length);
  for (const format of formats) writer.int16(format);
}
