import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { encodeCancelRequest } from './codec/index.ts';
import type { UpstreamTarget } from './upstream.ts';

interface Registered {
  processId: number;
  secretKey: Buffer;
  target: UpstreamTarget;
  upstream: { processId: number; secretKey: Buffer };
}

/**
 * The gateway gives each client its own BackendKeyData (the upstream's would let a client cancel
 * queries of sessions it does not own, on a server it cannot reach) and maps it to the upstream
 * backend, so psql's Ctrl-C cancels the right query.
 */
export class CancelKeys {
  private readonly byKey = new Map<string, Registered>();

  register(target: UpstreamTarget, upstream: { processId: number; secretKey: Buffer }): Registered {
    let registered: Registered;
    do {
      registered = { processId: randomBytes(4).readUInt32BE() >>> 1, secretKey: randomBytes(4), target, upstream };
    } while (this.byKey.has(keyOf(registered.processId, registered.secretKey)));
    this.byKey.set(keyOf(registered.processId, registered.secretKey), registered);
    return registered;
  }

  unregister(registered: Registered): void {
    this.byKey.delete(keyOf(registered.processId, registered.secretKey));
  }

  /** Sends the upstream CancelRequest for a known key; an unknown key is ignored, as PostgreSQL does. */
  async forward(processId: number, secretKey: Buffer, timeoutMs: number): Promise<boolean> {
    const registered = this.byKey.get(keyOf(processId, secretKey));
    if (!registered) return false;
    const { target, upstream } = registered;
    await new Promise<void>((resolve) => {
      const socket = connect({ host: target.host, port: target.port }, () => socket.end(encodeCancelRequest(upstream.processId, upstream.secretKey)));
      socket.setTimeout(timeoutMs, () => socket.destroy());
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
    });
    return true;
  }
}

function keyOf(processId: number, secretKey: Buffer): string {
  return `${processId}:${secretKey.toString('hex')}`;
}
