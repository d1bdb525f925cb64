import type { StoredApproval } from './store.ts';

/**
 * What a forge integration hears about holds, so every surface shows one state: a hold waiting
 * upstream (open a pull request and a check run) and a hold decided anywhere (CLI, REST, console,
 * the forge itself) or expired. A listener's failure is logged by the caller, never fatal: the
 * approval store stays the truth.
 */
export interface HoldEvents {
  held(approval: StoredApproval): Promise<void>;
  decided(approval: StoredApproval): Promise<void>;
}

export const noHoldEvents: HoldEvents = {
  held: async () => undefined,
  decided: async () => undefined,
};
