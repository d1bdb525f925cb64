/**
 * Passwords and tokens typed on command lines that end up in scripts, CI files and READMEs:
 * `--password=…`, `--token …`, keytool's `-storepass …`, MySQL's `-p'…'` and `sshpass -p …`.
 */
import { characterClasses, looksLikePlaceholder, looksLikeReference, shannonEntropy } from '../entropy.ts';
import { isRealUrlPassword } from './url-credentials.ts';
import { PRIORITY, type PatternRule } from './rule.ts';

const MESSAGE = 'password or token passed as a command-line flag: use an environment variable, a prompt or a credentials file';

/** The line (bounded) around `index`, for rules that need context such as the command name. */
export function lineAround(text: string, index: number, reach = 2000): string {
  const from = Math.max(0, text.lastIndexOf('\n', index) + 1, index - reach);
  const newline = text.indexOf('\n', index);
  const to = Math.min(newline === -1 ? text.length : newline, index + reach);
  return text.slice(from, to);
}

function flagValueOk(value: string, flag: string): boolean {
  if (value.startsWith('-') || looksLikeReference(value) || looksLikePlaceholder(value)) return false;
  if (/token|key|secret/i.test(flag)) return value.length >= 12 && shannonEntropy(value) >= 3 && characterClasses(value) >= 2;
  return isRealUrlPassword(value);
}

const VALUE = `(?:"([^"\\n]{3,200})"|'([^'\\n]{3,200})'|([^\\s"'\`\\\\;|&<>()]{3,200}))(?![^\\s"'\`\\\\;|&<>()])`;

export const cliFlagRules: PatternRule[] = [
  {
    id: 'cli-password',
    message: MESSAGE,
    keywords: ['--password', '--passwd', '--pass', '--db-password', '--admin-password', '--root-password', '--token', '--auth-token', '--access-token', '--api-key', '--apikey', '--secret', '--client-secret', '--secret-key', '-storepass', '-keypass', '-srcstorepass', '-deststorepass'],
    pattern: new RegExp(
      `(?<![\\w-])(-{1,2}(?:db-|admin-|root-|auth-|access-|client-)?(?:password|passwd|pass|token|api-?key|secret(?:-key)?|storepass|keypass|srcstorepass|deststorepass))(?:=|[ \\t]{1,4})${VALUE}`,
    ),
    secretGroup: 2,
    accept: (value, match) => flagValueOk(value, match[1] ?? ''),
    priority: PRIORITY.url,
  },
  {
    // mysql -uroot -p'…' / -pSecret: the password is glued to -p; other tools' -p is a port or a path.
    id: 'cli-password',
    message: MESSAGE,
    keywords: ['-p'],
    pattern: new RegExp(`(?<=[ \\t])-p(?:"([^"\\n]{3,200})"|'([^'\\n]{3,200})'|([A-Za-z0-9!@#%^*_+=.~]{3,200}))(?=[ \\t;|&)]|$)`),
    secretGroup: 2,
    accept: (value, _match, context) =>
      /\b(?:mysql|mysqldump|mysqladmin|mysqlsh|mariadb|mariadb-dump)\b/.test(lineAround(context.text, context.index)) && isRealUrlPassword(value),
    priority: PRIORITY.url,
  },
  {
    id: 'cli-password',
    message: MESSAGE,
    keywords: ['sshpass'],
    pattern: new RegExp(`sshpass[ \\t]{1,4}-p[ \\t]{0,4}${VALUE}`),
    secretGroup: 1,
    accept: (value) => isRealUrlPassword(value),
    priority: PRIORITY.url,
  },
];
