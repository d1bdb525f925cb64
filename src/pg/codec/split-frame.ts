/**
 * Reassembles one length-prefixed frame that arrived split across socket chunks (both framers use it).
 * https://www.postgresql.org/docs/current/protocol-overview.html#PROTOCOL-MESSAGE-CONCEPTS
 *
 * Copies each byte once. Up to EAGER_LIMIT the exact-size frame is allocated as soon as the length is
 * known and filled as chunks arrive (no chunk is retained); larger frames keep references to their
 * pieces and are concatenated at the end, so a peer announcing a huge length and then trickling bytes
 * costs memory only for what it actually sent.
 */

const EAGER_LIMIT = 64 * 1024;

export class SplitFrame {
  private readonly header: Buffer;
  private headerFilled = 0;
  private frameLength = -1;
  private target: Buffer | null = null;
  private pieces: Buffer[] = [];
  private filled = 0;

  constructor(
    /** Bytes needed to know the frame length: 5 for typed messages, 4 for startup packets. */
    private readonly headerSize: number,
    /** Validates the header (throwing typed errors) and returns the whole frame's length. */
    private readonly frameLengthOf: (header: Buffer, offset: number) => number,
  ) {
    this.header = Buffer.alloc(headerSize);
  }

  /** Bytes held for the incomplete frame. */
  get buffered(): number {
    return this.frameLength < 0 ? this.headerFilled : this.filled;
  }

  get active(): boolean {
    return this.headerFilled > 0 || this.frameLength >= 0;
  }

  /**
   * Takes bytes from `chunk` starting at `offset` (the start of a frame when not active). Returns the
   * offset after what it consumed and, once complete, the frame.
   */
  take(chunk: Buffer, offset: number): { frame: Buffer | null; offset: number } {
    if (this.frameLength < 0) {
      const wanted = Math.min(this.headerSize - this.headerFilled, chunk.length - offset);
      chunk.copy(this.header, this.headerFilled, offset, offset + wanted);
      this.headerFilled += wanted;
      offset += wanted;
      if (this.headerFilled < this.headerSize) return { frame: null, offset };
      this.begin(this.frameLengthOf(this.header, 0));
      this.append(this.header);
    }
    const wanted = Math.min(this.frameLength - this.filled, chunk.length - offset);
    this.append(chunk.subarray(offset, offset + wanted));
    offset += wanted;
    if (this.filled < this.frameLength) return { frame: null, offset };
    const frame = this.target ?? Buffer.concat(this.pieces, this.frameLength);
    this.clear();
    return { frame, offset };
  }

  clear(): void {
    this.headerFilled = 0;
    this.frameLength = -1;
    this.target = null;
    this.pieces = [];
    this.filled = 0;
  }

  private begin(frameLength: number): void {
    this.frameLength = frameLength;
    if (frameLength <= EAGER_LIMIT) this.target = Buffer.allocUnsafe(frameLength);
  }

  private append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.target) bytes.copy(this.target, this.filled);
    // The header buffer is reused, so it is copied; chunk pieces are referenced until the concat.
    else this.pieces.push(bytes === this.header ? Buffer.from(bytes) : bytes);
    this.filled += bytes.length;
  }
}
