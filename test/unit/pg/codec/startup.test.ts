import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MalformedMessageError,
  StartupCode,
  encodeCancelRequest,
  encodeGssEncRequest,
  encodeSslRequest,
  encodeStartupMessage,
  parseStartupPacket,
} from '../../../../src/pg/codec/index.ts';

/** The body StartupFramer hands out: the packet without its length. */
const bodyOf = (packet: Buffer): Buffer => {
  expect(packet.readInt32BE(0)).toBe(packet.length);
  return packet.subarray(4);
};

describe('startup packets', () => {
  it('encodes SSLRequest and GSSENCRequest as their literal 8 bytes, and parses them back', () => {
    expect(encodeSslRequest().toString('hex')).toBe('0000000804d2162f');
    expect(encodeGssEncRequest().toString('hex')).toBe('0000000804d21630');
    expect(parseStartupPacket(bodyOf(encodeSslRequest()))).toEqual({ kind: 'ssl-request' });
    expect(parseStartupPacket(bodyOf(encodeGssEncRequest()))).toEqual({ kind: 'gssenc-request' });
  });

  it('encodes a StartupMessage as psql does and round-trips its parameters', () => {
    const parameters = new Map([
      ['user', 'agent-1'],
      ['database', 'app'],
      ['application_name', 'psql'],
      ['options', '-c search_path=ünïcode'],
    ]);
    const packet = encodeStartupMessage(parameters);
    expect(packet.subarray(0, 8).toString('hex')).toBe(`${packet.length.toString(16).padStart(8, '0')}00030000`);
    expect(packet.subarray(8).toString('latin1')).toBe(Buffer.from('user\0agent-1\0database\0app\0application_name\0psql\0options\0-c search_path=ünïcode\0\0').toString('latin1'));
    expect(parseStartupPacket(bodyOf(packet))).toEqual({ kind: 'startup', majorVersion: 3, minorVersion: 0, parameters });
  });

  it('round-trips any parameters (property)', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((value) => !value.includes('\0'));
    fc.assert(
      fc.property(fc.array(fc.tuple(text.filter((name) => name !== ''), text), { maxLength: 8 }), (pairs) => {
        const parameters = new Map(pairs);
        const parsed = parseStartupPacket(bodyOf(encodeStartupMessage(parameters)));
        expect(parsed).toEqual({ kind: 'startup', majorVersion: 3, minorVersion: 0, parameters });
      }),
    );
  });

  it('reports the minor version (3.2 clients) and keeps the last of repeated parameters, like the server', () => {
    const body = Buffer.concat([Buffer.from([0, 3, 0, 2]), Buffer.from('user\0a\0user\0b\0_pq_.x\0y\0\0')]);
    expect(parseStartupPacket(body)).toEqual({ kind: 'startup', majorVersion: 3, minorVersion: 2, parameters: new Map([['user', 'b'], ['_pq_.x', 'y']]) });
  });

  it('encodes and parses CancelRequest with a 4-byte (3.0) or longer (3.2) key', () => {
    const key = Buffer.from('a1b2c3d4', 'hex');
    const packet = encodeCancelRequest(4242, key);
    expect(packet.toString('hex')).toBe('0000001004d2162e00001092a1b2c3d4');
    expect(parseStartupPacket(bodyOf(packet))).toEqual({ kind: 'cancel', processId: 4242, secretKey: key });
    const longKey = Buffer.alloc(256, 7);
    expect(parseStartupPacket(bodyOf(encodeCancelRequest(-5, longKey)))).toEqual({ kind: 'cancel', processId: -5, secretKey: longKey });
    expect(() => encodeCancelRequest(1, Buffer.alloc(3))).toThrow(RangeError);
    expect(() => encodeCancelRequest(1, Buffer.alloc(257))).toThrow(RangeError);
  });

  it('refuses malformed packets with a clear message', () => {
    const cases: [string, Buffer, RegExp][] = [
      ['empty', Buffer.alloc(0), /request code needs 4 bytes/],
      ['protocol 2.0', Buffer.from([0, 2, 0, 0, 0]), /unsupported frontend protocol 2\.0/],
      ['HTTP', Buffer.from('GET / HTTP/1.1'), /unsupported frontend protocol/],
      ['unknown 1234.x', Buffer.from([0x04, 0xd2, 0x16, 0x31]), /unsupported startup request code 1234\.5681/],
      ['SSLRequest with trailing bytes', Buffer.concat([bodyOf(encodeSslRequest()), Buffer.from([0])]), /trailing/],
      ['cancel key too short', Buffer.from([0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 1, 9, 9]), /secret key of 2 bytes/],
      ['cancel without pid', Buffer.from([0x04, 0xd2, 0x16, 0x2e, 0, 0]), /process ID/],
      ['parameters not terminated', Buffer.concat([Buffer.from([0, 3, 0, 0]), Buffer.from('user\0a\0')]), /not NUL-terminated/],
      ['value missing', Buffer.concat([Buffer.from([0, 3, 0, 0]), Buffer.from('user\0')]), /value of parameter "user"/],
      ['bytes after the list', Buffer.concat([Buffer.from([0, 3, 0, 0]), Buffer.from('user\0a\0\0x')]), /trailing/],
    ];
    for (const [name, body, message] of cases) {
      expect(() => parseStartupPacket(body), name).toThrow(MalformedMessageError);
      expect(() => parseStartupPacket(body), name).toThrow(message);
    }
  });

  it('refuses to encode what it could not parse back', () => {
    expect(() => encodeStartupMessage(new Map([['', 'x']]))).toThrow(RangeError);
    expect(() => encodeStartupMessage(new Map([['user', 'a\0b']]))).toThrow(RangeError);
  });

  it('names the request codes as in the docs', () => {
    expect(StartupCode).toEqual({ Protocol30: 196608, CancelRequest: 80877102, SslRequest: 80877103, GssEncRequest: 80877104 });
  });
});
