/**
 * Message tags and codes of https://www.postgresql.org/docs/current/protocol-message-formats.html,
 * error fields of https://www.postgresql.org/docs/current/protocol-error-fields.html and the
 * SQLSTATEs of https://www.postgresql.org/docs/current/errcodes-appendix.html the gateway sends.
 *
 * Tags are the ASCII byte; the same letter means different messages in each direction ('C' is
 * Close from the client and CommandComplete from the server), hence two tables.
 */

/** Messages the client (frontend) sends after the startup packet. */
export const FrontendType = {
  Bind: 0x42, // 'B'
  Close: 0x43, // 'C'
  CopyData: 0x64, // 'd'
  CopyDone: 0x63, // 'c'
  CopyFail: 0x66, // 'f'
  Describe: 0x44, // 'D'
  Execute: 0x45, // 'E'
  Flush: 0x48, // 'H'
  FunctionCall: 0x46, // 'F'
  Parse: 0x50, // 'P'
  /** PasswordMessage, SASLInitialResponse, SASLResponse and GSSResponse share 'p'; the auth state says which. */
  PasswordMessage: 0x70, // 'p'
  SaslInitialResponse: 0x70, // 'p'
  SaslResponse: 0x70, // 'p'
  GssResponse: 0x70, // 'p'
  Query: 0x51, // 'Q'
  Sync: 0x53, // 'S'
  Terminate: 0x58, // 'X'
} as const;
export type FrontendType = (typeof FrontendType)[keyof typeof FrontendType];

/** Messages the server (backend) sends. */
export const BackendType = {
  Authentication: 0x52, // 'R'
  BackendKeyData: 0x4b, // 'K'
  BindComplete: 0x32, // '2'
  CloseComplete: 0x33, // '3'
  CommandComplete: 0x43, // 'C'
  CopyData: 0x64, // 'd'
  CopyDone: 0x63, // 'c'
  CopyInResponse: 0x47, // 'G'
  CopyOutResponse: 0x48, // 'H'
  CopyBothResponse: 0x57, // 'W'
  DataRow: 0x44, // 'D'
  EmptyQueryResponse: 0x49, // 'I'
  ErrorResponse: 0x45, // 'E'
  FunctionCallResponse: 0x56, // 'V'
  NegotiateProtocolVersion: 0x76, // 'v'
  NoData: 0x6e, // 'n'
  NoticeResponse: 0x4e, // 'N'
  NotificationResponse: 0x41, // 'A'
  ParameterDescription: 0x74, // 't'
  ParameterStatus: 0x53, // 'S'
  ParseComplete: 0x31, // '1'
  PortalSuspended: 0x73, // 's'
  ReadyForQuery: 0x5a, // 'Z'
  RowDescription: 0x54, // 'T'
} as const;
export type BackendType = (typeof BackendType)[keyof typeof BackendType];

/** The Int32 after 'R' that says which Authentication message it is. */
export const AuthenticationCode = {
  Ok: 0,
  KerberosV5: 2,
  CleartextPassword: 3,
  Md5Password: 5,
  Gss: 7,
  GssContinue: 8,
  Sspi: 9,
  Sasl: 10,
  SaslContinue: 11,
  SaslFinal: 12,
} as const;

/** The Int32 after an untyped startup packet's length. Versions are major << 16 | minor. */
export const StartupCode = {
  Protocol30: 196608, // 3.0
  CancelRequest: 80877102, // 1234 << 16 | 5678
  SslRequest: 80877103, // 1234 << 16 | 5679
  GssEncRequest: 80877104, // 1234 << 16 | 5680
} as const;

/** Field codes of ErrorResponse / NoticeResponse. */
export const NoticeField = {
  Severity: 'S',
  SeverityNonLocalized: 'V',
  Code: 'C',
  Message: 'M',
  Detail: 'D',
  Hint: 'H',
  Position: 'P',
  InternalPosition: 'p',
  InternalQuery: 'q',
  Where: 'W',
  Schema: 's',
  Table: 't',
  Column: 'c',
  DataType: 'd',
  Constraint: 'n',
  File: 'F',
  Line: 'L',
  Routine: 'R',
} as const;

/** SQLSTATEs the gateway answers with (names as in the errcodes appendix). */
export const SQLSTATE = {
  successful_completion: '00000',
  invalid_password: '28P01',
  invalid_authorization_specification: '28000',
  insufficient_privilege: '42501',
  invalid_catalog_name: '3D000',
  protocol_violation: '08P01',
  connection_failure: '08006',
  sqlclient_unable_to_establish_sqlconnection: '08001',
  query_canceled: '57014',
  admin_shutdown: '57P01',
  too_many_connections: '53300',
  feature_not_supported: '0A000',
  program_limit_exceeded: '54000',
  internal_error: 'XX000',
  read_only_sql_transaction: '25006',
  syntax_error: '42601',
  in_failed_sql_transaction: '25P02',
} as const;
export type Sqlstate = (typeof SQLSTATE)[keyof typeof SQLSTATE];

const frontendNames = nameTable(FrontendType, { 0x70: 'PasswordMessage/SASLResponse' });
const backendNames = nameTable(BackendType, {});

/** 'Query', 'Parse'… for logs and errors; unknown tags as `0x..`. */
export function frontendMessageName(type: number): string {
  return frontendNames.get(type) ?? unknownName(type);
}

/** 'DataRow', 'ErrorResponse'… for logs and errors; unknown tags as `0x..`. */
export function backendMessageName(type: number): string {
  return backendNames.get(type) ?? unknownName(type);
}

function nameTable(types: Record<string, number>, overrides: Record<number, string>): Map<number, string> {
  const names = new Map<number, string>();
  for (const [name, type] of Object.entries(types)) if (!names.has(type)) names.set(type, name);
  for (const [type, name] of Object.entries(overrides)) names.set(Number(type), name);
  return names;
}

function unknownName(type: number): string {
  const printable = type >= 0x20 && type < 0x7f ? ` '${String.fromCharCode(type)}'` : '';
  return `unknown message 0x${type.toString(16).padStart(2, '0')}${printable}`;
}
