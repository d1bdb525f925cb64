/**
 * Credentials recognised by shape: JSON Web Tokens, password hashes in the crypt/PHC/Django/
 * Werkzeug formats, and the secret scanner's own keyword-anchored rules and PEM private keys.
 *
 * The scan module's public face (`src/scan/index.ts`) only offers the async scanner, which also
 * runs secretlint (async, milliseconds per call): far too slow for a value on a result row. Its
 * keyword index and rule list are synchronous and pure, so they are imported directly.
 */
import { buildKeywordIndex } from '../../scan/keyword-index.ts';
import { findPrivateKeys, patternRules } from '../../scan/rules/index.ts';

type Found = Array<[number, number]>;

const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,4096}\.[A-Za-z0-9_-]{4,16384}\.[A-Za-z0-9_-]{0,4096}(?![A-Za-z0-9_-])/y;

/** `header.payload.signature` where the header decodes to a JSON object naming `alg` or `typ`. */
export function findJwts(text: string): Found {
  const found: Found = [];
  let at = text.indexOf('eyJ');
  while (at !== -1) {
    JWT.lastIndex = at;
    const match = JWT.exec(text);
    if (match && headerLooksLikeJose(match[0].slice(0, match[0].indexOf('.')))) {
      found.push([at, at + match[0].length]);
      at = text.indexOf('eyJ', at + match[0].length);
    } else {
      at = text.indexOf('eyJ', at + 3);
    }
  }
  return found;
}

function headerLooksLikeJose(segment: string): boolean {
  try {
    const header: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && ('alg' in header || 'typ' in header || 'enc' in header);
  } catch {
    return false;
  }
}

const B64 = '[A-Za-z0-9+/=]';
const CRYPT = '[./A-Za-z0-9]';
/**
 * Each alternative is one published format; quantifiers are bounded. Django prefixes
 * (`bcrypt_sha256$`, `argon2$`) are part of the match so the whole stored value is masked.
 */
const PASSWORD_HASH = new RegExp(
  '(?<![A-Za-z0-9_$./+])(?:' +
    [
      `(?:bcrypt(?:_sha256)?\\$)?\\$2[abxy]?\\$\\d{2}\\$${CRYPT}{53}(?!${CRYPT})`, // bcrypt
      `(?:argon2)?\\$argon2(?:id|i|d)\\$(?:v=\\d{1,3}\\$)?m=\\d{1,10},t=\\d{1,10},p=\\d{1,3}\\$${B64}{8,256}\\$${B64}{16,512}`, // argon2 (PHC)
      `\\$[56]\\$(?:rounds=\\d{1,9}\\$)?${CRYPT}{1,16}\\$${CRYPT}{43,86}`, // sha256-crypt / sha512-crypt
      `\\$(?:1|apr1)\\$${CRYPT}{1,8}\\$${CRYPT}{22}`, // md5-crypt, Apache
      `\\$y\\$${CRYPT}{1,64}\\$${CRYPT}{1,64}\\$${CRYPT}{43}`, // yescrypt
      `\\$7\\$${CRYPT}{11,64}\\$${CRYPT}{43}`, // scrypt (crypt)
      `\\$scrypt\\$[^\\s$]{1,128}\\$${B64}{8,256}\\$${B64}{16,512}`, // scrypt (PHC)
      `\\$pbkdf2(?:-sha(?:1|256|512))?\\$\\d{1,9}\\$[./A-Za-z0-9+=]{4,256}\\$[./A-Za-z0-9+=]{16,512}`, // passlib pbkdf2
      `pbkdf2_sha(?:1|256|512)\\$\\d{1,9}\\$[^\\s$]{1,128}\\$${B64}{16,256}`, // Django pbkdf2
      `scrypt\\$\\d{1,9}\\$[^\\s$]{1,128}\\$\\d{1,3}\\$\\d{1,3}\\$${B64}{16,256}`, // Django scrypt
      `(?:pbkdf2:sha(?:1|256|512)(?::\\d{1,9})?|scrypt:\\d{1,9}:\\d{1,3}:\\d{1,3})\\$[^\\s$]{1,128}\\$[0-9a-f]{32,256}`, // Werkzeug
    ].join('|') +
    ')',
  'g',
);

export function findPasswordHashes(text: string): Found {
  const found: Found = [];
  PASSWORD_HASH.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = PASSWORD_HASH.exec(text)) !== null) found.push([match.index, match.index + match[0].length]);
  return found;
}

const secretIndex = buildKeywordIndex(patternRules);

/** The scan module's rules (provider tokens, URL credentials, assignments, CLI flags) and PEM keys. */
export function findSecrets(text: string): Found {
  const found: Found = [];
  for (const candidate of secretIndex.search(text)) found.push([candidate.start, candidate.end]);
  if (text.includes('PRIVATE KEY')) for (const candidate of findPrivateKeys(text)) found.push([candidate.start, blockEnd(text, candidate.start)]);
  return found;
}

/** A private key candidate reports its header line; the whole block up to its END line is the secret. */
function blockEnd(text: string, start: number): number {
  const end = text.indexOf('-----END', start);
  if (end === -1) return text.length;
  const close = text.indexOf('-----', end + 8);
  return close === -1 ? text.length : close + 5;
}
