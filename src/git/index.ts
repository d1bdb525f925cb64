export { createGitProxy, type GitExchange, type GitProxy, type GitProxyDeps } from './proxy.ts';
export { summarizeGitSession, type GitOperation, type GitSessionSummary } from './session-summary.ts';
export type { GitEndpoint, GitService } from './upstream.ts';
export { createHoldDecisions, type HoldDecisions } from './holds.ts';
