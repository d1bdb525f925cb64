/**
 * Step 2 of the push path (DESIGN.md "Write (push)"): the PACK after the command list goes to a file
 * under `dataDir/spool`, never into memory, so index-pack can read it and it can be forwarded as is.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PortcullisError } from '../../errors.ts';

export interface SpooledPack {
  /** The file holding the PACK exactly as the agent sent it. */
  path: string;
  /** 0 for pushes that only delete refs (git sends no PACK then). */
  bytes: number;
  /** Deletes the file; safe to call more than once. */
  remove(): Promise<void>;
}

export interface SpoolOptions {
  dataDir: string;
  maxBytes: number;
}

export async function spoolPack(source: AsyncIterable<Uint8Array>, options: SpoolOptions): Promise<SpooledPack> {
  const dir = join(options.dataDir, 'spool');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${randomUUID()}.pack`);
  const remove = () => rm(path, { force: true });

  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      bytes += chunk.length;
      if (bytes > options.maxBytes) {
        callback(tooLarge(options.maxBytes));
        return;
      }
      callback(null, chunk);
    },
  });
  try {
    // pipeline stops pulling from the source as soon as the limit is hit, and propagates a client
    // abort (the source throwing) so the half-written file is removed below.
    await pipeline(source, counter, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
  } catch (error) {
    await remove();
    throw error;
  }
  return { path, bytes, remove };
}

function tooLarge(maxBytes: number): PortcullisError {
  return new PortcullisError('PUSH_TOO_LARGE', `push of more than ${formatSize(maxBytes)} refused: the gateway's limit was reached`, {
    hint: 'push fewer or smaller commits at a time, or ask a portcullis admin to raise limits.maxPushBytes',
  });
}

function formatSize(bytes: number): string {
  const mib = 1024 * 1024;
  if (bytes >= mib) return `${Number((bytes / mib).toFixed(1))} MiB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KiB`;
  return `${bytes} bytes`;
}
