/**
 * Cheap tests that tell a credential from the things that look like one: Shannon entropy, and the
 * shapes of placeholders, environment references and code that sit where secrets usually do.
 */

/** Bits per character of the value's own character distribution. */
export function shannonEntropy(value: string): number {
  if (value.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** How many of: lower case, upper case, digits, other characters. */
export function characterClasses(value: string): number {
  return (/[a-z]/.test(value) ? 1 : 0) + (/[A-Z]/.test(value) ? 1 : 0) + (/[0-9]/.test(value) ? 1 : 0) + (/[^A-Za-z0-9]/.test(value) ? 1 : 0);
}

const PLACEHOLDER_WORDS =
  /example|sample|dummy|placeholder|your[_-]?|my[_-]?(?:token|secret|key|pass)|changeme|change[_-]me|replace[_-]?me|redacted|insert[_-]|(?:token|secret|key|password)[_-]?here|fixme|todo|not[_-]?a[_-]?real|xxxx|\*\*\*|\.\.\.|…|<[^>]*>|\$\{|\{\{|%\(|\$\(/i;

/**
 * Values that stand in for a secret: docs examples (`AKIA…EXAMPLE`), `<your-token>`, `xxxx`,
 * `${TOKEN}`, `{{ secrets.X }}`, `****`, runs of one character.
 */
export function looksLikePlaceholder(value: string): boolean {
  if (PLACEHOLDER_WORDS.test(value)) return true;
  if (/(.)\1{5,}/.test(value)) return true; // 000000, aaaaaa
  if (/0123456|123456789|abcdefgh|ABCDEFGH/.test(value)) return true;
  return false;
}

const ENV_REFERENCE =
  /^(?:\$[A-Za-z_{(]|%[A-Za-z_]+%|process\.env|import\.meta\.env|os\.environ|os\.getenv|getenv|ENV\[|env\(|env\.|System\.getenv|secrets\.|vars\.|config\.|settings\.|self\.|this\.|ref\+|vault:|ENC\[|sops)/i;

/** `${DB_PASSWORD}`, `process.env.TOKEN`, `os.environ["X"]`, `ENC[AES256_GCM,…]` (SOPS), `vault:v1:…`. */
export function looksLikeReference(value: string): boolean {
  return ENV_REFERENCE.test(value);
}
