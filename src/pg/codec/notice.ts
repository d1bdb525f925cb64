/**
 * ErrorResponse 'E' and NoticeResponse 'N': https://www.postgresql.org/docs/current/protocol-message-formats.html
 * with the fields of https://www.postgresql.org/docs/current/protocol-error-fields.html
 *
 * A body is a list of (Byte1 field code, String value) ended by a zero byte. Decoding keeps every
 * field, including codes this gateway does not know, so a masked notice re-encodes with nothing lost.
 */
import { BackendType, NoticeField } from './message-types.ts';
import { MessageReader } from './message-reader.ts';
import { MessageWriter } from './message-writer.ts';

/**
 * What the gateway says in an error or notice. `severity` goes out both as S and as the
 * non-localised V, so it must be one of ERROR, FATAL, PANIC, WARNING, NOTICE, DEBUG, INFO, LOG.
 * Extra keys are one-letter field codes ('P', 'W'…) or the long names of NOTICE_FIELD_BY_NAME.
 */
export interface NoticeFields {
  severity: string;
  code: string;
  message: string;
  detail?: string;
  hint?: string;
  [key: string]: string | undefined;
}

/** Long names accepted in NoticeFields for the remaining field codes (postgres.js' errorFields, inverted). */
export const NOTICE_FIELD_BY_NAME: Readonly<Record<string, string>> = {
  position: NoticeField.Position,
  internalPosition: NoticeField.InternalPosition,
  internalQuery: NoticeField.InternalQuery,
  where: NoticeField.Where,
  schema: NoticeField.Schema,
  table: NoticeField.Table,
  column: NoticeField.Column,
  dataType: NoticeField.DataType,
  constraint: NoticeField.Constraint,
  file: NoticeField.File,
  line: NoticeField.Line,
  routine: NoticeField.Routine,
};

const LEADING_KEYS = new Set(['severity', 'code', 'message', 'detail', 'hint']);

export function encodeErrorResponse(fields: NoticeFields): Buffer {
  return encodeNoticeFieldsFrom(BackendType.ErrorResponse, noticeFieldMap(fields));
}

export function encodeNoticeResponse(fields: NoticeFields): Buffer {
  return encodeNoticeFieldsFrom(BackendType.NoticeResponse, noticeFieldMap(fields));
}

/** The fields of an ErrorResponse or NoticeResponse body, keyed by their one-letter codes, in wire order. */
export function decodeNoticeFields(body: Buffer): Map<string, string> {
  const reader = new MessageReader(body, 'ErrorResponse/NoticeResponse');
  const fields = new Map<string, string>();
  for (;;) {
    const code = reader.int8('field code');
    if (code === 0) break;
    fields.set(String.fromCharCode(code), reader.cstring(`field ${String.fromCharCode(code)}`));
  }
  reader.end();
  return fields;
}

/** Re-encodes decoded (e.g. masked) fields as an ErrorResponse ('E') or NoticeResponse ('N'). */
export function encodeNoticeFieldsFrom(type: number, fields: Map<string, string>): Buffer {
  if (type !== BackendType.ErrorResponse && type !== BackendType.NoticeResponse) {
    throw new RangeError(`notice fields go in ErrorResponse or NoticeResponse, not type 0x${type.toString(16)}`);
  }
  const writer = new MessageWriter(type, 128);
  for (const [code, value] of fields) {
    if (code.length !== 1 || code === '\0' || code.charCodeAt(0) > 0x7f) throw new RangeError(`a notice field code is one ASCII character, got ${JSON.stringify(code)}`);
    writer.int8(code.charCodeAt(0)).cstring(value);
  }
  return writer.int8(0).end();
}

/** S, V, C, M, D, H first (the order the server uses), then the extra fields in the caller's order. */
function noticeFieldMap(fields: NoticeFields): Map<string, string> {
  const map = new Map<string, string>([
    [NoticeField.Severity, fields.severity],
    [NoticeField.SeverityNonLocalized, fields.severity],
    [NoticeField.Code, fields.code],
    [NoticeField.Message, fields.message],
  ]);
  if (fields.detail !== undefined) map.set(NoticeField.Detail, fields.detail);
  if (fields.hint !== undefined) map.set(NoticeField.Hint, fields.hint);
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || LEADING_KEYS.has(key)) continue;
    const code = key.length === 1 ? key : NOTICE_FIELD_BY_NAME[key];
    if (code === undefined) throw new RangeError(`unknown notice field ${JSON.stringify(key)}: use a one-letter field code or one of ${Object.keys(NOTICE_FIELD_BY_NAME).join(', ')}`);
    if (!map.has(code)) map.set(code, value);
  }
  return map;
}
