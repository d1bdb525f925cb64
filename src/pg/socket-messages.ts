import type { Socket } from 'node:net';
import { MessageFramer, type PgMessage } from './codec/framer.ts';
import { PgRefusal } from './refusal.ts';

/**
 * Request/response reading for the handshakes (client authentication, upstream login), where the
 * code waits for one message at a time. Once a handshake is done, `detach()` hands whatever already
 * arrived to the relay, which takes over the socket with its own listeners.
 */
export class SocketMessages {
  private readonly framer: MessageFramer;
  private readonly queue: PgMessage[] = [];
  private waiter: { resolve(message: PgMessage): void; reject(error: Error): void } | null = null;
  private failure: Error | null = null;
  private readonly onData = (chunk: Buffer) => {
    try {
      for (const message of this.framer.push(chunk)) this.queue.push(message);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    this.deliver();
  };
  private readonly onEnd = () => this.fail(new PgRefusal('08006', `${this.peer} closed the connection`));
  private readonly onError = (error: Error) => this.fail(new PgRefusal('08006', `${this.peer} connection failed: ${error.message}`));

  constructor(
    private readonly socket: Socket,
    maxMessageBytes: number,
    /** Names the other side in errors: "the client", "upstream database app". */
    private readonly peer: string,
    leftover?: Buffer,
  ) {
    this.framer = new MessageFramer(maxMessageBytes);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
    if (leftover && leftover.length > 0) this.onData(leftover);
    socket.resume();
  }

  /** The next message, or a rejection when the peer closes, errs, sends garbage or is silent past `timeoutMs`. */
  next(timeoutMs: number): Promise<PgMessage> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new PgRefusal('08006', `${this.peer} sent nothing for ${Math.round(timeoutMs / 1000)} s during the handshake`));
      }, timeoutMs);
      this.waiter = {
        resolve: (message) => (clearTimeout(timer), resolve(message)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
    });
  }

  /** Stops listening; returns messages already framed and the framer, which keeps any partial message. */
  detach(): { pending: PgMessage[]; framer: MessageFramer } {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
    return { pending: this.queue.splice(0), framer: this.framer };
  }

  private deliver(): void {
    const waiter = this.waiter;
    if (!waiter) return;
    const message = this.queue.shift();
    if (!message) return;
    this.waiter = null;
    waiter.resolve(message);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(this.failure);
  }
}
