export { createGitProxy, type GitExchange, type GitProxy, type GitProxyDeps } from './proxy.ts';
export { summarizeGitSession, type GitOperation, type GitSessionSummary } from './session-summary.ts';
export { configuredCredentials, upstreamRepoUrl, type GitEndpoint, type GitService, type RemoteCredentials, type RepoAddress } from './upstream.ts';
export { createHoldDecisions, type HoldDecisions } from './holds.ts';
