/**
 * Secrets known only by where they sit: `password = …`, `secret: …`, `api_key=…`, AWS secret
 * access keys next to their name, and `Authorization: Bearer|Basic …` headers. Every rule starts
 * at the key word; the value must then look like a credential: long and varied enough, not a
 * placeholder, an environment reference, a type name, a URL, a path, a hash or a variable.
 */
import { characterClasses, looksLikePlaceholder, looksLikeReference, shannonEntropy } from '../entropy.ts';
import { githubRules } from './github.ts';
import { providerTokenRules } from './provider-tokens.ts';
import { isRealUrlPassword } from './url-credentials.ts';
import { PRIORITY, type MatchContext, type PatternRule } from './rule.ts';

const specificRules = [...githubRules, ...providerTokenRules];
const stickyPatterns = new Map<PatternRule, RegExp>();

/**
 * True when a provider rule recognises the whole value by its prefix, whether or not it then
 * accepted it: a `ghp_…` with a bad checksum is a look-alike, not a generic secret.
 */
export function claimedByProviderRule(value: string): boolean {
  for (const rule of specificRules) {
    if (!rule.keywords.some((keyword) => value.startsWith(keyword))) continue;
    let sticky = stickyPatterns.get(rule);
    if (!sticky) stickyPatterns.set(rule, (sticky = new RegExp(rule.pattern.source, `${rule.pattern.flags.replace(/[gy]/g, '')}y`)));
    sticky.lastIndex = 0;
    const match = sticky.exec(value);
    if (match && match[0].length === value.length) return true;
  }
  return false;
}

const NOT_A_VALUE =
  /^(?:true|false|null|nil|none|undefined|string|str|number|int|integer|bool|boolean|object|any|required|optional|empty|default|bytes|text|secret|password|token|hidden|masked|env|stdin|prompt|random|generated|auto|unset|omitted|redacted)$/i;
const HASHED = /^(?:sha\d*[:-]|md5[:-]|\$2[abxy]?\$|\$argon2|\$[1-6]\$|\{s?sha\d*\}|pbkdf2)/i;
const NAMES_ITSELF = /secret|passw|passphrase|token|api[_-]?key|credential|test|dummy|sample|default|demo/i;
const DOTTED_IDENTIFIER = /^[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*)+$/;
/** Words joined in camelCase, PascalCase, snake_case or kebab-case: names, not generated values. */
const WORD_CHAIN = /^[^A-Za-z0-9]{0,2}(?:[A-Za-z]?[a-z]+(?:[A-Z][a-z]+|[A-Z]{2,5}(?=[A-Z][a-z]|$))*|[a-z]+(?:[-_.][a-z]+)+|[A-Z]+(?:_[A-Z]+)+)$/;

/**
 * The key word starts a word: after a non-letter, or as the capitalised part of camelCase/ALLCAPS;
 * and not a segment of a colon-separated name (`arn:aws:secretsmanager:…:secret:prod/db`).
 */
function keyStartsWord(context: MatchContext): boolean {
  const before = context.text.charCodeAt(context.index - 1);
  if (before === 0x3a) return false;
  const first = context.text.charCodeAt(context.index);
  const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  return !isLetter(before) || (first >= 65 && first <= 90);
}

function genericValueOk(value: string, key: string, unquoted: boolean): boolean {
  const v = value.trim();
  if (v.length === 0 || /\s/.test(v)) return false;
  if (NOT_A_VALUE.test(v) || HASHED.test(v) || v.includes('://') || /^[.~]?\//.test(v)) return false;
  if (looksLikeReference(v) || looksLikePlaceholder(v) || claimedByProviderRule(v)) return false;
  if (/^[\d.,:_-]+$/.test(v) || /^0x[0-9a-f]+$/i.test(v)) return false; // numbers, versions, times
  if (WORD_CHAIN.test(v)) return false;
  if (unquoted && (DOTTED_IDENTIFIER.test(v) || /^[A-Za-z_$]+$/.test(v))) return false; // a variable, not a literal
  if (unquoted && /^[*&!|>]/.test(v)) return false; // YAML alias, anchor, tag or block scalar
  if (unquoted && /^[A-Za-z_$][\w$.]*=(?!=*$)/.test(v)) return false; // chained assignment a=b=c (not base64 padding)
  // Values that name what they stand for ('db-password', 'secret123', 'test-token', 'dbPassword')
  // are fixtures and variable names; generated credentials do not spell words like these.
  if (NAMES_ITSELF.test(v)) return false;
  if (/^(?:pass|pwd)/i.test(key)) {
    return isRealUrlPassword(v) && v.length >= 6 && shannonEntropy(v) >= 2.2 && (characterClasses(v) >= 2 || v.length >= 12);
  }
  return v.length >= 12 && shannonEntropy(v) >= 3 && characterClasses(v) >= 2;
}

const KEY =
  '(pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|auth[_-]?key|signing[_-]?key|encryption[_-]?key|master[_-]?key)' +
  '(?:[_.-]?(?:key|token|secret|base|value|str|string|b64|base64|hex|pass|word)){0,2}';
const SEPARATOR = `["'\\]]?[ \\t]{0,4}(?::=|=>|={1,3}|:)[ \\t]{0,4}`;
const VALUE = '(?:"([^"\\n]{1,256})"|\'([^\'\\n]{1,256})\'|`([^`\\n]{1,256})`|([^\\s"\'`,;<>(){}\\[\\]\\\\]{1,256})(?![^\\s"\'`,;<>(){}\\[\\]\\\\]))';

export const assignmentRules: PatternRule[] = [
  {
    id: 'aws-secret-key',
    message: 'AWS secret access key: deactivate it in IAM and use a role, SSO or the credentials file instead',
    keywords: ['secret'],
    pattern: new RegExp(
      `(?:(?<=aws[_.-]?)secret[_.-]?(?:access[_.-]?)?key|secret[_.-]?access[_.-]?key)${SEPARATOR}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])`,
      'i',
    ),
    secretGroup: 1,
    accept: (key) => !/example/i.test(key) && shannonEntropy(key) >= 3.5 && characterClasses(key) >= 2,
    priority: PRIORITY.provider,
  },
  {
    id: 'generic-secret',
    message: 'hard-coded password or secret: move it to the environment or a secret store, and rotate it',
    keywords: ['pass', 'pwd', 'secret', 'token', 'api_key', 'api-key', 'apikey', 'access_key', 'access-key', 'accesskey', 'private_key', 'private-key', 'privatekey', 'credential', 'auth_key', 'auth-key', 'authkey', 'signing_key', 'signingkey', 'encryption_key', 'encryptionkey', 'master_key', 'masterkey'],
    // `key = value` in its many syntaxes, or an XML element `<password>value</password>`.
    pattern: new RegExp(`${KEY}(?:${SEPARATOR}${VALUE}|>([^<\\s]{1,256})(?=<\\/))`, 'i'),
    secretGroup: 2,
    accept: (value, match, context) => keyStartsWord(context) && genericValueOk(value, match[1] ?? '', match[5] !== undefined),
    priority: PRIORITY.generic,
  },
  {
    id: 'bearer-token',
    message: 'bearer token in an Authorization header: revoke it and read it from the environment at run time',
    keywords: ['bearer'],
    pattern: /(?<![A-Za-z])bearer[ \t]{1,4}([A-Za-z0-9._~+/-]{20,2048}=*)(?![A-Za-z0-9._~+/=-])/i,
    secretGroup: 1,
    accept: (token) => !looksLikePlaceholder(token) && !looksLikeReference(token) && shannonEntropy(token) >= 3.5 && characterClasses(token) >= 2,
    priority: PRIORITY.generic,
  },
  {
    id: 'basic-auth-header',
    message: 'Basic credentials in an Authorization header: rotate the password and build the header at run time',
    keywords: ['basic'],
    pattern: /(?<![A-Za-z])basic[ \t]{1,4}([A-Za-z0-9+/]{8,500}={0,2})(?![A-Za-z0-9+/=])/i,
    secretGroup: 1,
    accept: (encoded) => {
      const decoded = Buffer.from(encoded, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 1 || !/^[\x20-\x7e]+$/.test(decoded)) return false;
      return isRealUrlPassword(decoded.slice(colon + 1), decoded.slice(0, colon));
    },
    priority: PRIORITY.generic,
  },
];
