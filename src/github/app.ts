import { Probot } from 'probot';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { PortcullisError } from '../errors.ts';
import type { ApprovalStore, HoldEvents } from '../approvals/index.ts';
import type { HoldDecisions, RemoteCredentials } from '../git/index.ts';
import type { Database } from '../store/index.ts';
import { createGitHubAppApi, type GitHubAppApi } from './app-api.ts';
import { registerHoldActionHandlers } from './check-run-actions.ts';
import { createBypassLog, registerBypassHandler } from './bypass.ts';
import { createGitHubHoldRecords, type GitHubHoldRecords } from './hold-records.ts';
import { createGitHubHolds } from './holds-on-github.ts';
import { createRepoClients } from './repo-clients.ts';
import { createDeliveryLog, type DeliveryLog, type WebhookOutcome } from './deliveries.ts';
import type { AuditAppender } from '../audit/events.ts';
import { createGitHubCredentials, type GitHubCredentials } from './installation-credentials.ts';
import { registerInstallationHandlers } from './installation-handlers.ts';
import { createInstallationStore, type InstallationStore } from './installations.ts';
import type { GitHubAppSettings } from './settings.ts';

/** One webhook delivery as it arrived: headers as sent, the body as bytes were signed. */
export interface IncomingDelivery {
  /** `X-GitHub-Delivery` */
  id: string | undefined;
  /** `X-GitHub-Event` */
  event: string | undefined;
  /** `X-Hub-Signature-256` */
  signature: string | undefined;
  body: string;
  sourceAddress: string;
}

/**
 * The portcullis GitHub App: a probot instance (webhook verification and dispatch, the
 * app-authenticated client) plus what the gateway keeps about it. Later handlers (holds as pull
 * requests, findings, bypass detection) register on `probot` and call GitHub through `api` or
 * through installation tokens from `credentials`.
 */
export interface GitHubApp {
  settings: Pick<GitHubAppSettings, 'appId' | 'apiUrl' | 'gitUrl' | 'gheHost' | 'approverRole'>;
  probot: Probot;
  api: GitHubAppApi;
  /** Credentials for every remote: installation tokens for `github`, configured auth for the rest. */
  credentials: GitHubCredentials;
  installations: InstallationStore;
  deliveries: DeliveryLog;
  /** Holds on the `github` remote shown as a pull request and a `portcullis` check run. */
  holdEvents: HoldEvents;
  holdRecords: GitHubHoldRecords;
  /** Where Approve / Reject on GitHub go: the same decisions as the CLI and REST (set once built). */
  useHoldDecisions(decisions: HoldDecisions): void;
  /** Verifies the signature, dispatches to the handlers, records the delivery; throws a PortcullisError on refusal. */
  receive(delivery: IncomingDelivery): Promise<WebhookOutcome>;
}

export interface GitHubAppDeps {
  db: Database;
  clock: Clock;
  log: Logger;
  /** Credentials of the other remotes. */
  fallback: RemoteCredentials;
  /** The one approval store: decisions from GitHub read and change the same holds. */
  approvals: ApprovalStore;
  /** Each GitHub API call must be answered within this. */
  timeoutMs: number;
  /** The tamper-evident trail every webhook delivery is appended to. */
  audit: AuditAppender;
}

export async function createGitHubApp(settings: GitHubAppSettings, deps: GitHubAppDeps): Promise<GitHubApp> {
  const log = deps.log.child({ component: 'github' });
  const probot = new Probot({
    appId: settings.appId,
    privateKey: settings.privateKey,
    secret: settings.webhookSecret,
    baseUrl: settings.apiUrl,
    log,
  });
  await probot.ready();
  const appOctokit = await probot.auth();
  const api = createGitHubAppApi(appOctokit, { timeoutMs: deps.timeoutMs });
  const credentials = createGitHubCredentials({ api, clock: deps.clock, log, fallback: deps.fallback, apiUrl: settings.apiUrl });
  const installations = createInstallationStore(deps.db, deps.clock);
  const deliveries = createDeliveryLog(deps.db, deps.clock, deps.audit);
  const clients = createRepoClients({ appOctokit, apiUrl: settings.apiUrl, clock: deps.clock, log, timeoutMs: deps.timeoutMs });
  registerInstallationHandlers(probot, {
    installations,
    installationChanged: (id) => {
      credentials.installationChanged(id);
      clients.forgetInstallation(id);
    },
  });
  const holdRecords = createGitHubHoldRecords(deps.db, deps.clock);
  const holds = createGitHubHolds({ api, clients, records: holdRecords, log });
  let decisions: HoldDecisions | null = null;
  registerHoldActionHandlers(probot, {
    approvals: deps.approvals,
    decisions: () => decisions,
    holds,
    records: holdRecords,
    clients,
    db: deps.db,
    clock: deps.clock,
    log,
    approverRole: settings.approverRole,
  });

  registerBypassHandler(probot, { db: deps.db, clock: deps.clock, log, bypasses: createBypassLog(deps.db, deps.clock), api, clients, flag: settings.flagBypass });

  const refuse = async (error: PortcullisError, record: Parameters<DeliveryLog['record']>[0]): Promise<never> => {
    // The refusal stands even if the store cannot take the record; the failure is logged.
    await deliveries.record(record).catch((recordError: unknown) => log.error({ err: recordError }, 'could not record a refused webhook delivery'));
    throw error;
  };

  return {
    settings: { appId: settings.appId, apiUrl: settings.apiUrl, gitUrl: settings.gitUrl, gheHost: settings.gheHost, approverRole: settings.approverRole },
    probot,
    api,
    credentials,
    installations,
    deliveries,
    holdEvents: holds,
    holdRecords,
    useHoldDecisions(built) {
      decisions = built;
    },
    async receive(delivery) {
      const seen = { deliveryId: delivery.id ?? null, event: delivery.event ?? null, action: null, installationId: null, sourceAddress: delivery.sourceAddress };
      const signed = delivery.signature ? await probot.webhooks.verify(delivery.body, delivery.signature).catch(() => false) : false;
      if (!signed) {
        log.warn({ delivery: delivery.id, event: delivery.event, from: delivery.sourceAddress }, 'webhook delivery refused: bad or missing signature');
        return refuse(
          new PortcullisError('WEBHOOK_SIGNATURE_INVALID', `webhook signature ${delivery.signature ? 'does not match' : 'is missing (X-Hub-Signature-256)'}`, {
            hint: "the webhook secret in the GitHub App's settings must equal WEBHOOK_SECRET / github.webhookSecret",
          }),
          { ...seen, outcome: 'signature_invalid' },
        );
      }
      const payload = parseObject(delivery.body);
      if (!delivery.id || !delivery.event || !payload) {
        return refuse(new PortcullisError('WEBHOOK_INVALID', 'webhook delivery without X-GitHub-Delivery, X-GitHub-Event or a JSON object body'), {
          ...seen,
          outcome: 'malformed',
        });
      }
      const installation = payload.installation as { id?: unknown } | undefined;
      const facts = {
        ...seen,
        action: typeof payload.action === 'string' ? payload.action : null,
        installationId: typeof installation?.id === 'number' ? installation.id : null,
      };
      try {
        // Event names GitHub adds later reach no handler; that is not an error.
        await probot.receive({ id: delivery.id, name: delivery.event, payload } as unknown as Parameters<Probot['receive']>[0]);
      } catch (error) {
        await deliveries.record({ ...facts, outcome: 'handler_failed' }).catch(() => undefined);
        throw error;
      }
      await deliveries.record({ ...facts, outcome: 'processed' });
      return 'processed';
    },
  };
}

function parseObject(body: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
