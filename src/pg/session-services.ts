import postgres from 'postgres';
import type { ApprovalStore } from '../approvals/index.ts';
import type { Clock } from '../clock.ts';
import type { DatabaseConfig } from '../config/index.ts';
import { parseSqlPolicyOverride, sqlPolicyFor, type Policy, type SqlPolicyOverride } from '../policy/index.ts';
import { createCatalogCache, type CatalogCache } from './mask/catalog-cache.ts';
import type { SessionContext, SessionServices } from './proxy.ts';
import { createResultMasking } from './result-masking.ts';
import { createSessionGuard } from './session-guard.ts';

export interface SessionServiceDeps {
  databases: readonly DatabaseConfig[];
  policy: Policy;
  approvals: ApprovalStore;
  approvalWindowMs: number;
  approvalTtlMs: number;
  /** Keys the `hash` mask style: stable across restarts so joins on masked values keep working. */
  maskKey: Buffer;
  recordingFailure(): Error | null;
  clock: Clock;
}

export interface SessionServiceFactory {
  services(context: SessionContext): Promise<SessionServices>;
  close(): Promise<void>;
}

/**
 * Per database: a small pool on the real credential for catalog lookups (relations, views,
 * functions, types), shared by every session on it, and the database's policy override validated
 * once. Per session: the guard (verdict cache, prepared statements) and the result masking.
 */
export function createSessionServiceFactory(deps: SessionServiceDeps): SessionServiceFactory {
  const overrides = new Map<string, SqlPolicyOverride | undefined>(
    deps.databases.map((database) => [database.name, database.policy ? parseSqlPolicyOverride(database.policy, `databases[${database.name}].policy`) : undefined]),
  );
  const pools = new Map<string, ReturnType<typeof postgres>>();
  const catalogs = new Map<string, CatalogCache>();

  const catalogFor = (database: DatabaseConfig): CatalogCache => {
    let catalog = catalogs.get(database.name);
    if (!catalog) {
      const pool = postgres(database.url, { max: 2, idle_timeout: 60, connect_timeout: 10, onnotice: () => undefined, prepare: false });
      pools.set(database.name, pool);
      catalog = createCatalogCache((text, parameters) => pool.unsafe(text, parameters as never[]) as unknown as Promise<Record<string, unknown>[]>);
      catalogs.set(database.name, catalog);
    }
    return catalog;
  };

  return {
    async services(context: SessionContext): Promise<SessionServices> {
      const policy = sqlPolicyFor(deps.policy, context.agent, overrides.get(context.database.name));
      const catalog = catalogFor(context.database);
      const masking = createResultMasking({ policy: policy.mask, key: deps.maskKey, catalog });
      const guard = createSessionGuard({
        agent: context.agent,
        database: context.database.name,
        sessionId: context.sessionId,
        readOnly: context.readOnly,
        policy,
        approvals: deps.approvals,
        approvalWindowMs: deps.approvalWindowMs,
        approvalTtlMs: deps.approvalTtlMs,
        viewBases: (name) => catalog.viewBases(name),
        prefetchRelations: (names) => catalog.prefetch({ relations: [...names], oids: [], functions: [] }),
        notice: context.notice,
        recordingFailure: deps.recordingFailure,
        redactText: (text) => masking.redactText(text),
        clock: deps.clock,
      });
      return { guard, masking, maxRows: policy.maxRows ?? null, recordRows: policy.recordRows };
    },
    async close() {
      await Promise.all([...pools.values()].map((pool) => pool.end({ timeout: 2 })));
    },
  };
}
