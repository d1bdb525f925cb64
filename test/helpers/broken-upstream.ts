/**
 * Upstreams that misbehave at the TCP level, for failure tests: one that accepts connections and
 * never says a word, and a port where nothing listens.
 */
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface SilentUpstream {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections the other side has closed (or reset) so far. */
  readonly closed: number;
  /** Resolves once at least `count` connections were accepted; rejects after `timeoutMs`. */
  waitForConnections(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once at least `count` connections were closed by the client; rejects after `timeoutMs`. */
  waitForClosed(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** A server that accepts every connection, reads and discards what arrives, and never answers. */
export async function startSilentUpstream(): Promise<SilentUpstream> {
  const sockets = new Set<Socket>();
  let connections = 0;
  let closed = 0;
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((check) => check());

  const server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      sockets.delete(socket);
      closed += 1;
      notify();
    });
    notify();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const waitFor = (what: string, reached: () => boolean, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!reached()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`silent upstream: ${what} did not happen within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  return {
    url: `http://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    get closed() {
      return closed;
    },
    waitForConnections: (count, timeoutMs = 10_000) => waitFor(`${count} connection(s)`, () => connections >= count, timeoutMs),
    waitForClosed: (count, timeoutMs = 10_000) => waitFor(`${count} closed connection(s)`, () => closed >= count, timeoutMs),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port that was free a moment ago and has nothing listening on it now. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
