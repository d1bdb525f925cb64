import { existsSync } from 'node:fs';
import http from 'node:http';
import { pino } from 'pino';
import type { Config } from '../config/index.ts';
import { PortcullisError, type ErrorCode } from '../errors.ts';
import { buildGateway, controlSocketPath } from './gateway.ts';

export interface ApiClient {
  call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T>;
}

/**
 * CLI commands speak the REST API, so there is one implementation of each operation. A running
 * gateway is reached through its control socket (the embedded store admits one process only);
 * otherwise the API runs in this process over the store.
 */
export async function withApi<T>(config: Config, use: (api: ApiClient) => Promise<T>): Promise<T> {
  const socket = controlSocketPath(config);
  if (existsSync(socket) && (await socketAnswers(socket))) {
    return use({ call: (method, path, body) => callOverSocket(socket, method, path, body) });
  }
  const gateway = await buildGateway(config, { log: pino({ level: 'silent' }) });
  try {
    return await use({
      async call(method, path, body) {
        const response = await gateway.app.request(
          `/api/v1${path}`,
          { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) },
          { controlSocket: true },
        );
        return unwrap(response.status, await response.text());
      },
    });
  } finally {
    await gateway.close();
  }
}

function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ socketPath, path: '/healthz', timeout: 2000 }, (response) => {
      response.resume();
      resolve(true);
    });
    request.on('error', () => resolve(false));
    request.on('timeout', () => request.destroy());
  });
}

function callOverSocket<T>(socketPath: string, method: string, path: string, body: unknown): Promise<T> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request({ socketPath, method, path: `/api/v1${path}`, headers: { 'content-type': 'application/json' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        try {
          resolve(unwrap(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
        } catch (error) {
          reject(error);
        }
      });
    });
    request.on('error', reject);
    request.end(payload);
  });
}

function unwrap<T>(status: number, text: string): T {
  const parsed = text ? (JSON.parse(text) as unknown) : {};
  if (status >= 200 && status < 300) return parsed as T;
  const error = (parsed as { error?: { code?: string; message?: string; hint?: string } }).error;
  throw new PortcullisError((error?.code ?? 'UPSTREAM_ERROR') as ErrorCode, error?.message ?? `the API answered HTTP ${status}`, {
    hint: error?.hint,
  });
}
