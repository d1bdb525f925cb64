/**
 * The untyped first packets of a connection: StartupMessage, SSLRequest, GSSENCRequest, CancelRequest.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html (and the start-up flow:
 * https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-START-UP)
 *
 * Bodies here are what StartupFramer hands out: the bytes after the Int32 length.
 */
import { MalformedMessageError } from './errors.ts';
import { StartupCode } from './message-types.ts';
import { MessageReader } from './message-reader.ts';
import { MessageWriter } from './message-writer.ts';

export type StartupPacket =
  | { kind: 'ssl-request' }
  | { kind: 'gssenc-request' }
  /** The secret key is 4 bytes in protocol 3.0 and up to 256 in 3.2. */
  | { kind: 'cancel'; processId: number; secretKey: Buffer }
  | { kind: 'startup'; majorVersion: number; minorVersion: number; parameters: Map<string, string> };

/** Protocol 3.2 (PostgreSQL 18) lets the server choose a secret key of up to 256 bytes. */
export const MAX_CANCEL_KEY_BYTES = 256;

export function parseStartupPacket(body: Buffer): StartupPacket {
  const reader = new MessageReader(body, 'startup packet');
  const code = reader.int32('request code');
  switch (code) {
    case StartupCode.SslRequest:
      reader.end();
      return { kind: 'ssl-request' };
    case StartupCode.GssEncRequest:
      reader.end();
      return { kind: 'gssenc-request' };
    case StartupCode.CancelRequest: {
      const processId = reader.int32('process ID');
      const secretKey = reader.rest();
      if (secretKey.length < 4 || secretKey.length > MAX_CANCEL_KEY_BYTES) {
        throw reader.malformed(`cancel secret key of ${secretKey.length} bytes (4 to ${MAX_CANCEL_KEY_BYTES})`);
      }
      return { kind: 'cancel', processId, secretKey };
    }
  }
  const majorVersion = code >>> 16;
  const minorVersion = code & 0xffff;
  if (majorVersion !== 3) {
    // 1234.x are request codes; anything else is protocol 2.0 (gone since PostgreSQL 14) or not PostgreSQL at all.
    throw new MalformedMessageError(
      majorVersion === 1234
        ? `unsupported startup request code 1234.${minorVersion}`
        : `unsupported frontend protocol ${majorVersion}.${minorVersion}: the gateway speaks protocol 3`,
    );
  }
  return { kind: 'startup', majorVersion, minorVersion, parameters: readParameters(reader) };
}

/** name/value String pairs ended by an empty name. A repeated name keeps the last value, as the server does. */
function readParameters(reader: MessageReader): Map<string, string> {
  const parameters = new Map<string, string>();
  for (;;) {
    const name = reader.cstring('parameter name');
    if (name === '') break;
    parameters.set(name, reader.cstring(`value of parameter ${JSON.stringify(name)}`));
  }
  reader.end();
  return parameters;
}

/** A protocol 3.0 StartupMessage, length included (ready to send). */
export function encodeStartupMessage(parameters: Map<string, string>): Buffer {
  const writer = new MessageWriter(null, 128).int32(StartupCode.Protocol30);
  for (const [name, value] of parameters) {
    if (name === '') throw new RangeError('a startup parameter name cannot be empty (it ends the list)');
    writer.cstring(name).cstring(value);
  }
  return writer.int8(0).end();
}

/** processId must be an Int32 (as BackendKeyData carries it). */
export function encodeCancelRequest(processId: number, secretKey: Buffer): Buffer {
  if (secretKey.length < 4 || secretKey.length > MAX_CANCEL_KEY_BYTES) {
    throw new RangeError(`a cancel secret key has 4 to ${MAX_CANCEL_KEY_BYTES} bytes, got ${secretKey.length}`);
  }
  return new MessageWriter(null, 12 + secretKey.length).int32(StartupCode.CancelRequest).int32(processId).bytes(secretKey).end();
}

export function encodeSslRequest(): Buffer {
  return new MessageWriter(null, 8).int32(StartupCode.SslRequest).end();
}

export function encodeGssEncRequest(): Buffer {
  return new MessageWriter(null, 8).int32(StartupCode.GssEncRequest).end();
}
