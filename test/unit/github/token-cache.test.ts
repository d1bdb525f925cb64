import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/clock.ts';
import { createInstallationTokenCache, TOKEN_RENEW_BEFORE_MS, type InstallationTokenScope, type MintedToken } from '../../../src/github/index.ts';

const HOUR = 60 * 60_000;
const MINUTE = 60_000;

function manualClock(start = Date.parse('2026-03-01T10:00:00Z')): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => new Date(now), advance: (ms) => void (now += ms) };
}

/** A mint that answers like GitHub: a fresh token valid for an hour from the clock's now. */
function fakeMint(clock: Clock, ttlMs = HOUR) {
  const minted: Array<InstallationTokenScope & { token: string }> = [];
  const mint = async (scope: InstallationTokenScope): Promise<MintedToken> => {
    const token = `ghs_fake_${minted.length + 1}`;
    minted.push({ ...scope, token });
    return { token, expiresAt: new Date(clock.now().getTime() + ttlMs) };
  };
  return { mint, minted };
}

const scope = (overrides: Partial<InstallationTokenScope> = {}): InstallationTokenScope => ({ installationId: 1, owner: 'acme', repo: 'app', access: 'read', ...overrides });

describe('installation token cache', () => {
  it('renews 5 minutes before expires_at, not before, not after', async () => {
    expect(TOKEN_RENEW_BEFORE_MS).toBe(5 * MINUTE);
    const clock = manualClock();
    const { mint, minted } = fakeMint(clock);
    const cache = createInstallationTokenCache({ clock, mint });
    expect(await cache.tokenFor(scope())).toBe('ghs_fake_1');
    clock.advance(HOUR - 5 * MINUTE - 1);
    expect(await cache.tokenFor(scope())).toBe('ghs_fake_1');
    clock.advance(1);
    expect(await cache.tokenFor(scope())).toBe('ghs_fake_2');
    expect(minted).toHaveLength(2);
    clock.advance(30 * MINUTE);
    expect(await cache.tokenFor(scope())).toBe('ghs_fake_2');
  });

  it('keys by installation, repository and access: a token for one repo never serves another', async () => {
    const clock = manualClock();
    const { mint, minted } = fakeMint(clock);
    const cache = createInstallationTokenCache({ clock, mint });
    const tokens = await Promise.all([
      cache.tokenFor(scope()),
      cache.tokenFor(scope({ repo: 'infra' })),
      cache.tokenFor(scope({ access: 'write' })),
      cache.tokenFor(scope({ installationId: 2 })),
    ]);
    expect(new Set(tokens).size).toBe(4);
    expect(minted.map(({ installationId, repo, access }) => `${installationId}/${repo}/${access}`)).toEqual(['1/app/read', '1/infra/read', '1/app/write', '2/app/read']);
    // Repository names are case-insensitive on GitHub: the same repo, the same token.
    expect(await cache.tokenFor(scope({ owner: 'ACME', repo: 'App' }))).toBe(tokens[0]);
    expect(cache.size).toBe(4);
  });

  it('mints once for concurrent requests of one scope (a clone is several requests)', async () => {
    const clock = manualClock();
    const { mint, minted } = fakeMint(clock);
    const cache = createInstallationTokenCache({ clock, mint });
    const tokens = await Promise.all([cache.tokenFor(scope()), cache.tokenFor(scope()), cache.tokenFor(scope())]);
    expect(tokens).toEqual(['ghs_fake_1', 'ghs_fake_1', 'ghs_fake_1']);
    expect(minted).toHaveLength(1);
  });

  it('does not keep a failed mint, nor a token already inside the renewal window', async () => {
    const clock = manualClock();
    let fail = true;
    const { mint, minted } = fakeMint(clock, 4 * MINUTE);
    const cache = createInstallationTokenCache({
      clock,
      mint: async (s) => {
        if (fail) throw Object.assign(new Error('Bad credentials'), { status: 401, response: {} });
        return mint(s);
      },
    });
    await expect(cache.tokenFor(scope())).rejects.toThrow('Bad credentials');
    fail = false;
    expect(await cache.tokenFor(scope())).toBe('ghs_fake_1');
    expect(await cache.tokenFor(scope())).toBe('ghs_fake_2');
    expect(minted).toHaveLength(2);
    expect(cache.size).toBe(0);
  });

  it('forgets an installation when told (deleted, suspended, repositories changed)', async () => {
    const clock = manualClock();
    const { mint } = fakeMint(clock);
    const cache = createInstallationTokenCache({ clock, mint });
    await cache.tokenFor(scope());
    await cache.tokenFor(scope({ installationId: 2 }));
    cache.forgetInstallation(1);
    expect(cache.size).toBe(1);
    expect(await cache.tokenFor(scope())).toBe('ghs_fake_3');
  });

  it('holds a bounded number of tokens, dropping the oldest', async () => {
    const clock = manualClock();
    const { mint } = fakeMint(clock);
    const cache = createInstallationTokenCache({ clock, mint, maxTokens: 2 });
    await cache.tokenFor(scope({ repo: 'a' }));
    await cache.tokenFor(scope({ repo: 'b' }));
    await cache.tokenFor(scope({ repo: 'c' }));
    expect(cache.size).toBe(2);
    expect(await cache.tokenFor(scope({ repo: 'c' }))).toBe('ghs_fake_3');
    expect(await cache.tokenFor(scope({ repo: 'a' }))).toBe('ghs_fake_4');
  });
});
