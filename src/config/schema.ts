import { z } from 'zod';

/** A secret value may be written inline or as `env:VARNAME`, resolved when the config is loaded. */
const secretValue = z.string().min(1);

const remoteAuth = z.union([
  z.object({ basic: z.object({ username: secretValue, password: secretValue }).strict() }).strict(),
  z.object({ bearer: secretValue }).strict(),
]);

const remoteName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lowercase letters, digits, "-" or "_" (it is a URL path segment)');

export const remoteSchema = z
  .object({
    name: remoteName,
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    auth: remoteAuth.optional(),
  })
  .strict();

const scopeList = z.array(z.string().min(1)).default([]);

export const oidcProviderSchema = z
  .object({
    issuer: z.string().min(1),
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    jwksUrl: z.url().optional(),
    agentClaim: z.string().min(1).default('sub'),
    scopes: z.object({ read: scopeList, write: scopeList, db: scopeList, dbRead: scopeList }).strict(),
  })
  .strict();

/**
 * The GitHub App (probot's APP_ID, PRIVATE_KEY / PRIVATE_KEY_PATH, WEBHOOK_SECRET, GHE_HOST,
 * GHE_PROTOCOL, which fill in whatever is not set here). Resolved by src/github/settings.ts.
 */
export const githubAppSchema = z
  .object({
    appId: z.union([z.number().int().positive(), z.string().min(1)]).optional(),
    privateKey: secretValue.optional(),
    /** Path of the app's .pem file, relative to this config file. */
    privateKeyPath: z.string().min(1).optional(),
    webhookSecret: secretValue.optional(),
    gheHost: z.string().min(1).optional(),
    gheProtocol: z.enum(['http', 'https']).optional(),
    /** REST API base URL override, for tests and API proxies; wins over gheHost for the API only. */
    apiUrl: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
    /** The least repository role a GitHub user needs to approve a held push (GITHUB_APPROVER_ROLE). */
    approverRole: z.enum(['write', 'maintain', 'admin']).optional(),
    /** Opt-in: a `portcullis / secret scan` check run on every sha the gateway pushed to the `github` remote. */
    scanCheckRuns: z.boolean().optional(),
    /** Flag a push around the gateway by an agent's GitHub login with a failing `portcullis` check run. */
    flagBypass: z.boolean().optional(),
  })
  .strict();

const port = z.number().int().min(0).max(65535);

const databaseName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'must be letters, digits, "_", "." or "-" (agents give it as dbname)');

/**
 * An upstream database agents reach through the PostgreSQL proxy as `dbname=<name>`. The URL
 * (postgres://user:password@host:port/db, `env:VAR` allowed) is the real credential: only the
 * gateway holds it. `policy` overrides the policy file's `sql:` keys for this database; it is
 * validated by the policy module when the gateway starts.
 */
export const databaseSchema = z
  .object({
    name: databaseName,
    url: secretValue,
    policy: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/** TLS for the PostgreSQL listener: PEM files, relative to the config file. */
const pgTlsSchema = z.object({ cert: z.string().min(1), key: z.string().min(1) }).strict();
const duration = z.string().regex(/^\d+\s*[smhd]$/, 'must be a duration such as 90s, 10m, 2h');

export const configSchema = z
  .object({
    listen: z
      .object({ http: port.default(8080), pg: port.default(6433), host: z.string().default('127.0.0.1'), pgTls: pgTlsSchema.optional() })
      .strict()
      .prefault({}),
    dataDir: z.string().min(1).default('./data'),
    policy: z.string().min(1).default('rules/policy.yml'),
    remotes: z
      .array(remoteSchema)
      .min(1, 'at least one remote is needed')
      .superRefine((remotes, ctx) => {
        const seen = new Set<string>();
        for (const remote of remotes) {
          if (seen.has(remote.name)) ctx.addIssue({ code: 'custom', message: `remote name "${remote.name}" is used twice; names must be unique` });
          seen.add(remote.name);
        }
      })
      .default([{ name: 'github', url: 'https://github.com' }]),
    github: githubAppSchema.optional(),
    databases: z
      .array(databaseSchema)
      .superRefine((databases, ctx) => {
        const seen = new Set<string>();
        for (const database of databases) {
          if (seen.has(database.name)) ctx.addIssue({ code: 'custom', message: `database name "${database.name}" is used twice; names must be unique` });
          seen.add(database.name);
        }
      })
      .default([]),
    identity: z.object({ oidc: z.array(oidcProviderSchema).default([]) }).strict().prefault({}),
    limits: z
      .object({
        /** Upstream must answer (headers) within this many ms, else 504. */
        upstreamTimeoutMs: z.number().int().positive().default(30_000),
        /** A push whose pack is larger is refused before anything is forwarded. */
        maxPushBytes: z.number().int().positive().default(2 * 1024 ** 3),
        /** The secret scan of one push must finish within this, else the push is refused. */
        scanTimeout: duration.default('5m'),
        /** Bringing the gateway's mirror of a repository up to date must finish within this. */
        mirrorFetchTimeout: duration.default('10m'),
        /** A PostgreSQL protocol message larger than this (either direction) ends the connection with a clear error. */
        maxPgMessageBytes: z.number().int().positive().default(64 * 1024 ** 2),
        /** Client connections the PostgreSQL proxy accepts at once; more are refused with SQLSTATE 53300. */
        maxPgConnections: z.number().int().positive().default(500),
      })
      .strict()
      .prefault({}),
    /** The tamper-evident audit trail (src/audit/chain-store/). */
    audit: z
      .object({
        /** Ed25519 private key (PEM), relative to the config file; default <dataDir>/audit-signing-key.pem, generated (0600) on first start. */
        signingKey: z.string().min(1).optional(),
        /** A signed checkpoint after this many events... */
        checkpointEvery: z.number().int().positive().default(1000),
        /** ...or after this long, whichever comes first (only when events were appended). */
        checkpointIntervalMs: z.number().int().positive().default(60_000),
        /** Events older than this are pruned, whole checkpointed segments only; unset keeps everything. */
        retainDays: z.number().positive().optional(),
      })
      .strict()
      .prefault({}),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type RemoteConfig = z.infer<typeof remoteSchema>;
export type DatabaseConfig = z.infer<typeof databaseSchema>;
export type RemoteAuth = z.infer<typeof remoteAuth>;
export type OidcProviderSettings = z.infer<typeof oidcProviderSchema>;
