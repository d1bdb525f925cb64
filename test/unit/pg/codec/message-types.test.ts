import { describe, expect, it } from 'vitest';
import { BackendType, FrontendType, SQLSTATE, backendMessageName, frontendMessageName } from '../../../../src/pg/codec/index.ts';

const letter = (code: number): string => String.fromCharCode(code);

describe('message types', () => {
  it('are the letters of the protocol docs', () => {
    expect(Object.fromEntries(Object.entries(FrontendType).map(([name, code]) => [name, letter(code)]))).toEqual({
      Bind: 'B',
      Close: 'C',
      CopyData: 'd',
      CopyDone: 'c',
      CopyFail: 'f',
      Describe: 'D',
      Execute: 'E',
      Flush: 'H',
      FunctionCall: 'F',
      Parse: 'P',
      PasswordMessage: 'p',
      SaslInitialResponse: 'p',
      SaslResponse: 'p',
      GssResponse: 'p',
      Query: 'Q',
      Sync: 'S',
      Terminate: 'X',
    });
    expect(Object.fromEntries(Object.entries(BackendType).map(([name, code]) => [name, letter(code)]))).toEqual({
      Authentication: 'R',
      BackendKeyData: 'K',
      BindComplete: '2',
      CloseComplete: '3',
      CommandComplete: 'C',
      CopyData: 'd',
      CopyDone: 'c',
      CopyInResponse: 'G',
      CopyOutResponse: 'H',
      CopyBothResponse: 'W',
      DataRow: 'D',
      EmptyQueryResponse: 'I',
      ErrorResponse: 'E',
      FunctionCallResponse: 'V',
      NegotiateProtocolVersion: 'v',
      NoData: 'n',
      NoticeResponse: 'N',
      NotificationResponse: 'A',
      ParameterDescription: 't',
      ParameterStatus: 'S',
      ParseComplete: '1',
      PortalSuspended: 's',
      ReadyForQuery: 'Z',
      RowDescription: 'T',
    });
  });

  it('name tags for logs, per direction', () => {
    expect(frontendMessageName(0x43)).toBe('Close');
    expect(backendMessageName(0x43)).toBe('CommandComplete');
    expect(frontendMessageName(0x70)).toBe('PasswordMessage/SASLResponse');
    expect(backendMessageName(0x7a)).toBe("unknown message 0x7a 'z'");
    expect(frontendMessageName(0x00)).toBe('unknown message 0x00');
  });

  it('SQLSTATEs are five characters', () => {
    for (const code of Object.values(SQLSTATE)) expect(code).toMatch(/^[0-9A-Z]{5}$/);
    expect(SQLSTATE.invalid_password).toBe('28P01');
    expect(SQLSTATE.insufficient_privilege).toBe('42501');
  });
});
