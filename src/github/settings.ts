import { readFileSync } from 'node:fs';
import path from 'node:path';
import { resolveSecret, type Config, type RemoteConfig } from '../config/index.ts';
import { PortcullisError } from '../errors.ts';
import { normalizePrivateKey } from './private-key.ts';

/** The remote whose repositories the app's installation tokens open. */
export const GITHUB_REMOTE = 'github';
const GITHUB_COM_GIT = 'https://github.com';
const GITHUB_COM_API = 'https://api.github.com';

/** The GitHub App as the gateway runs it, every value resolved and checked. */
export interface GitHubAppSettings {
  appId: string;
  /** PEM; never logged. */
  privateKey: string;
  /** Never logged. */
  webhookSecret: string;
  /** REST API base: https://api.github.com, `<proto>://<GHE_HOST>/api/v3`, or `github.apiUrl`. */
  apiUrl: string;
  /** Where the `github` remote's repositories live unless portcullis.yml says otherwise. */
  gitUrl: string;
  /** GitHub Enterprise Server host, when one is configured. */
  gheHost: string | null;
  /** The least repository role that may approve or reject a hold from GitHub. Default write. */
  approverRole: ApproverRole;
  /** `github.scanCheckRuns`: a `portcullis / secret scan` check run on each sha pushed through the gateway. Default false. */
  scanCheckRuns: boolean;
  /** `github.flagBypass`: a push around the gateway by an agent's login gets a failing check run. Default false. */
  flagBypass: boolean;
}

export const APPROVER_ROLES = ['write', 'maintain', 'admin'] as const;
export type ApproverRole = (typeof APPROVER_ROLES)[number];

type GitHubConfig = NonNullable<Config['github']>;

interface Found {
  value: string;
  /** Names the source in errors: `APP_ID` or `github.appId in portcullis.yml`. */
  where: string;
}

/**
 * probot's configuration, the probot way: each key from portcullis.yml's `github:` section, else
 * from probot's environment variable. The app is off unless an app id is set; when it is on, a
 * webhook secret and a private key are required, and the key comes only from what is configured
 * (probot would fall back to the secret "development" and to any *.pem in the working directory).
 */
export function resolveGitHubAppSettings(
  section: Config['github'],
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): GitHubAppSettings | null {
  const config: GitHubConfig = section ?? {};
  const fromFile = (key: keyof GitHubConfig): Found | undefined => {
    const raw = config[key];
    if (raw === undefined) return undefined;
    const where = `github.${key} in portcullis.yml`;
    return { value: resolveSecret(String(raw), where, env), where };
  };
  const fromEnv = (name: string): Found | undefined => (env[name] ? { value: env[name], where: name } : undefined);

  const appId = fromFile('appId') ?? fromEnv('APP_ID');
  if (!appId) {
    const stray = (['privateKey', 'privateKeyPath', 'webhookSecret', 'gheHost', 'gheProtocol', 'apiUrl'] as const).filter((key) => config[key] !== undefined);
    if (stray.length > 0) {
      throw new PortcullisError('CONFIG_INVALID', `portcullis.yml sets github.${stray.join(', github.')} but no app id, so the GitHub App is off`, {
        hint: "set github.appId (or APP_ID) to the App ID on the app's settings page, or remove the github section",
      });
    }
    return null;
  }
  if (!/^\d+$/.test(appId.value)) {
    throw new PortcullisError('CONFIG_INVALID', `${appId.where} must be the numeric App ID, got "${appId.value}"`, {
      hint: "the App ID is on the GitHub App's settings page (About → App ID)",
    });
  }

  const webhookSecret = fromFile('webhookSecret') ?? fromEnv('WEBHOOK_SECRET');
  if (!webhookSecret) {
    throw new PortcullisError('CONFIG_INVALID', `the GitHub App is configured (${appId.where}) but has no webhook secret`, {
      hint: "set WEBHOOK_SECRET (or github.webhookSecret) to the webhook secret in the app's settings; portcullis does not fall back to probot's \"development\"",
    });
  }

  const privateKey = readPrivateKey(config, cwd, fromFile, fromEnv, appId);
  const { gheHost, protocol } = resolveEnterprise(fromFile('gheHost') ?? fromEnv('GHE_HOST'), fromFile('gheProtocol') ?? fromEnv('GHE_PROTOCOL'));
  const gitUrl = gheHost ? `${protocol}://${gheHost}` : GITHUB_COM_GIT;
  const apiUrl = (config.apiUrl ?? (gheHost ? `${gitUrl}/api/v3` : GITHUB_COM_API)).replace(/\/+$/, '');
  const approverRole = resolveApproverRole(config, env);
  return { appId: appId.value, privateKey, webhookSecret: webhookSecret.value, apiUrl, gitUrl, gheHost, approverRole, flagBypass: config.flagBypass ?? false, scanCheckRuns: config.scanCheckRuns ?? false };
}

/**
 * `github.approverRole` in portcullis.yml (read here once the config schema carries it), else
 * `GITHUB_APPROVER_ROLE`, else write.
 */
function resolveApproverRole(config: GitHubConfig, env: NodeJS.ProcessEnv): ApproverRole {
  const fromFile = (config as { approverRole?: unknown }).approverRole;
  const found =
    fromFile !== undefined
      ? { value: String(fromFile), where: 'github.approverRole in portcullis.yml' }
      : env.GITHUB_APPROVER_ROLE
        ? { value: env.GITHUB_APPROVER_ROLE, where: 'GITHUB_APPROVER_ROLE' }
        : undefined;
  if (!found) return 'write';
  const role = found.value.trim().toLowerCase();
  if (!(APPROVER_ROLES as readonly string[]).includes(role)) {
    throw new PortcullisError('CONFIG_INVALID', `${found.where} must be one of ${APPROVER_ROLES.join(', ')}, got "${found.value}"`, {
      hint: 'the least repository role on GitHub that may approve a held push: write (default), maintain or admin',
    });
  }
  return role as ApproverRole;
}

function readPrivateKey(
  config: GitHubConfig,
  cwd: string,
  fromFile: (key: keyof GitHubConfig) => Found | undefined,
  fromEnv: (name: string) => Found | undefined,
  appId: Found,
): string {
  if (config.privateKey !== undefined && config.privateKeyPath !== undefined) {
    throw new PortcullisError('CONFIG_INVALID', 'portcullis.yml sets both github.privateKey and github.privateKeyPath', { hint: 'keep one of them' });
  }
  const inline = fromFile('privateKey');
  if (inline) return normalizePrivateKey(inline.value, inline.where);
  const filePath = fromFile('privateKeyPath');
  if (filePath && !path.isAbsolute(filePath.value)) {
    throw new PortcullisError('CONFIG_INVALID', `${filePath.where} must be an absolute path, got "${filePath.value}"`, {
      hint: 'write the full path of the .pem file (or use PRIVATE_KEY_PATH, which is relative to the working directory)',
    });
  }
  const fromEnvironment = fromEnv('PRIVATE_KEY');
  if (!filePath && fromEnvironment) return normalizePrivateKey(fromEnvironment.value, fromEnvironment.where);
  const file = filePath ?? fromEnv('PRIVATE_KEY_PATH');
  if (!file) {
    throw new PortcullisError('CONFIG_INVALID', `the GitHub App is configured (${appId.where}) but has no private key`, {
      hint: 'set PRIVATE_KEY_PATH (or github.privateKeyPath) to the .pem file, or PRIVATE_KEY to its contents; portcullis does not look for *.pem files on its own',
    });
  }
  const absolute = path.resolve(cwd, file.value);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new PortcullisError('CONFIG_INVALID', `${file.where}: cannot read the private key file ${absolute} (${code})`, {
      hint: "check the path and that the gateway's user may read the file",
    });
  }
  return normalizePrivateKey(text, `${file.where} (${absolute})`);
}

function resolveEnterprise(host: Found | undefined, protocol: Found | undefined): { gheHost: string | null; protocol: string } {
  const scheme = protocol?.value ?? 'https';
  if (scheme !== 'https' && scheme !== 'http') {
    throw new PortcullisError('CONFIG_INVALID', `${protocol!.where} must be https or http, got "${scheme}"`);
  }
  if (!host) return { gheHost: null, protocol: scheme };
  if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(host.value)) {
    throw new PortcullisError('CONFIG_INVALID', `${host.where} must be a host name such as github.example.com, got "${host.value}"`, {
      hint: 'give the host only: no scheme (that is GHE_PROTOCOL) and no path',
    });
  }
  return { gheHost: host.value.toLowerCase(), protocol: scheme };
}

/**
 * The remotes with the app in charge of `github`: on GitHub Enterprise Server the default
 * https://github.com becomes the GHE host (a url the user chose elsewhere stays). The remote must
 * exist and carry no `auth` of its own: the app's tokens are its credential.
 */
export function remotesWithGitHubApp(remotes: readonly RemoteConfig[], settings: Pick<GitHubAppSettings, 'gitUrl' | 'gheHost'>): RemoteConfig[] {
  const github = remotes.find((remote) => remote.name === GITHUB_REMOTE);
  if (!github) {
    throw new PortcullisError('CONFIG_INVALID', `the GitHub App is configured but no remote is named "${GITHUB_REMOTE}"`, {
      hint: `add - name: ${GITHUB_REMOTE} to remotes in portcullis.yml (url: ${settings.gitUrl})`,
    });
  }
  if (github.auth) {
    throw new PortcullisError('CONFIG_INVALID', `remote ${GITHUB_REMOTE} has auth in portcullis.yml, and the GitHub App is configured too`, {
      hint: `with the app, the gateway uses installation tokens for ${GITHUB_REMOTE}: remove its auth (or the app configuration)`,
    });
  }
  return remotes.map((remote) =>
    remote === github && settings.gheHost && remote.url.replace(/\/+$/, '') === GITHUB_COM_GIT ? { ...remote, url: settings.gitUrl } : remote,
  );
}
