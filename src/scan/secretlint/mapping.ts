/**
 * secretlint reports a range and a message that contains the secret. Here each message id becomes
 * one of our rule ids, the secret is cut out of the range (a URL's password, not the whole URL) so
 * that it fingerprints like the same secret found by our own rules, and our checks run on it too
 * (GitHub checksums, placeholder and default passwords). secretlint's message text is never used.
 */
import { looksLikePlaceholder, looksLikeReference, shannonEntropy } from '../entropy.ts';
import { hasValidGitHubChecksum, isRealUrlPassword, stripBodyDecorations } from '../rules/index.ts';

export interface ExtractedSecret {
  /** Offset of the secret inside the reported range. */
  offset: number;
  secret: string;
}

interface MessageMapping {
  ruleId: string;
  message: string;
  extract?: (range: string) => ExtractedSecret | undefined;
  validate?: (secret: string) => boolean;
  publicPrefix?: (secret: string) => string;
}

const ROTATE = 'revoke or rotate it, and load it from a secret store or the environment at run time';

function lastMatch(pattern: RegExp): (range: string) => ExtractedSecret | undefined {
  return (range) => {
    let found: ExtractedSecret | undefined;
    for (const match of range.matchAll(new RegExp(pattern.source, 'g'))) found = { offset: match.index, secret: match[0] };
    return found;
  };
}

function urlPassword(range: string): ExtractedSecret | undefined {
  const match = /:\/\/([^:/\s@]{1,256}):([^@/\s]{1,256})@/.exec(range);
  if (!match) return undefined;
  return { offset: match.index + 3 + match[1]!.length + 1, secret: match[2]! };
}

/** The base64 body of a PEM block, normalised as rules/private-key.ts does. */
function pemBody(range: string): ExtractedSecret | undefined {
  const begin = range.indexOf('-----BEGIN');
  if (begin === -1) return undefined;
  const headerEnd = range.indexOf('-----', range.indexOf('PRIVATE KEY', begin));
  const end = range.indexOf('-----END', headerEnd + 5);
  const body = range
    .slice(headerEnd + 5, end === -1 ? undefined : end)
    .split(/\r?\n|\\{1,2}(?:r\\{1,2})?n/)
    .map(stripBodyDecorations)
    .filter((line) => line.length > 0 && !line.includes(':'))
    .join('');
  return body ? { offset: begin, secret: body } : undefined;
}

const notPlaceholder = (secret: string) => !looksLikePlaceholder(secret) && !looksLikeReference(secret);
const urlPasswordOk = (secret: string) => isRealUrlPassword(secret);

const MAPPINGS: Record<string, MessageMapping> = {
  AWSAccessKeyID: { ruleId: 'aws-access-key', message: `AWS access key ID: ${ROTATE}`, publicPrefix: (s) => s.slice(0, 4), validate: (s) => !/EXAMPLE/.test(s) },
  AWSSecretAccessKey: { ruleId: 'aws-secret-key', message: `AWS secret access key: ${ROTATE}`, extract: lastMatch(/[A-Za-z0-9/+=]{40}/), validate: (s) => !/EXAMPLE/i.test(s) },
  AWSAccountID: { ruleId: 'aws-account-id', message: 'AWS account ID' },
  PrivateKey: { ruleId: 'private-key', message: 'private key: remove it from the repository, treat the key as compromised and replace it', extract: pemBody },
  PrivateKeyJSON: { ruleId: 'private-key', message: 'GCP service account key file: delete the key in IAM and use workload identity or a secret store', extract: pemBody },
  PrivateKeyP12: { ruleId: 'private-key', message: 'GCP service account key file (p12): delete the key in IAM' },
  PackageJSON_xOauthToken: { ruleId: 'github-token', message: `GitHub token in a package URL: ${ROTATE}`, extract: (range) => {
    const match = /\/\/(.{1,256}):x-oauth-basic@/.exec(range);
    return match ? { offset: match.index + 2, secret: match[1]! } : undefined;
  } },
  Npmrc_authToken: { ruleId: 'npm-token', message: `npm auth token in .npmrc: ${ROTATE}`, extract: (range) => {
    const at = range.indexOf('=');
    const secret = range.slice(at + 1).trim().replace(/^["']|["']$/g, '');
    return at === -1 || !secret ? undefined : { offset: at + 1, secret };
  } },
  NPM_ACCESS_TOKEN: { ruleId: 'npm-token', message: `npm access token: ${ROTATE}`, publicPrefix: () => 'npm_' },
  BasicAuth: { ruleId: 'url-password', message: 'URL with a password in it (user:password@host): rotate the password and pass credentials another way', extract: urlPassword, validate: urlPasswordOk },
  MongoDBConnection: { ruleId: 'database-url-password', message: 'database connection URL with a password: rotate the password and read the URL from the environment', extract: urlPassword, validate: urlPasswordOk },
  MySQLConnection: { ruleId: 'database-url-password', message: 'database connection URL with a password: rotate the password and read the URL from the environment', extract: urlPassword, validate: urlPasswordOk },
  PostgreSQLConnection: { ruleId: 'database-url-password', message: 'database connection URL with a password: rotate the password and read the URL from the environment', extract: urlPassword, validate: urlPasswordOk },
  SLACK_TOKEN: { ruleId: 'slack-token', message: `Slack token: ${ROTATE}`, publicPrefix: (s) => s.slice(0, 5) },
  IncomingWebhook: { ruleId: 'slack-webhook', message: `Slack incoming webhook URL: ${ROTATE}`, extract: (range) => {
    const at = range.toLowerCase().indexOf('/services/');
    return at === -1 ? undefined : { offset: at + 1, secret: range.slice(at + 1) };
  } },
  SENDGRID_KEY: { ruleId: 'sendgrid-api-key', message: `SendGrid API key: ${ROTATE}`, publicPrefix: () => 'SG.' },
  SHOPIFY_KEY: { ruleId: 'shopify-token', message: `Shopify access token: ${ROTATE}`, publicPrefix: (s) => s.slice(0, 6) },
  GITHUB_TOKEN: {
    ruleId: 'github-token',
    message: 'GitHub token: revoke it (Settings → Developer settings → tokens) and load it from a secret store at run time',
    publicPrefix: (s) => s.slice(0, s.indexOf('_') + 1),
    validate: (s) => s.startsWith('github_pat_') || hasValidGitHubChecksum(s),
  },
  OPENAI_TOKEN: { ruleId: 'openai-api-key', message: `OpenAI API key: ${ROTATE}`, publicPrefix: (s) => /^sk-(?:proj|svcacct|admin)-/.exec(s)?.[0] ?? 'sk-' },
  ANTHROPIC_API_KEY: { ruleId: 'anthropic-api-key', message: `Anthropic API key: ${ROTATE}`, publicPrefix: (s) => /^sk-ant-[a-z]+\d*-/.exec(s)?.[0] ?? 'sk-ant-' },
  LINEAR_API_TOKEN: { ruleId: 'linear-api-key', message: `Linear API key: ${ROTATE}`, publicPrefix: () => 'lin_api_' },
  OPS_TOKEN: { ruleId: 'onepassword-token', message: `1Password service account token: ${ROTATE}`, publicPrefix: () => 'ops_' },
  // Rules of the 12.x/13.x preset, mapped so that an upgrade reports them under our ids.
  GITLAB_PERSONAL_ACCESS_TOKEN: { ruleId: 'gitlab-token', message: `GitLab token: ${ROTATE}`, publicPrefix: () => 'glpat-' },
  HUGGINGFACE_USER_ACCESS_TOKEN: { ruleId: 'huggingface-token', message: `Hugging Face token: ${ROTATE}`, publicPrefix: () => 'hf_' },
  GROQ_API_KEY: { ruleId: 'groq-api-key', message: `Groq API key: ${ROTATE}`, publicPrefix: () => 'gsk_' },
  NOTION_INTEGRATION_TOKEN: { ruleId: 'notion-token', message: `Notion integration token: ${ROTATE}`, publicPrefix: () => 'ntn_' },
  STRIPE_SECRET_KEY_LIVE: { ruleId: 'stripe-secret-key', message: `Stripe secret key: ${ROTATE}`, publicPrefix: (s) => s.slice(0, 8) },
  STRIPE_SECRET_KEY_TEST: { ruleId: 'stripe-secret-key', message: `Stripe secret key: ${ROTATE}`, publicPrefix: (s) => s.slice(0, 8) },
  STRIPE_RESTRICTED_KEY_LIVE: { ruleId: 'stripe-secret-key', message: `Stripe restricted key: ${ROTATE}`, publicPrefix: (s) => s.slice(0, 8) },
  STRIPE_RESTRICTED_KEY_TEST: { ruleId: 'stripe-secret-key', message: `Stripe restricted key: ${ROTATE}`, publicPrefix: (s) => s.slice(0, 8) },
};

export interface MappedFinding {
  ruleId: string;
  message: string;
  offset: number;
  secret: string;
  publicPrefix: string;
}

/** Our view of one secretlint message, or undefined when our checks reject what it reported. */
export function mapSecretlintMessage(ruleId: string, messageId: string, range: string): MappedFinding | undefined {
  const mapping = MAPPINGS[messageId] ?? {
    ruleId: ruleId.replace(/^@secretlint\/secretlint-rule-/, 'secretlint-'),
    message: `secret reported by secretlint (${ruleId} ${messageId}): ${ROTATE}`,
  };
  const extracted = mapping.extract ? mapping.extract(range) : { offset: 0, secret: range.trim() };
  if (!extracted || extracted.secret.length === 0) return undefined;
  const publicPrefix = mapping.publicPrefix?.(extracted.secret) ?? '';
  if (!looksRandom(extracted.secret.slice(publicPrefix.length))) return undefined;
  if (mapping.validate && !mapping.validate(extracted.secret)) return undefined;
  return {
    ruleId: mapping.ruleId,
    message: mapping.message,
    offset: extracted.offset,
    secret: extracted.secret,
    publicPrefix,
  };
}

/** The same bar as our own token rules: not a placeholder, and as varied as a generated value. */
function looksRandom(body: string): boolean {
  return notPlaceholder(body) && shannonEntropy(body) >= (body.length <= 20 ? 2.5 : 3);
}
