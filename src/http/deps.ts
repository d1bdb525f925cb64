import type { Logger } from 'pino';
import type { ApprovalStore } from '../approvals/index.ts';
import type { DbSessionLog, Metrics, SessionRecorder } from '../audit/index.ts';
import type { Policy } from '../policy/index.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/index.ts';
import type { GitProxy, HoldDecisions } from '../git/index.ts';
import type { GitHubApp } from '../github/index.ts';
import type { Authenticator } from '../identity/index.ts';
import type { Store } from '../store/index.ts';
import type { AuditLog } from '../audit/chain-store/index.ts';

/** Everything the HTTP surface needs, built once by the CLI (Teleport's EngineConfig idea). */
export interface GatewayDeps {
  config: Config;
  store: Store;
  authenticator: Authenticator;
  recorder: SessionRecorder;
  /** Database sessions and their statements, recorded by the PostgreSQL proxy. */
  dbSessions: DbSessionLog;
  metrics: Metrics;
  git: GitProxy;
  approvals: ApprovalStore;
  /** Approving or denying a hold, and applying the approved update upstream. */
  holds: HoldDecisions;
  policy: Policy;
  /** The policy file read, or null when running on the built-in default policy. */
  policySource: string | null;
  /** The GitHub App, or null when it is not configured (no app id). */
  github: GitHubApp | null;
  log: Logger;
  clock: Clock;
  /** The tamper-evident audit chain (src/audit/chain-store/): append events, verify, export. */
  audit: AuditLog;
}

/** Hono context variables and bindings. `controlSocket` marks requests from the local admin socket. */
export interface GatewayEnv {
  Bindings: { incoming: import('node:http').IncomingMessage; outgoing: import('node:http').ServerResponse; controlSocket?: boolean };
}
