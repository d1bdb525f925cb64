/**
 * Errors of the PostgreSQL wire codec: https://www.postgresql.org/docs/current/protocol-overview.html#PROTOCOL-MESSAGE-CONCEPTS
 *
 * Both mean the peer does not speak the protocol (or is hostile); the connection cannot be resynced,
 * so the proxy answers with a FATAL 08P01 protocol_violation (or 54000 for the size limit) and closes.
 */

/** A message whose declared length exceeds the configured limit; nothing of it has been buffered. */
export class MessageTooLargeError extends Error {
  static readonly code = 'PG_MESSAGE_TOO_LARGE';
  override readonly name = 'MessageTooLargeError';

  constructor(
    readonly length: number,
    readonly limit: number,
  ) {
    super(`PostgreSQL message of ${length} bytes exceeds the ${limit}-byte limit; send smaller statements or raise the gateway's message size limit`);
  }
}

/** Bytes that are not a valid message: a length below 4, a field running past the end, trailing garbage, a bad enum value. */
export class MalformedMessageError extends Error {
  static readonly code = 'PG_MESSAGE_MALFORMED';
  override readonly name = 'MalformedMessageError';
}
