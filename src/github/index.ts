export { createGitHubApp, type GitHubApp, type GitHubAppDeps, type IncomingDelivery } from './app.ts';
export { createGitHubAppApi, statusOf, type GitHubAppApi } from './app-api.ts';
export { createDeliveryLog, type DeliveryLog, type DeliveryRecord, type WebhookOutcome } from './deliveries.ts';
export { createGitHubCredentials, type GitHubCredentials, type GitHubCredentialsDeps } from './installation-credentials.ts';
export { createInstallationStore, type InstallationRecord, type InstallationStore } from './installations.ts';
export { normalizePrivateKey } from './private-key.ts';
export { githubApiRoutes, githubWebhookRoutes } from './routes.ts';
export { APPROVER_ROLES, GITHUB_REMOTE, remotesWithGitHubApp, resolveGitHubAppSettings, type ApproverRole, type GitHubAppSettings } from './settings.ts';
export {
  createInstallationTokenCache,
  TOKEN_RENEW_BEFORE_MS,
  type InstallationTokenCache,
  type InstallationTokenScope,
  type MintedToken,
  type RepoAccess,
} from './token-cache.ts';
export { registerHoldActionHandlers, roleMeets, type HoldActionDeps } from './check-run-actions.ts';
export { CHECK_NAME, decidedOutcome, heldCheckOutput, HOLD_ACTIONS, pullBody, pullTitle } from './hold-messages.ts';
export { createGitHubHoldRecords, type GitHubHoldRecord, type GitHubHoldRecords } from './hold-records.ts';
export { createGitHubHolds, type GitHubHolds, type GitHubHoldsDeps } from './holds-on-github.ts';
export { createRepoClients, HOLD_TOKEN_PERMISSIONS, type RepoClients } from './repo-clients.ts';
