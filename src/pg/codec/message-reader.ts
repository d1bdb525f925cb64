/**
 * Reads the field types of https://www.postgresql.org/docs/current/protocol-message-types.html
 * (Int8/16/32, String = NUL-terminated, Byte n) from a message body, bounds-checked.
 *
 * Every overrun is a MalformedMessageError naming the message and field, never a RangeError from
 * Buffer or a silently short value. Byte fields are zero-copy subarrays of the body.
 */
import { MalformedMessageError } from './errors.ts';

// Query text is decoded strictly: a lossy decode could make the classifier read different SQL than
// the server executes. Other strings (names, server texts) use Buffer's lenient decoder.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class MessageReader {
  private offset = 0;

  constructor(
    private readonly body: Buffer,
    /** Named in errors: 'Bind', 'RowDescription'… */
    private readonly message: string,
  ) {}

  get remaining(): number {
    return this.body.length - this.offset;
  }

  int8(field: string): number {
    this.need(1, field);
    return this.body[this.offset++] as number;
  }

  int16(field: string): number {
    this.need(2, field);
    const value = this.body.readInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  /** Counts (parameters, formats, columns) are unsigned: the server accepts up to 65535 Bind parameters. */
  uint16(field: string): number {
    this.need(2, field);
    const value = this.body.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  int32(field: string): number {
    this.need(4, field);
    const value = this.body.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  /** OIDs are unsigned 32-bit on the wire. */
  uint32(field: string): number {
    this.need(4, field);
    const value = this.body.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  bytes(length: number, field: string): Buffer {
    if (length < 0) throw this.malformed(`${field} has negative length ${length}`);
    this.need(length, field);
    const value = this.body.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /** The rest of the body (e.g. SASL data, a 3.2 secret key). */
  rest(): Buffer {
    const value = this.body.subarray(this.offset);
    this.offset = this.body.length;
    return value;
  }

  cstringBytes(field: string): Buffer {
    const end = this.body.indexOf(0, this.offset);
    if (end < 0) throw this.malformed(`${field} is not NUL-terminated`);
    const value = this.body.subarray(this.offset, end);
    this.offset = end + 1;
    return value;
  }

  cstring(field: string): string {
    return this.cstringBytes(field).toString('utf8');
  }

  /** A String field that must be valid UTF-8 (SQL text the gateway judges). */
  cstringStrict(field: string): string {
    const bytes = this.cstringBytes(field);
    try {
      return strictUtf8.decode(bytes);
    } catch {
      throw this.malformed(`${field} is not valid UTF-8 (the gateway requires client_encoding UTF8)`);
    }
  }

  /** Like the server's pq_getmsgend: a message with bytes after its last field is invalid. */
  end(): void {
    if (this.offset !== this.body.length) throw this.malformed(`${this.body.length - this.offset} unexpected trailing bytes`);
  }

  malformed(problem: string): MalformedMessageError {
    return new MalformedMessageError(`invalid ${this.message} message: ${problem}`);
  }

  private need(length: number, field: string): void {
    if (this.offset + length > this.body.length) {
      throw this.malformed(`${field} needs ${length} bytes but only ${this.body.length - this.offset} remain`);
    }
  }
}
