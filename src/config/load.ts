import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { PortcullisError } from '../errors.ts';
import { describeIssues } from './issues.ts';
import { configSchema, type Config } from './schema.ts';

export const DEFAULT_CONFIG_FILE = 'portcullis.yml';

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the file read, or null when running on built-in defaults. */
  source: string | null;
}

export interface LoadConfigOptions {
  /** `--config PATH`; wins over PORTCULLIS_CONFIG and ./portcullis.yml. */
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const explicit = options.configPath ?? env.PORTCULLIS_CONFIG;
  const file = explicit ? path.resolve(cwd, explicit) : path.join(cwd, DEFAULT_CONFIG_FILE);

  if (!existsSync(file)) {
    if (explicit) {
      throw new PortcullisError('CONFIG_NOT_FOUND', `config file ${file} does not exist`, {
        hint: 'check the --config path or PORTCULLIS_CONFIG, or remove it to run on the built-in defaults',
      });
    }
    return { config: resolvePaths(parseConfig({}, '(built-in defaults)', env), cwd), source: null };
  }

  const text = await readFile(file, 'utf8');
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    throw new PortcullisError('CONFIG_INVALID', `${file}: not valid YAML: ${first.message}`);
  }
  const raw: unknown = document.toJS() ?? {};
  return { config: resolvePaths(parseConfig(raw, file, env), path.dirname(file)), source: file };
}

/** Validates a config object and resolves `env:VARNAME` secrets; `origin` names the file in errors. */
export function parseConfig(raw: unknown, origin: string, env: NodeJS.ProcessEnv = process.env): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = describeIssues(result.error.issues);
    throw new PortcullisError('CONFIG_INVALID', `${origin} is not a valid portcullis config:\n${lines.join('\n')}`, {
      hint: 'see the configuration reference in README.md',
    });
  }
  const config = result.data;
  config.remotes = config.remotes.map((remote, index) => {
    if (!remote.auth) return remote;
    const at = (key: string) => `${origin}: remotes[${index}].auth.${key}`;
    const auth =
      'basic' in remote.auth
        ? {
            basic: {
              username: resolveSecret(remote.auth.basic.username, at('basic.username'), env),
              password: resolveSecret(remote.auth.basic.password, at('basic.password'), env),
            },
          }
        : { bearer: resolveSecret(remote.auth.bearer, at('bearer'), env) };
    return { ...remote, auth };
  });
  config.databases = config.databases.map((database, index) => {
    const url = resolveSecret(database.url, `${origin}: databases[${index}].url`, env);
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new PortcullisError('CONFIG_INVALID', `${origin}: databases[${index}].url must be a postgres:// URL (the real upstream database)`, {
        hint: 'e.g. postgres://app_user:PASSWORD@db.internal:5432/app, or env:APP_DATABASE_URL',
      });
    }
    return { ...database, url };
  });
  return config;
}

/** `env:VARNAME` → that variable's value; `where` names the key in the error. */
export function resolveSecret(value: string, where: string, env: NodeJS.ProcessEnv): string {
  if (!value.startsWith('env:')) return value;
  const name = value.slice('env:'.length);
  const resolved = env[name];
  if (!resolved) {
    throw new PortcullisError('CONFIG_INVALID', `${where}: environment variable ${name} is not set or empty`, {
      hint: `export ${name}=... before starting portcullis`,
    });
  }
  return resolved;
}

function resolvePaths(config: Config, base: string): Config {
  const github = config.github?.privateKeyPath && !config.github.privateKeyPath.startsWith('env:')
    ? { ...config.github, privateKeyPath: path.resolve(base, config.github.privateKeyPath) }
    : config.github;
  const pgTls = config.listen.pgTls && { cert: path.resolve(base, config.listen.pgTls.cert), key: path.resolve(base, config.listen.pgTls.key) };
  const listen = pgTls ? { ...config.listen, pgTls } : config.listen;
  const audit = config.audit.signingKey ? { ...config.audit, signingKey: path.resolve(base, config.audit.signingKey) } : config.audit;
  return { ...config, listen, audit, dataDir: path.resolve(base, config.dataDir), policy: path.resolve(base, config.policy), ...(github ? { github } : {}) };
}
