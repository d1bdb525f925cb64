export { loadConfig, parseConfig, resolveSecret, DEFAULT_CONFIG_FILE, type LoadedConfig, type LoadConfigOptions } from './load.ts';
export type { Config, DatabaseConfig, RemoteConfig, RemoteAuth, OidcProviderSettings } from './schema.ts';
export { describeIssues } from './issues.ts';
