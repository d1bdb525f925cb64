import type { Probot } from 'probot';
import { repositoryName, type InstallationFacts, type InstallationStore } from './installations.ts';

interface InstallationPayload {
  id: number;
  account: { login?: string; slug?: string; name?: string | null } | null;
  target_type: string;
  repository_selection: string;
  suspended_at?: string | null;
}

export interface InstallationHandlerDeps {
  installations: InstallationStore;
  /** Told whenever an installation changes, so cached lookups and tokens are dropped. */
  installationChanged(installationId: number): void;
}

/**
 * `installation` and `installation_repositories` keep the installation tables current
 * (https://docs.github.com/webhooks/webhook-events-and-payloads#installation).
 */
export function registerInstallationHandlers(probot: Probot, deps: InstallationHandlerDeps): void {
  probot.on('installation', async ({ payload }) => {
    const installation = facts(payload.installation, payload.action === 'suspend' ? true : payload.action === 'unsuspend' ? false : undefined);
    deps.installationChanged(installation.id);
    if (payload.action === 'deleted') return deps.installations.remove(installation.id);
    await deps.installations.save(installation);
    if (payload.action === 'created' && payload.repositories) {
      await deps.installations.addRepositories(
        installation.id,
        payload.repositories.map((r) => repositoryName(r.full_name)),
      );
    }
  });

  probot.on('installation_repositories', async ({ payload }) => {
    const installation = facts({ ...payload.installation, repository_selection: payload.repository_selection });
    deps.installationChanged(installation.id);
    await deps.installations.save(installation);
    await deps.installations.addRepositories(installation.id, payload.repositories_added.map((r) => repositoryName(r.full_name)));
    const removed = payload.repositories_removed.flatMap((r) => (r.full_name ? [repositoryName(r.full_name)] : []));
    await deps.installations.removeRepositories(installation.id, removed);
  });
}

function facts(installation: InstallationPayload, suspended?: boolean): InstallationFacts {
  const account = installation.account;
  return {
    id: installation.id,
    // An enterprise-wide installation's account has a slug, not a login.
    account: account?.login ?? account?.slug ?? account?.name ?? `installation ${installation.id}`,
    targetType: installation.target_type,
    repositorySelection: installation.repository_selection,
    suspended: suspended ?? Boolean(installation.suspended_at),
  };
}
