import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BackendType,
  MalformedMessageError,
  SQLSTATE,
  decodeAuthentication,
  decodeBackendKeyData,
  decodeCommandComplete,
  decodeCopyResponse,
  decodeDataRow,
  decodeFrame,
  decodeNegotiateProtocolVersion,
  decodeNoticeFields,
  decodeNotificationResponse,
  decodeParameterDescription,
  decodeParameterStatus,
  decodeReadyForQuery,
  decodeRowDescription,
  encodeAuthenticationCleartextPassword,
  encodeAuthenticationMd5Password,
  encodeAuthenticationOk,
  encodeAuthenticationSasl,
  encodeAuthenticationSaslContinue,
  encodeAuthenticationSaslFinal,
  encodeBackendKeyData,
  encodeBindComplete,
  encodeCloseComplete,
  encodeCommandComplete,
  encodeCopyResponse,
  encodeDataRow,
  encodeEmptyQueryResponse,
  encodeErrorResponse,
  encodeMessage,
  encodeNegotiateProtocolVersion,
  encodeNoData,
  encodeNoticeFieldsFrom,
  encodeNoticeResponse,
  encodeNotificationResponse,
  encodeParameterDescription,
  encodeParameterStatus,
  encodeParseComplete,
  encodePortalSuspended,
  encodeReadyForQuery,
  encodeRowDescription,
  rowCountOf,
} from '../../../../src/pg/codec/index.ts';
import type { RowField } from '../../../../src/pg/codec/index.ts';
import { sharesMemory } from './chunks.ts';

function bodyOf(frame: Buffer, type: number): Buffer {
  const message = decodeFrame(frame);
  expect(message.type).toBe(type);
  return message.body;
}

function expectStrict(decode: (body: Buffer) => unknown, body: Buffer, { trailing = true } = {}): void {
  for (let length = 0; length < body.length; length++) {
    expect(() => decode(Buffer.from(body.subarray(0, length))), `truncated to ${length} of ${body.length}`).toThrow(MalformedMessageError);
  }
  if (trailing) expect(() => decode(Buffer.concat([body, Buffer.from([0x41])])), 'trailing byte').toThrow(MalformedMessageError);
}

describe('Authentication', () => {
  it('encodes the literal messages and decodes each kind back', () => {
    expect(encodeAuthenticationOk().toString('hex')).toBe('520000000800000000');
    expect(encodeAuthenticationCleartextPassword().toString('hex')).toBe('520000000800000003');
    expect(encodeAuthenticationSasl(['SCRAM-SHA-256']).toString('latin1')).toBe('R\0\0\0\x17\0\0\0\x0aSCRAM-SHA-256\0\0');
    const R = BackendType.Authentication;
    const salt = Buffer.from('01020304', 'hex');
    expect(decodeAuthentication(bodyOf(encodeAuthenticationOk(), R))).toEqual({ kind: 'ok' });
    expect(decodeAuthentication(bodyOf(encodeAuthenticationCleartextPassword(), R))).toEqual({ kind: 'cleartext' });
    expect(decodeAuthentication(bodyOf(encodeAuthenticationMd5Password(salt), R))).toEqual({ kind: 'md5', salt });
    expect(decodeAuthentication(bodyOf(encodeAuthenticationSasl(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']), R))).toEqual({
      kind: 'sasl',
      mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'],
    });
    expect(decodeAuthentication(bodyOf(encodeAuthenticationSaslContinue(Buffer.from('r=x,s=y,i=1')), R))).toEqual({ kind: 'sasl-continue', data: Buffer.from('r=x,s=y,i=1') });
    expect(decodeAuthentication(bodyOf(encodeAuthenticationSaslFinal(Buffer.from('v=abc')), R))).toEqual({ kind: 'sasl-final', data: Buffer.from('v=abc') });
    expect(decodeAuthentication(Buffer.from([0, 0, 0, 7]))).toEqual({ kind: 'other', code: 7 });
  });

  it('refuses malformed authentication requests', () => {
    expect(() => decodeAuthentication(Buffer.from([0, 0]))).toThrow(MalformedMessageError);
    expect(() => decodeAuthentication(Buffer.from([0, 0, 0, 5, 1, 2, 3]))).toThrow(/salt/);
    expect(() => decodeAuthentication(Buffer.from([0, 0, 0, 0, 1]))).toThrow(/trailing/);
    expect(() => decodeAuthentication(Buffer.from('\0\0\0\x0aSCRAM-SHA-256\0', 'latin1'))).toThrow(/not NUL-terminated/);
    expect(() => encodeAuthenticationMd5Password(Buffer.alloc(3))).toThrow(RangeError);
  });
});

describe('session status messages', () => {
  it('ParameterStatus round-trips', () => {
    const frame = encodeParameterStatus('server_version', '15.20');
    expect(frame.toString('latin1')).toBe('S\0\0\0\x19server_version\x0015.20\0');
    expect(decodeParameterStatus(bodyOf(frame, BackendType.ParameterStatus))).toEqual({ name: 'server_version', value: '15.20' });
    expectStrict(decodeParameterStatus, bodyOf(frame, BackendType.ParameterStatus));
  });

  it('BackendKeyData round-trips with 4-byte and 3.2-length keys', () => {
    const key = Buffer.from('deadbeef', 'hex');
    expect(encodeBackendKeyData(1234, key).toString('hex')).toBe('4b0000000c000004d2deadbeef');
    expect(decodeBackendKeyData(bodyOf(encodeBackendKeyData(1234, key), BackendType.BackendKeyData))).toEqual({ processId: 1234, secretKey: key });
    expect(decodeBackendKeyData(bodyOf(encodeBackendKeyData(-1, Buffer.alloc(32, 1)), BackendType.BackendKeyData)).secretKey).toHaveLength(32);
    expect(() => decodeBackendKeyData(Buffer.from([0, 0, 0, 1, 2]))).toThrow(/secret key of 1 bytes/);
    expect(() => encodeBackendKeyData(2 ** 31, key)).toThrow(RangeError);
  });

  it('ReadyForQuery round-trips each status and refuses others', () => {
    for (const status of ['I', 'T', 'E'] as const) expect(decodeReadyForQuery(bodyOf(encodeReadyForQuery(status), BackendType.ReadyForQuery))).toBe(status);
    expect(encodeReadyForQuery('I').toString('hex')).toBe('5a0000000549');
    expect(() => decodeReadyForQuery(Buffer.from('X'))).toThrow(/unknown transaction status/);
    expect(() => decodeReadyForQuery(Buffer.from('II'))).toThrow(MalformedMessageError);
    expect(() => decodeReadyForQuery(Buffer.alloc(0))).toThrow(MalformedMessageError);
  });

  it('bodiless responses have the literal bytes of the docs', () => {
    expect(encodeEmptyQueryResponse().toString('hex')).toBe('4900000004');
    expect(encodeParseComplete().toString('hex')).toBe('3100000004');
    expect(encodeBindComplete().toString('hex')).toBe('3200000004');
    expect(encodeCloseComplete().toString('hex')).toBe('3300000004');
    expect(encodeNoData().toString('hex')).toBe('6e00000004');
    expect(encodePortalSuspended().toString('hex')).toBe('7300000004');
    expect(encodeMessage(0x5a, Buffer.from('T')).equals(encodeReadyForQuery('T'))).toBe(true);
  });

  it('NegotiateProtocolVersion and NotificationResponse round-trip', () => {
    const negotiate = encodeNegotiateProtocolVersion(0, ['_pq_.compression']);
    expect(decodeNegotiateProtocolVersion(bodyOf(negotiate, BackendType.NegotiateProtocolVersion))).toEqual({ newestMinorVersion: 0, unrecognizedOptions: ['_pq_.compression'] });
    expectStrict(decodeNegotiateProtocolVersion, bodyOf(negotiate, BackendType.NegotiateProtocolVersion));
    const notify = encodeNotificationResponse(77, 'jobs', '{"id":1}');
    expect(decodeNotificationResponse(bodyOf(notify, BackendType.NotificationResponse))).toEqual({ processId: 77, channel: 'jobs', payload: '{"id":1}' });
    expectStrict(decodeNotificationResponse, bodyOf(notify, BackendType.NotificationResponse));
  });
});

describe('ErrorResponse and NoticeResponse', () => {
  it('sends severity as S and V, then C, M, D, H, then extra fields', () => {
    const frame = encodeErrorResponse({
      severity: 'FATAL',
      code: SQLSTATE.invalid_password,
      message: 'password authentication failed for user "agent"',
      hint: 'Use a token from `portcullis agent token`.',
      detail: 'token expired',
      P: '7',
      routine: 'portcullis',
    });
    expect(frame[0]).toBe(0x45);
    expect([...decodeNoticeFields(bodyOf(frame, BackendType.ErrorResponse))]).toEqual([
      ['S', 'FATAL'],
      ['V', 'FATAL'],
      ['C', '28P01'],
      ['M', 'password authentication failed for user "agent"'],
      ['D', 'token expired'],
      ['H', 'Use a token from `portcullis agent token`.'],
      ['P', '7'],
      ['R', 'portcullis'],
    ]);
    expect(frame.subarray(5, 26).toString('latin1')).toBe('SFATAL\0VFATAL\0C28P01\0');
  });

  it('NoticeResponse uses N and skips absent optional fields', () => {
    const frame = encodeNoticeResponse({ severity: 'NOTICE', code: '00000', message: 'held for approval a-1', detail: undefined });
    expect(frame[0]).toBe(0x4e);
    expect(decodeNoticeFields(bodyOf(frame, BackendType.NoticeResponse))).toEqual(
      new Map([
        ['S', 'NOTICE'],
        ['V', 'NOTICE'],
        ['C', '00000'],
        ['M', 'held for approval a-1'],
      ]),
    );
  });

  it('refuses unknown field names rather than dropping them', () => {
    expect(() => encodeErrorResponse({ severity: 'ERROR', code: 'XX000', message: 'x', hnit: 'typo' })).toThrow(/unknown notice field "hnit"/);
  });

  it('decodes every field, known or not, and re-encodes them unchanged (masking path)', () => {
    const server = Buffer.from('SERROR\0VERROR\0C23505\0Mduplicate key value violates unique constraint "users_email_key"\0DKey (email)=(a@example.com) already exists.\0spublic\0tusers\0nusers_email_key\0Fnbtinsert.c\0L664\0R_bt_check_unique\0Zfuture\0\0');
    const fields = decodeNoticeFields(server);
    expect(fields.get('D')).toBe('Key (email)=(a@example.com) already exists.');
    expect(fields.get('Z')).toBe('future');
    expect(bodyOf(encodeNoticeFieldsFrom(BackendType.ErrorResponse, fields), BackendType.ErrorResponse).equals(server)).toBe(true);
    fields.set('D', 'Key (email)=(****) already exists.');
    expect(decodeNoticeFields(bodyOf(encodeNoticeFieldsFrom(BackendType.NoticeResponse, fields), BackendType.NoticeResponse)).get('D')).toBe('Key (email)=(****) already exists.');
    expectStrict(decodeNoticeFields, server);
  });

  it('round-trips any fields (property)', () => {
    const code = fc.integer({ min: 1, max: 127 }).map((byte) => String.fromCharCode(byte));
    const value = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((text) => !text.includes('\0'));
    fc.assert(
      fc.property(fc.array(fc.tuple(code, value), { maxLength: 10 }), (pairs) => {
        const fields = new Map(pairs);
        expect(decodeNoticeFields(bodyOf(encodeNoticeFieldsFrom(BackendType.NoticeResponse, fields), BackendType.NoticeResponse))).toEqual(fields);
      }),
    );
  });

  it('refuses bad codes and types when re-encoding', () => {
    expect(() => encodeNoticeFieldsFrom(BackendType.ErrorResponse, new Map([['SV', 'x']]))).toThrow(RangeError);
    expect(() => encodeNoticeFieldsFrom(BackendType.DataRow, new Map())).toThrow(RangeError);
  });
});

describe('CommandComplete', () => {
  it('round-trips the tag', () => {
    expect(encodeCommandComplete('SELECT 1').toString('hex')).toBe('430000000d53454c454354203100');
    expect(decodeCommandComplete(bodyOf(encodeCommandComplete('INSERT 0 3'), BackendType.CommandComplete))).toBe('INSERT 0 3');
    expectStrict(decodeCommandComplete, bodyOf(encodeCommandComplete('BEGIN'), BackendType.CommandComplete));
  });

  it.each([
    ['SELECT 5', 5],
    ['SELECT 0', 0],
    ['INSERT 0 3', 3],
    ['UPDATE 12', 12],
    ['DELETE 1', 1],
    ['MERGE 4', 4],
    ['FETCH 100', 100],
    ['MOVE 2', 2],
    ['COPY 2000000', 2_000_000],
    ['BEGIN', null],
    ['CREATE TABLE', null],
    ['SET', null],
    ['DROP TABLE', null],
    ['SHOW', null],
    ['CREATE TABLE 5', null],
    ['SELECT x', null],
    ['', null],
  ])('rowCountOf(%j) is %j', (tag, count) => {
    expect(rowCountOf(tag)).toBe(count);
  });
});

describe('RowDescription and DataRow', () => {
  const fields: RowField[] = [
    { name: 'id', tableOid: 16384, attnum: 1, typeOid: 23, typeSize: 4, typeModifier: -1, format: 0 },
    { name: 'email', tableOid: 16384, attnum: 2, typeOid: 25, typeSize: -1, typeModifier: -1, format: 1 },
    { name: '?column?', tableOid: 0, attnum: 0, typeOid: 4294967295, typeSize: -2, typeModifier: 68, format: 0 },
  ];

  it('RowDescription round-trips (including unsigned OIDs) and is strict', () => {
    const body = bodyOf(encodeRowDescription(fields), BackendType.RowDescription);
    expect(decodeRowDescription(body)).toEqual(fields);
    expectStrict(decodeRowDescription, body);
    const badFormat = Buffer.from(body);
    badFormat.writeInt16BE(2, 2 + 3 + 18 - 2); // the first field's format code
    expect(() => decodeRowDescription(badFormat)).toThrow(/format code of "id" must be 0 or 1/);
  });

  it('RowDescription round-trips any fields (property)', () => {
    const field: fc.Arbitrary<RowField> = fc.record({
      name: fc.string({ maxLength: 12 }).filter((name) => !name.includes('\0')),
      tableOid: fc.integer({ min: 0, max: 0xffffffff }),
      attnum: fc.integer({ min: -32768, max: 32767 }),
      typeOid: fc.integer({ min: 0, max: 0xffffffff }),
      typeSize: fc.integer({ min: -32768, max: 32767 }),
      typeModifier: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      format: fc.constantFrom(0 as const, 1 as const),
    });
    fc.assert(
      fc.property(fc.array(field, { maxLength: 8 }), (row) => {
        expect(decodeRowDescription(bodyOf(encodeRowDescription(row), BackendType.RowDescription))).toEqual(row);
      }),
    );
  });

  it('DataRow round-trips, keeps NULL apart from empty, and hands out views of the body', () => {
    const cells = [Buffer.from('1'), null, Buffer.alloc(0), Buffer.from('a@example.com')];
    const frame = encodeDataRow(cells);
    expect(frame.toString('hex')).toBe('440000002400040000000131ffffffff000000000000000d61406578616d706c652e636f6d');
    const body = bodyOf(frame, BackendType.DataRow);
    const decoded = decodeDataRow(body);
    expect(decoded).toEqual(cells);
    expect(decoded[3] && sharesMemory(decoded[3], body)).toBe(true);
    expectStrict(decodeDataRow, body);
  });

  it('DataRow round-trips any cells (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.uint8Array({ maxLength: 16 }).map((bytes) => Buffer.from(bytes)), { nil: null }), { maxLength: 10 }), (cells) => {
        expect(decodeDataRow(bodyOf(encodeDataRow(cells), BackendType.DataRow))).toEqual(cells);
      }),
    );
  });

  it('ParameterDescription round-trips', () => {
    const body = bodyOf(encodeParameterDescription([23, 25, 0xffffffff]), BackendType.ParameterDescription);
    expect(decodeParameterDescription(body)).toEqual([23, 25, 0xffffffff]);
    expectStrict(decodeParameterDescription, body);
  });
});

describe('Copy responses', () => {
  it('round-trip for each type and refuse a bad overall format', () => {
    for (const type of [BackendType.CopyInResponse, BackendType.CopyOutResponse, BackendType.CopyBothResponse]) {
      const response = { format: 1 as const, columnFormats: [1, 1, 1] };
      expect(decodeCopyResponse(bodyOf(encodeCopyResponse(type, response), type))).toEqual(response);
    }
    expect(encodeCopyResponse(BackendType.CopyOutResponse, { format: 0, columnFormats: [0, 0] }).toString('hex')).toBe('480000000b000002' + '00000000');
    const body = bodyOf(encodeCopyResponse(BackendType.CopyInResponse, { format: 0, columnFormats: [0] }), BackendType.CopyInResponse);
    expectStrict(decodeCopyResponse, body);
    expect(() => decodeCopyResponse(Buffer.from([2, 0, 0]))).toThrow(/overall format/);
    expect(() => encodeCopyResponse(BackendType.DataRow, { format: 0, columnFormats: [] })).toThrow(RangeError);
  });
});
