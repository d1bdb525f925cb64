import { and, eq, sql } from 'drizzle-orm';
import type { Clock } from '../clock.ts';
import { tables, type Database } from '../store/index.ts';
import type { GitHubHoldRefusal } from '../store/schema.ts';

export type GitHubHoldRecord = typeof tables.githubHolds.$inferSelect;

/** Which pull request and check run show each hold on GitHub (keyed by approval id). */
export interface GitHubHoldRecords {
  save(record: Omit<GitHubHoldRecord, 'refusals' | 'createdAt' | 'updatedAt'>): Promise<void>;
  byApproval(approvalId: string): Promise<GitHubHoldRecord | null>;
  byCheckRun(checkRunId: number): Promise<GitHubHoldRecord | null>;
  byPull(owner: string, repo: string, pullNumber: number): Promise<GitHubHoldRecord | null>;
  /** Appends a refusal; returns every refusal of the hold so far. */
  recordRefusal(approvalId: string, refusal: GitHubHoldRefusal): Promise<GitHubHoldRefusal[]>;
}

export function createGitHubHoldRecords(db: Database, clock: Clock): GitHubHoldRecords {
  const holds = tables.githubHolds;
  const first = (rows: GitHubHoldRecord[]) => rows[0] ?? null;
  return {
    async save(record) {
      const now = clock.now();
      const row = { ...record, refusals: [], createdAt: now, updatedAt: now };
      await db
        .insert(holds)
        .values(row)
        .onConflictDoUpdate({ target: holds.approvalId, set: { ...record, updatedAt: now } });
    },
    byApproval: async (approvalId) => first(await db.select().from(holds).where(eq(holds.approvalId, approvalId))),
    byCheckRun: async (checkRunId) => first(await db.select().from(holds).where(eq(holds.checkRunId, checkRunId))),
    byPull: async (owner, repo, pullNumber) =>
      first(
        await db
          .select()
          .from(holds)
          .where(and(sql`lower(${holds.owner}) = ${owner.toLowerCase()}`, sql`lower(${holds.repo}) = ${repo.toLowerCase()}`, eq(holds.pullNumber, pullNumber))),
      ),
    async recordRefusal(approvalId, refusal) {
      const rows = await db
        .update(holds)
        .set({ refusals: sql`${holds.refusals} || ${JSON.stringify([refusal])}::jsonb`, updatedAt: clock.now() })
        .where(eq(holds.approvalId, approvalId))
        .returning({ refusals: holds.refusals });
      return rows[0]?.refusals ?? [refusal];
    },
  };
}
