import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Clock } from '../clock.ts';
import { tables, type Database } from '../store/index.ts';

export interface InstallationFacts {
  id: number;
  account: string;
  /** `Organization` or `User`. */
  targetType: string;
  repositorySelection: string;
  suspended: boolean;
}

export interface RepositoryName {
  owner: string;
  repo: string;
}

export interface InstallationRecord extends InstallationFacts {
  updatedAt: string;
  repositories: RepositoryName[];
}

/** The installations the webhooks told us about: what `github status` shows. */
export interface InstallationStore {
  /** Creates or updates the installation row (time-stamped now). */
  save(installation: InstallationFacts): Promise<void>;
  addRepositories(installationId: number, repositories: RepositoryName[]): Promise<void>;
  removeRepositories(installationId: number, repositories: RepositoryName[]): Promise<void>;
  /** The installation and its repositories are gone. */
  remove(installationId: number): Promise<void>;
  list(): Promise<InstallationRecord[]>;
}

export function createInstallationStore(db: Database, clock: Clock): InstallationStore {
  const installations = tables.githubInstallations;
  const repositories = tables.githubInstallationRepositories;
  return {
    async save(installation) {
      const row = { ...installation, updatedAt: clock.now() };
      await db.insert(installations).values(row).onConflictDoUpdate({ target: installations.id, set: row });
    },
    async addRepositories(installationId, added) {
      if (added.length === 0) return;
      await db
        .insert(repositories)
        .values(added.map((r) => ({ installationId, owner: r.owner, repo: r.repo })))
        .onConflictDoNothing();
    },
    async removeRepositories(installationId, removed) {
      for (const r of removed) {
        await db
          .delete(repositories)
          .where(and(eq(repositories.installationId, installationId), eq(repositories.owner, r.owner), eq(repositories.repo, r.repo)));
      }
    },
    async remove(installationId) {
      await db.delete(repositories).where(eq(repositories.installationId, installationId));
      await db.delete(installations).where(eq(installations.id, installationId));
    },
    async list() {
      const rows = await db.select().from(installations).orderBy(asc(installations.account), asc(installations.id));
      const ids = rows.map((row) => row.id);
      const repoRows =
        ids.length === 0
          ? []
          : await db.select().from(repositories).where(inArray(repositories.installationId, ids)).orderBy(asc(repositories.owner), asc(repositories.repo));
      return rows.map((row) => ({
        id: row.id,
        account: row.account,
        targetType: row.targetType,
        repositorySelection: row.repositorySelection,
        suspended: row.suspended,
        updatedAt: row.updatedAt.toISOString(),
        repositories: repoRows.filter((r) => r.installationId === row.id).map((r) => ({ owner: r.owner, repo: r.repo })),
      }));
    },
  };
}

/** `owner/repo` from a webhook's `full_name`. */
export function repositoryName(fullName: string): RepositoryName {
  const slash = fullName.indexOf('/');
  return { owner: fullName.slice(0, slash), repo: fullName.slice(slash + 1) };
}
