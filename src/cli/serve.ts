import { chmod, mkdir, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Command } from 'commander';
import { PortcullisError } from '../errors.ts';
import { buildGateway, controlSocketPath, type Gateway } from './gateway.ts';
import type { ConfigLoader } from './program.ts';

export function registerServeCommand(program: Command, loadConfig: ConfigLoader): void {
  program
    .command('serve')
    .description('run the gateway (git smart-HTTP proxy, PostgreSQL proxy, REST API)')
    .option('--port <port>', 'HTTP port (overrides listen.http; 0 picks a free one)')
    .option('--pg-port <port>', 'PostgreSQL proxy port (overrides listen.pg; 0 picks a free one)')
    .action(async (options: { port?: string; pgPort?: string }) => {
      const { config, source } = await loadConfig.withSource();
      if (options.port !== undefined) config.listen.http = Number.parseInt(options.port, 10);
      if (options.pgPort !== undefined) config.listen.pg = Number.parseInt(options.pgPort, 10);
      const say = (line: string) => process.stderr.write(`${line}\n`);
      if (!source) {
        say('portcullis: no portcullis.yml found (nor --config / PORTCULLIS_CONFIG): running on built-in defaults');
      }
      await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
      const gateway = await buildGateway(config);
      await gateway.warmUp();
      const server = await listen(gateway, config.listen.host, config.listen.http);
      const pgAddress = gateway.pg ? await listenPg(gateway.pg, config.listen.host, config.listen.pg) : null;
      const socketPath = controlSocketPath(config);
      const control = await listenControlSocket(gateway, socketPath);
      const { port } = server.address() as AddressInfo;
      say(`portcullis listening on http://${config.listen.host}:${port}`);
      say(`  store    ${gateway.deps.store.description}`);
      for (const remote of config.remotes) {
        const auth = gateway.deps.github && remote.name === 'github' ? 'GitHub App installation tokens' : remote.auth ? ('basic' in remote.auth ? 'basic auth' : 'bearer token') : 'anonymous';
        say(`  remote   ${remote.name} = ${remote.url} (${auth})`);
      }
      if (pgAddress) {
        const tls = config.listen.pgTls ? 'TLS available' : 'no TLS (set listen.pgTls)';
        say(`  postgres listening on ${config.listen.host}:${pgAddress.port} for databases ${config.databases.map((d) => d.name).join(', ')} (${tls})`);
      } else {
        say('  postgres no databases configured (portcullis.yml `databases:`), PostgreSQL proxy off');
      }
      say(`  policy   ${gateway.deps.policySource ?? `${config.policy} not found: built-in default policy`}`);
      say(`  clone    git clone http://${config.listen.host}:${port}/git/${config.remotes[0]!.name}/<owner>/<repo>.git`);
      say(`  agents   npx portcullis agent add NAME --read '${config.remotes[0]!.name}/<owner>/*'`);

      // Holds past their time expire even when nobody looks at them.
      const expiry = setInterval(() => {
        gateway.deps.holds.expireDue().catch((error: unknown) => gateway.deps.log.error({ err: error }, 'expiring holds failed'));
      }, 60_000);
      expiry.unref();

      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        say(`portcullis: ${signal} received, finishing open requests`);
        server.closeIdleConnections();
        await Promise.all([closeServer(server), closeServer(control)]);
        await rm(socketPath, { force: true });
        await gateway.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });
}

async function listenPg(pg: NonNullable<Gateway['pg']>, host: string, port: number): Promise<AddressInfo> {
  try {
    return await pg.listen(port, host);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PortcullisError('CONFIG_INVALID', `port ${port} on ${host} is already in use`, { hint: 'stop the other process, or set listen.pg in portcullis.yml (or --pg-port)' });
    }
    throw error;
  }
}

function listen(gateway: Gateway, host: string, port: number): Promise<Server> {
  const server = createAdaptorServer({ fetch: gateway.app.fetch }) as Server;
  // Long clones and pushes stream for minutes; only idle sockets are timed out.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new PortcullisError('CONFIG_INVALID', `port ${port} on ${host} is already in use`, {
              hint: 'stop the other process, or set listen.http in portcullis.yml (or --port)',
            })
          : error,
      ),
    );
    server.listen(port, host, () => resolve(server));
  });
}

/** Whoever can connect to the socket is an admin: only the gateway's own user may. */
async function listenControlSocket(gateway: Gateway, socketPath: string): Promise<Server> {
  await rm(socketPath, { force: true });
  const previousUmask = process.umask(0o177);
  const server = createAdaptorServer({
    fetch: (request, env) => gateway.app.fetch(request, { ...env, controlSocket: true }),
  }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  }).finally(() => process.umask(previousUmask));
  await chmod(socketPath, 0o600);
  return server;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
