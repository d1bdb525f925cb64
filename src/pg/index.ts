export { createPgProxy, type PgProxy, type PgProxyDeps, type SessionContext, type SessionServices } from './proxy.ts';
export { createSessionServiceFactory, type SessionServiceFactory } from './session-services.ts';
export { loadSqlParser } from './sql/parser.ts';
export { pgTlsContext } from './tls.ts';
