import type { SessionRecorder, SessionStart } from '../audit/index.ts';
import type { Clock } from '../clock.ts';

/**
 * Smart HTTP is stateless: one `git clone` is a GET of info/refs and one or more POSTs. A GET of
 * info/refs opens a session; POSTs from the same agent, address, client and repository join the
 * latest one seen within `idleMs`. A POST with no such session (a gateway restart in between, or a
 * request served by another replica) opens its own.
 */
export interface SessionTracker {
  sessionFor(start: SessionStart, opensSession: boolean): Promise<string>;
}

const DEFAULT_IDLE_MS = 120_000;
const MAX_TRACKED = 10_000;

export function createSessionTracker(recorder: SessionRecorder, clock: Clock, idleMs = DEFAULT_IDLE_MS): SessionTracker {
  const open = new Map<string, { id: string; lastSeen: number }>();

  function forget(now: number): void {
    for (const [key, entry] of open) {
      if (now - entry.lastSeen > idleMs || open.size > MAX_TRACKED) open.delete(key);
    }
  }

  return {
    async sessionFor(start, opensSession) {
      const now = clock.now().getTime();
      const key = [start.agent, start.sourceAddress, start.userAgent, start.remote, start.owner, start.repo, start.service].join('\u0000');
      const current = open.get(key);
      if (!opensSession && current && now - current.lastSeen <= idleMs) {
        current.lastSeen = now;
        return current.id;
      }
      forget(now);
      const id = await recorder.startSession(start);
      open.set(key, { id, lastSeen: now });
      return id;
    },
  };
}
