/**
 * Passwords in URLs (RFC 3986 §3.2.1 userinfo): `postgres://app:s3cret@db/app` is reported as
 * `database-url-password`, `https://user:pass@host` as `url-password`. The scheme is read by a
 * lookbehind from the `://` keyword, so the search never starts an unanchored scan.
 */
import { looksLikePlaceholder, looksLikeReference } from '../entropy.ts';
import { PRIORITY, type PatternRule } from './rule.ts';

const DATABASE_SCHEMES = new Set([
  'postgres', 'postgresql', 'postgis', 'timescaledb', 'cockroachdb', 'mysql', 'mysqlx', 'mariadb', 'mongodb', 'redis',
  'rediss', 'valkey', 'memcached', 'amqp', 'amqps', 'mssql', 'sqlserver', 'oracle', 'db2', 'clickhouse', 'cassandra',
  'couchdb', 'neo4j', 'bolt', 'nats', 'snowflake', 'influxdb', 'elasticsearch', 'opensearch', 'kafka', 'mqtt', 'mqtts',
]);

/** Passwords of tutorials, docker-compose defaults and local development: not credentials anyone can abuse. */
const DEFAULT_PASSWORDS = new Set([
  'password', 'passwd', 'pass', 'pwd', 'secret', 'changeme', 'root', 'admin', 'test', 'testing', 'user', 'username',
  'postgres', 'mysql', 'mongo', 'redis', 'guest', 'foo', 'bar', 'baz', 'default', 'dev', 'local', 'localhost', 'docker',
  'example', 'demo', 'sample', 'none', 'null', 'empty', 'token', 'apikey', 'api_key', 'x-oauth-basic', 'x-access-token',
  'oauth2', 'stdin', 'hunter2', 'letmein', 'qwerty', 'abc123', 'pa55word', 'p4ssw0rd', 'passw0rd', 'password1', 'password123',
]);

/** A userinfo password worth reporting: not a default, a reference (`${DB_PASS}`, `$(cat …)`) or a placeholder. */
export function isRealUrlPassword(password: string, user = ''): boolean {
  const decoded = safeDecode(password);
  if (decoded.length < 4) return false;
  if (DEFAULT_PASSWORDS.has(decoded.toLowerCase()) || decoded === user) return false;
  if (looksLikeReference(decoded) || looksLikePlaceholder(decoded)) return false;
  if (/^[*x.#_-]+$/i.test(decoded) || /^\d{1,5}$/.test(decoded)) return false; // masks; a port after `host:`
  return true;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const URL_USERINFO =
  /(?<=(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,30})):\/\/([^\s:@/?#"'`<>\\]{0,128}):([^\s@/?#"'`<>\\]{1,256})@(?=[A-Za-z0-9[_])/;

function schemeIsDatabase(scheme: string): boolean {
  const lower = scheme.toLowerCase();
  return DATABASE_SCHEMES.has(lower) || DATABASE_SCHEMES.has(lower.split('+')[0]!);
}

export const urlCredentialRules: PatternRule[] = [
  {
    id: 'database-url-password',
    message: 'database connection URL with a password: rotate the password and read the URL from the environment or a secret store',
    keywords: ['://'],
    pattern: URL_USERINFO,
    secretGroup: 3,
    accept: (password, match) => schemeIsDatabase(match[1] ?? '') && isRealUrlPassword(password, match[2]),
    priority: PRIORITY.url,
  },
  {
    id: 'url-password',
    message: 'URL with a password in it (user:password@host): rotate the password and pass credentials another way',
    keywords: ['://'],
    pattern: URL_USERINFO,
    secretGroup: 3,
    accept: (password, match) => !schemeIsDatabase(match[1] ?? '') && isRealUrlPassword(password, match[2]),
    priority: PRIORITY.url,
  },
];
