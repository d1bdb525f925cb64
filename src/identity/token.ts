import { createHash, randomBytes } from 'node:crypto';

/**
 * Tokens are `pcl_<kind>_<43 base64url chars>` (256 random bits). The prefix lets secret scanners
 * (ours included) recognise a leaked portcullis token; only the sha256 is ever stored.
 */
export type TokenKind = 'agent' | 'admin';

const TOKEN_PATTERN = /^pcl_(agent|admin)_[A-Za-z0-9_-]{43}$/;

export function generateToken(kind: TokenKind): string {
  return `pcl_${kind}_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function tokenKindOf(token: string): TokenKind | null {
  const match = TOKEN_PATTERN.exec(token);
  return match ? (match[1] as TokenKind) : null;
}

/** What may be shown of a token anywhere: its kind and a short fingerprint of its hash. */
export function redactToken(token: string): string {
  // Only the fixed prefix: the random part is base64url and may itself contain "_".
  const kind = tokenKindOf(token);
  return `${kind ? `pcl_${kind}_` : ''}…[sha256:${hashToken(token).slice(0, 12)}]`;
}
