/**
 * Builds messages in the layout of https://www.postgresql.org/docs/current/protocol-overview.html#PROTOCOL-MESSAGE-CONCEPTS:
 * a type byte (absent in startup packets), an Int32 length counting itself but not the type, the fields.
 *
 * Chainable like postgres.js' bytes.js, so an encoder reads like its spec table; `end()` back-patches
 * the length. One allocation for messages within the size hint.
 */

export class MessageWriter {
  private buffer: Buffer;
  private length: number;
  private readonly lengthOffset: number;

  /** `type` null writes an untyped startup packet. */
  constructor(type: number | null, sizeHint = 64) {
    this.buffer = Buffer.allocUnsafe(Math.max(sizeHint, 8));
    if (type === null) {
      this.lengthOffset = 0;
      this.length = 4;
    } else {
      this.buffer[0] = type;
      this.lengthOffset = 1;
      this.length = 5;
    }
  }

  int8(value: number): this {
    this.ensure(1);
    this.buffer.writeUInt8(value, this.length);
    this.length += 1;
    return this;
  }

  int16(value: number): this {
    this.ensure(2);
    this.buffer.writeInt16BE(value, this.length);
    this.length += 2;
    return this;
  }

  uint16(value: number): this {
    this.ensure(2);
    this.buffer.writeUInt16BE(value, this.length);
    this.length += 2;
    return this;
  }

  int32(value: number): this {
    this.ensure(4);
    this.buffer.writeInt32BE(value, this.length);
    this.length += 4;
    return this;
  }

  uint32(value: number): this {
    this.ensure(4);
    this.buffer.writeUInt32BE(value, this.length);
    this.length += 4;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.ensure(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
    return this;
  }

  /** A String field: UTF-8 and a NUL terminator. An embedded NUL would end the field early, so it is refused. */
  cstring(value: string): this {
    if (value.includes('\0')) throw new RangeError(`a PostgreSQL String field cannot contain NUL: ${JSON.stringify(value.slice(0, 40))}`);
    const size = Buffer.byteLength(value, 'utf8');
    this.ensure(size + 1);
    this.buffer.write(value, this.length, size, 'utf8');
    this.buffer[this.length + size] = 0;
    this.length += size + 1;
    return this;
  }

  /** The finished message; the writer must not be used afterwards. */
  end(): Buffer {
    this.buffer.writeInt32BE(this.length - this.lengthOffset, this.lengthOffset);
    // Do not pin a mostly empty block (messages can be queued on a slow socket).
    if (this.buffer.length > 4096 && this.buffer.length > 2 * this.length) return Buffer.from(this.buffer.subarray(0, this.length));
    return this.buffer.subarray(0, this.length);
  }

  private ensure(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}
