import type { Socket } from 'node:net';
import type { MessageFramer, PgMessage } from './codec/index.ts';

export type MessageHandler = (message: PgMessage) => void | Promise<void>;

/**
 * Feeds a socket's messages to a handler strictly in order. The handler is synchronous on the hot
 * path; when it returns a promise (a catalog lookup, an approval wait) the socket is paused and the
 * remaining messages wait, so nothing is reordered and nothing piles up in memory. Output
 * backpressure pauses it too: `block(sink)` until the sink drains.
 */
export class SerialReader {
  private busy = false;
  private readonly backlog: PgMessage[][] = [];
  private blockedBy: Socket | null = null;
  private stopped = false;
  private readonly onData = (chunk: Buffer) => {
    let messages: PgMessage[];
    try {
      messages = this.framer.push(chunk);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (messages.length > 0) this.accept(messages);
  };
  private readonly onEnd = () => {
    if (!this.stopped) this.events.onEnd();
  };
  private readonly onSocketError = (error: Error) => this.fail(error);

  constructor(
    private readonly socket: Socket,
    private readonly framer: MessageFramer,
    private readonly handle: MessageHandler,
    /** `onBatch` runs after each batch of messages is handled (and before waiting): the time to write what they produced. */
    private readonly events: { onBatch(): void; onEnd(): void; onError(error: unknown): void },
  ) {}

  start(pending: PgMessage[]): void {
    this.socket.on('data', this.onData);
    this.socket.on('end', this.onEnd);
    this.socket.on('close', this.onEnd);
    this.socket.on('error', this.onSocketError);
    if (pending.length > 0) this.accept(pending);
    this.socket.resume();
  }

  stop(): void {
    this.stopped = true;
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onSocketError);
  }

  /** Pauses reading until `sink` drains (the other side is slower than this one). */
  block(sink: Socket): void {
    if (this.blockedBy) return;
    this.blockedBy = sink;
    this.socket.pause();
    sink.once('drain', () => {
      this.blockedBy = null;
      if (!this.busy && !this.stopped) this.socket.resume();
    });
  }

  private accept(messages: PgMessage[]): void {
    if (this.busy) {
      this.backlog.push(messages);
      return;
    }
    this.run(messages, 0);
  }

  private run(messages: PgMessage[], from: number): void {
    try {
      for (let index = from; index < messages.length; index++) {
        if (this.stopped) return;
        const pending = this.handle(messages[index]!);
        if (pending) {
          this.busy = true;
          this.socket.pause();
          pending.then(
            () => {
              this.busy = false;
              this.run(messages, index + 1);
            },
            (error: unknown) => this.fail(error),
          );
          return;
        }
      }
    } catch (error) {
      this.fail(error);
      return;
    } finally {
      this.events.onBatch();
    }
    const next = this.backlog.shift();
    if (next) return this.run(next, 0);
    if (!this.blockedBy && !this.stopped) this.socket.resume();
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    this.events.onError(error);
  }
}
