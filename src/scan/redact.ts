import { createHash } from 'node:crypto';

/** sha256 hex of the secret value: what allow-lists and audit records hold instead of the secret. */
export function fingerprintSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * `ghp_abcd…[redacted 36 chars]`: the rule's public prefix (`ghp_`, `sk-ant-api03-`; never secret),
 * then at most 4 characters of the rest (fewer for short secrets, a quarter at most), then how long
 * the rest is. Short passwords therefore show one or two characters, never most of the value.
 */
export function redactSecret(secret: string, publicPrefix = ''): string {
  const prefix = publicPrefix && secret.startsWith(publicPrefix) ? publicPrefix : '';
  const rest = secret.slice(prefix.length);
  const shown = Math.min(4, Math.floor(rest.length / 4));
  return `${prefix}${rest.slice(0, shown)}…[redacted ${rest.length} chars]`;
}
