import type { Clock } from '../clock.ts';

export type RepoAccess = 'read' | 'write';

/** One installation token's scope: one repository, one access level (GitHub narrows it to that). */
export interface InstallationTokenScope {
  installationId: number;
  owner: string;
  repo: string;
  access: RepoAccess;
}

export interface MintedToken {
  token: string;
  /** GitHub's `expires_at` (an hour after minting today; read, never assumed). */
  expiresAt: Date;
}

export interface InstallationTokenCache {
  /** A token for the scope: the cached one while it has more than `renewBeforeMs` left, else a new one. */
  tokenFor(scope: InstallationTokenScope): Promise<string>;
  /** Drops every token of an installation (it was deleted, suspended or changed its repositories). */
  forgetInstallation(installationId: number): void;
  /** How many tokens are held; for tests. */
  readonly size: number;
}

/** Tokens are renewed this long before GitHub's expiry, so none expires in the middle of a clone. */
export const TOKEN_RENEW_BEFORE_MS = 5 * 60_000;
const MAX_TOKENS = 10_000;

export interface InstallationTokenCacheOptions {
  clock: Clock;
  mint(scope: InstallationTokenScope): Promise<MintedToken>;
  renewBeforeMs?: number;
  maxTokens?: number;
}

/**
 * Installation tokens per (installation, repository, access). Concurrent requests for the same
 * scope share one mint (a clone is several HTTP requests in a row). Tokens live in memory only.
 */
export function createInstallationTokenCache(options: InstallationTokenCacheOptions): InstallationTokenCache {
  const renewBeforeMs = options.renewBeforeMs ?? TOKEN_RENEW_BEFORE_MS;
  const maxTokens = options.maxTokens ?? MAX_TOKENS;
  const tokens = new Map<string, MintedToken & { installationId: number }>();
  const minting = new Map<string, Promise<string>>();

  const usable = (token: MintedToken) => token.expiresAt.getTime() - renewBeforeMs > options.clock.now().getTime();

  const remember = (key: string, installationId: number, minted: MintedToken) => {
    tokens.delete(key);
    if (!usable(minted)) return;
    for (const [other, held] of tokens) {
      if (!usable(held)) tokens.delete(other);
    }
    // Map iteration is insertion order: the first entry is the oldest.
    while (tokens.size >= maxTokens) tokens.delete(tokens.keys().next().value!);
    tokens.set(key, { ...minted, installationId });
  };

  return {
    async tokenFor(scope) {
      const key = `${scope.installationId}/${scope.owner.toLowerCase()}/${scope.repo.toLowerCase()}/${scope.access}`;
      const cached = tokens.get(key);
      if (cached && usable(cached)) return cached.token;
      const pending = minting.get(key);
      if (pending) return pending;
      const minted = options
        .mint(scope)
        .then((token) => {
          // A token minted after forgetInstallation() began is still one GitHub just issued: keep it.
          remember(key, scope.installationId, token);
          return token.token;
        })
        .finally(() => minting.delete(key));
      minting.set(key, minted);
      return minted;
    },
    forgetInstallation(installationId) {
      for (const [key, held] of tokens) {
        if (held.installationId === installationId) tokens.delete(key);
      }
    },
    get size() {
      return tokens.size;
    },
  };
}
