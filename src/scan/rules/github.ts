/**
 * GitHub tokens (https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/):
 * classic tokens are a type prefix (`ghp_` personal, `gho_` OAuth, `ghu_` user-to-server, `ghs_`
 * server-to-server, `ghr_` refresh), 30 random base62 characters and a 6-character base62 CRC-32 of
 * those 30. Checking the CRC drops look-alikes (docs examples, truncated or hand-typed strings) that
 * secretlint's GitHub rule reports. Fine-grained tokens (`github_pat_` + 22 + `_` + 59) carry no
 * publicly documented checksum, so only their shape and entropy are checked.
 */
import { looksLikePlaceholder, shannonEntropy } from '../entropy.ts';
import { crc32, toBase62 } from './crc32.ts';
import { PRIORITY, type PatternRule } from './rule.ts';

/** True when a classic token's last 6 characters are the base62 CRC-32 of the 30 before them. */
export function hasValidGitHubChecksum(token: string): boolean {
  const body = token.slice(token.indexOf('_') + 1);
  if (!/^[A-Za-z0-9]{36}$/.test(body)) return false;
  return toBase62(crc32(body.slice(0, 30)), 6) === body.slice(30);
}

const MESSAGE = 'GitHub token: revoke it (Settings → Developer settings → tokens) and load it from a secret store at run time';

export const githubRules: PatternRule[] = [
  {
    id: 'github-token',
    message: MESSAGE,
    keywords: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'],
    pattern: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36}(?![A-Za-z0-9_])/,
    publicPrefix: (s) => s.slice(0, 4),
    accept: (token) => hasValidGitHubChecksum(token),
    priority: PRIORITY.provider,
  },
  {
    id: 'github-token',
    message: MESSAGE,
    keywords: ['github_pat_'],
    pattern: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}(?![A-Za-z0-9_])/,
    publicPrefix: () => 'github_pat_',
    accept: (token) => !looksLikePlaceholder(token.slice(11)) && shannonEntropy(token.slice(11)) > 4,
    priority: PRIORITY.provider,
  },
];
