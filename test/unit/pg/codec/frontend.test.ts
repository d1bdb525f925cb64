import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FrontendType,
  MalformedMessageError,
  decodeBind,
  decodeClose,
  decodeCopyFail,
  decodeDescribe,
  decodeExecute,
  decodeFrame,
  decodeFunctionCall,
  decodeParse,
  decodePasswordMessage,
  decodeQuery,
  decodeSaslInitialResponse,
  decodeSaslResponse,
  encodeBind,
  encodeClose,
  encodeCopyData,
  encodeCopyDone,
  encodeCopyFail,
  encodeDescribe,
  encodeExecute,
  encodeFlush,
  encodeMessage,
  encodeParse,
  encodePasswordMessage,
  encodeQuery,
  encodeSaslInitialResponse,
  encodeSaslResponse,
  encodeSync,
  encodeTerminate,
} from '../../../../src/pg/codec/index.ts';
import type { BindMessage } from '../../../../src/pg/codec/index.ts';
import { sharesMemory } from './chunks.ts';

/** The body of one encoded message, after checking its tag. */
function bodyOf(frame: Buffer, type: number): Buffer {
  const message = decodeFrame(frame);
  expect(message.type).toBe(type);
  return message.body;
}

/** Every strict prefix of the body (a truncated message) and the body plus a byte must be refused. */
function expectStrict(decode: (body: Buffer) => unknown, body: Buffer): void {
  for (let length = 0; length < body.length; length++) {
    expect(() => decode(Buffer.from(body.subarray(0, length))), `truncated to ${length} of ${body.length}`).toThrow(MalformedMessageError);
  }
  expect(() => decode(Buffer.concat([body, Buffer.from([0x41])])), 'trailing byte').toThrow(MalformedMessageError);
}

const text = fc.string({ unit: 'grapheme', maxLength: 30 }).filter((value) => !value.includes('\0'));
const name = fc.oneof(fc.constant(''), fc.stringMatching(/^[a-z_][a-z0-9_]{0,10}$/));

describe('Query', () => {
  it('encodes the literal bytes psql sends and decodes them back', () => {
    expect(encodeQuery('select 1;').toString('hex')).toBe('510000000e73656c65637420313b00');
    expect(decodeQuery(bodyOf(encodeQuery('select 1;'), FrontendType.Query))).toBe('select 1;');
    expectStrict(decodeQuery, bodyOf(encodeQuery('select 1'), FrontendType.Query));
  });

  it('round-trips any text (property)', () => {
    fc.assert(
      fc.property(text, (sql) => {
        expect(decodeQuery(bodyOf(encodeQuery(sql), FrontendType.Query))).toBe(sql);
      }),
    );
  });

  it('refuses SQL text that is not valid UTF-8 instead of guessing', () => {
    expect(() => decodeQuery(Buffer.from([0x73, 0xc3, 0x28, 0]))).toThrow(/not valid UTF-8/);
    expect(() => decodeQuery(Buffer.from([0xff, 0]))).toThrow(MalformedMessageError);
  });
});

describe('Parse', () => {
  it('round-trips (property), with unsigned type OIDs', () => {
    fc.assert(
      fc.property(name, text, fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 6 }), (statement, query, parameterTypes) => {
        const message = { name: statement, query, parameterTypes };
        expect(decodeParse(bodyOf(encodeParse(message), FrontendType.Parse))).toEqual(message);
      }),
    );
  });

  it('is strict about every field', () => {
    expectStrict(decodeParse, bodyOf(encodeParse({ name: 's1', query: 'select $1::int', parameterTypes: [23, 25] }), FrontendType.Parse));
  });
});

describe('Bind', () => {
  const bindArbitrary: fc.Arbitrary<BindMessage> = fc.record({
    portal: name,
    statement: name,
    parameterFormats: fc.array(fc.constantFrom(0, 1), { maxLength: 4 }),
    parameters: fc.array(fc.option(fc.uint8Array({ maxLength: 12 }).map((bytes) => Buffer.from(bytes)), { nil: null }), { maxLength: 6 }),
    resultFormats: fc.array(fc.constantFrom(0, 1), { maxLength: 4 }),
  });

  it('round-trips (property), keeping NULL apart from empty', () => {
    fc.assert(
      fc.property(bindArbitrary, (bind) => {
        expect(decodeBind(bodyOf(encodeBind(bind), FrontendType.Bind))).toEqual(bind);
      }),
    );
    const decoded = decodeBind(bodyOf(encodeBind({ portal: '', statement: '', parameterFormats: [], parameters: [null, Buffer.alloc(0)], resultFormats: [] }), FrontendType.Bind));
    expect(decoded.parameters).toEqual([null, Buffer.alloc(0)]);
  });

  it('hands out parameter values as views of the body', () => {
    const body = bodyOf(encodeBind({ portal: 'p', statement: 's', parameterFormats: [1], parameters: [Buffer.from([0, 0, 0, 42])], resultFormats: [1] }), FrontendType.Bind);
    const [value] = decodeBind(body).parameters;
    expect(value && sharesMemory(value, body)).toBe(true);
  });

  it('reads up to 65535 parameters (counts are unsigned on the wire)', () => {
    const parameters = Array.from({ length: 65_535 }, (_, i) => (i % 2 ? null : Buffer.from('x')));
    expect(decodeBind(bodyOf(encodeBind({ portal: '', statement: '', parameterFormats: [], parameters, resultFormats: [] }), FrontendType.Bind)).parameters).toHaveLength(65_535);
  });

  it('passes unusual format codes on (the server answers them with an ordinary error)', () => {
    expect(decodeBind(bodyOf(encodeBind({ portal: '', statement: '', parameterFormats: [2], parameters: [], resultFormats: [-1] }), FrontendType.Bind))).toMatchObject({
      parameterFormats: [2],
      resultFormats: [-1],
    });
  });

  it('is strict about every field, and refuses negative lengths other than -1', () => {
    expectStrict(decodeBind, bodyOf(encodeBind({ portal: 'p', statement: 's', parameterFormats: [0, 1], parameters: [Buffer.from('ab'), null], resultFormats: [0] }), FrontendType.Bind));
    const body = Buffer.concat([Buffer.from('\0\0'), Buffer.from([0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe, 0, 0])]);
    expect(() => decodeBind(body)).toThrow(/negative length -2/);
  });
});

describe('Describe, Close, Execute', () => {
  it('round-trip and refuse unknown targets', () => {
    for (const target of ['statement', 'portal'] as const) {
      expect(decodeDescribe(bodyOf(encodeDescribe(target, 'x1'), FrontendType.Describe))).toEqual({ target, name: 'x1' });
      expect(decodeClose(bodyOf(encodeClose(target, ''), FrontendType.Close))).toEqual({ target, name: '' });
    }
    expect(encodeDescribe('portal', '').toString('hex')).toBe('44000000065000');
    expect(() => decodeDescribe(Buffer.from('X\0'))).toThrow(/target must be 'S' or 'P'/);
    expectStrict(decodeDescribe, bodyOf(encodeDescribe('statement', 'abc'), FrontendType.Describe));
    expectStrict(decodeClose, bodyOf(encodeClose('portal', 'abc'), FrontendType.Close));
  });

  it('Execute keeps the row limit (0 and negatives mean all rows)', () => {
    for (const maxRows of [0, 1, 100, -1, 2147483647]) {
      expect(decodeExecute(bodyOf(encodeExecute('c1', maxRows), FrontendType.Execute))).toEqual({ portal: 'c1', maxRows });
    }
    expect(encodeExecute('', 0).toString('hex')).toBe('4500000009' + '00' + '00000000');
    expectStrict(decodeExecute, bodyOf(encodeExecute('c1', 5), FrontendType.Execute));
  });
});

describe('FunctionCall', () => {
  it('reads the function OID (unsigned) from a fast-path call', () => {
    const body = Buffer.from([0xff, 0xff, 0xff, 0xf0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(decodeFunctionCall(body)).toEqual({ functionOid: 0xfffffff0 });
    expect(decodeFunctionCall(Buffer.from([0, 0, 0x0b, 0xb8]))).toEqual({ functionOid: 3000 });
    expect(() => decodeFunctionCall(Buffer.from([0, 0, 1]))).toThrow(MalformedMessageError);
  });
});

describe('authentication messages', () => {
  it('PasswordMessage round-trips and is strict', () => {
    expect(decodePasswordMessage(bodyOf(encodePasswordMessage('pcl_fake_token'), FrontendType.PasswordMessage))).toBe('pcl_fake_token');
    expectStrict(decodePasswordMessage, bodyOf(encodePasswordMessage('pw'), FrontendType.PasswordMessage));
  });

  it('SASLInitialResponse round-trips, with -1 as no data', () => {
    const data = Buffer.from('n,,n=,r=abc');
    const frame = encodeSaslInitialResponse('SCRAM-SHA-256', data);
    expect(frame.toString('latin1')).toBe(`p\0\0\0\x21SCRAM-SHA-256\0\0\0\0\x0bn,,n=,r=abc`);
    expect(decodeSaslInitialResponse(bodyOf(frame, FrontendType.SaslInitialResponse))).toEqual({ mechanism: 'SCRAM-SHA-256', data });
    expect(decodeSaslInitialResponse(Buffer.from('SCRAM-SHA-256\0\xff\xff\xff\xff', 'latin1'))).toEqual({ mechanism: 'SCRAM-SHA-256', data: Buffer.alloc(0) });
    expectStrict(decodeSaslInitialResponse, bodyOf(frame, FrontendType.SaslInitialResponse));
  });

  it('SASLResponse is its data', () => {
    const data = Buffer.from('c=biws,r=abc,p=xyz');
    expect(decodeSaslResponse(bodyOf(encodeSaslResponse(data), FrontendType.SaslResponse)).equals(data)).toBe(true);
  });
});

describe('bodiless and COPY messages', () => {
  it('have the literal bytes of the docs', () => {
    expect(encodeSync().toString('hex')).toBe('5300000004');
    expect(encodeFlush().toString('hex')).toBe('4800000004');
    expect(encodeTerminate().toString('hex')).toBe('5800000004');
    expect(encodeCopyDone().toString('hex')).toBe('6300000004');
    expect(encodeCopyData(Buffer.from('1\tx\n')).toString('hex')).toBe('64000000083109780a');
    expect(encodeMessage(0x64, Buffer.from('1\tx\n')).equals(encodeCopyData(Buffer.from('1\tx\n')))).toBe(true);
  });

  it('CopyFail round-trips', () => {
    expect(decodeCopyFail(bodyOf(encodeCopyFail('aborted by client'), FrontendType.CopyFail))).toBe('aborted by client');
    expectStrict(decodeCopyFail, bodyOf(encodeCopyFail('x'), FrontendType.CopyFail));
  });
});
