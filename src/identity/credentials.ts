/**
 * Agents present a credential the way git credential helpers send one (HTTP Basic, any username,
 * password = token) or as `Authorization: Bearer <token>`.
 */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function credentialFromAuthorization(header: string | undefined | null): string | null {
  if (!header) return null;
  const space = header.indexOf(' ');
  if (space < 0) return null;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer') return value || null;
  if (scheme !== 'basic') return null;
  // Buffer.from skips characters outside the alphabet; a malformed value is no credential at all.
  if (!BASE64.test(value)) return null;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  return password || null;
}
