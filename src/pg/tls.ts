import { readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContext } from 'node:tls';
import { PortcullisError } from '../errors.ts';

/** The PostgreSQL listener's certificate and key (listen.pgTls), read once at start. */
export async function pgTlsContext(files: { cert: string; key: string }): Promise<SecureContext> {
  try {
    return createSecureContext({ cert: await readFile(files.cert), key: await readFile(files.key), minVersion: 'TLSv1.2' });
  } catch (error) {
    throw new PortcullisError('CONFIG_INVALID', `listen.pgTls: cannot load the certificate ${files.cert} and key ${files.key}: ${(error as Error).message}`, {
      hint: 'give PEM files readable by the gateway, paths relative to portcullis.yml',
      cause: error,
    });
  }
}
