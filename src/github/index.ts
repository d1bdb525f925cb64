export { createGitHubApp, type GitHubApp, type GitHubAppDeps, type IncomingDelivery } from './app.ts';
export { createGitHubAppApi, statusOf, type GitHubAppApi } from './app-api.ts';
export { createDeliveryLog, type DeliveryLog, type DeliveryRecord, type WebhookOutcome } from './deliveries.ts';
export { createGitHubCredentials, type GitHubCredentials, type GitHubCredentialsDeps } from './installation-credentials.ts';
export { createInstallationStore, type InstallationRecord, type InstallationStore } from './installations.ts';
export { normalizePrivateKey } from './private-key.ts';
export { githubApiRoutes, githubWebhookRoutes } from './routes.ts';
export { GITHUB_REMOTE, remotesWithGitHubApp, resolveGitHubAppSettings, type GitHubAppSettings } from './settings.ts';
export {
  createInstallationTokenCache,
  TOKEN_RENEW_BEFORE_MS,
  type InstallationTokenCache,
  type InstallationTokenScope,
  type MintedToken,
  type RepoAccess,
} from './token-cache.ts';
