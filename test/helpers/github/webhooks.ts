/**
 * Webhook deliveries as GitHub makes them
 * (https://docs.github.com/webhooks/webhook-events-and-payloads#delivery-headers, and
 * https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries): a POST with the
 * JSON payload, `X-GitHub-Event`, a fresh `X-GitHub-Delivery` GUID, `X-Hub-Signature-256` =
 * `sha256=` + HMAC-SHA256(secret, raw body) in hex (plus the legacy SHA-1 `X-Hub-Signature`), and a
 * `GitHub-Hookshot/…` user agent. Payloads come from @octokit/webhooks-examples, brought up to
 * GitHub's current webhook schema (see `conformToCurrentSchema`).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

interface WebhookDefinition {
  name: string;
  actions: string[];
  examples: Array<Record<string, unknown>>;
}

type Json = Record<string, unknown>;

let definitions: WebhookDefinition[] | undefined;

function loadDefinitions(): WebhookDefinition[] {
  // 4 MB of JSON, read once; the package's `main` is api.github.com/index.json.
  definitions ??= createRequire(import.meta.url)('@octokit/webhooks-examples') as WebhookDefinition[];
  return definitions;
}

export interface ExamplePayloadOptions {
  /** The untouched example, without the schema patches below. Default false. */
  raw?: boolean;
}

/**
 * A deep copy of the first example payload for `event` (and `action`, when the event has
 * actions), patched to validate against GitHub's current webhook schema. Callers then set the
 * fields their test needs (installation id, repository, sender, sha).
 */
export function examplePayload<T extends object = Json>(event: string, action?: string, options: ExamplePayloadOptions = {}): T {
  const definition = loadDefinitions().find((d) => d.name === event);
  if (definition === undefined) throw new Error(`@octokit/webhooks-examples has no "${event}" event`);
  const example = definition.examples.find((e) => action === undefined || e.action === action);
  if (example === undefined) {
    const actions = [...new Set(definition.examples.map((e) => String(e.action)))].join(', ');
    throw new Error(`@octokit/webhooks-examples has no ${event} example with action "${action}" (has: ${actions})`);
  }
  const payload = structuredClone(example);
  if (options.raw !== true) conformToCurrentSchema(payload);
  return payload as T;
}

/**
 * The examples predate GitHub's published webhook schema (`x-webhooks` in @octokit/openapi 23,
 * checked by test/unit/github-helpers/webhooks.test.ts). Fields added since, filled in here with
 * what GitHub sends for an ordinary repository:
 * - repositories (`repository`, `pull_request.base.repo`, `pull_request.head.repo`): lack
 *   `has_discussions` (false), `topics` ([]), `visibility` (from `private`); an empty `homepage`
 *   string fails the schema's `uri` format, and GitHub sends null for "no homepage";
 * - pull requests: lack `auto_merge` (null: not enabled), `draft` (false), `active_lock_reason` (null);
 * - full installation objects (installation and installation_repositories events): `created_at`
 *   and `updated_at` are Unix seconds where GitHub now sends ISO 8601 strings; `app_slug` (set to
 *   'portcullis'), `suspended_by` and `suspended_at` (null) are missing;
 * - installation_repositories: `requester` is missing (null: nobody requested the change).
 */
function conformToCurrentSchema(payload: Json): void {
  fillRepository(payload.repository);
  const pull = asObject(payload.pull_request);
  if (pull !== undefined) {
    pull.auto_merge ??= null;
    pull.draft ??= false;
    pull.active_lock_reason ??= null;
    fillRepository(asObject(pull.base)?.repo);
    fillRepository(asObject(pull.head)?.repo);
  }
  const installation = asObject(payload.installation);
  if (installation !== undefined && installation.account !== undefined) {
    for (const field of ['created_at', 'updated_at'] as const) {
      if (typeof installation[field] === 'number') installation[field] = new Date(installation[field] * 1000).toISOString().replace('.000Z', 'Z');
    }
    installation.app_slug ??= 'portcullis';
    installation.suspended_by ??= null;
    installation.suspended_at ??= null;
  }
  if (payload.repositories_added !== undefined || payload.repositories_removed !== undefined) payload.requester ??= null;
}

function fillRepository(value: unknown): void {
  const repo = asObject(value);
  if (repo === undefined) return;
  repo.has_discussions ??= false;
  repo.topics ??= [];
  repo.visibility ??= repo.private === true ? 'private' : 'public';
  if (repo.homepage === '') repo.homepage = null;
}

function asObject(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

/** `sha256=<hex>`: HMAC-SHA256 of the exact bytes sent, keyed by the webhook secret. */
export function signWebhookBody(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface DeliverWebhookOptions {
  /** Default: a fresh UUID, as GitHub sends. */
  deliveryId?: string;
  /** Send this signature instead of the computed one; null to send none. */
  signature?: string | null;
  /** Send these bytes instead of JSON.stringify(payload) (signed as sent unless `signature` is given). */
  rawBody?: string;
  /** Fills X-GitHub-Hook-Installation-Target-ID (target type `integration`), as for App webhooks. */
  appId?: number;
  /** Extra or overriding headers. */
  headers?: Record<string, string>;
}

export interface WebhookDelivery {
  status: number;
  body: string;
  deliveryId: string;
  headers: Headers;
}

export async function deliverWebhook(url: string, event: string, payload: object, secret: string, options: DeliverWebhookOptions = {}): Promise<WebhookDelivery> {
  const body = options.rawBody ?? JSON.stringify(payload);
  const deliveryId = options.deliveryId ?? randomUUID();
  const headers: Record<string, string> = {
    accept: '*/*',
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/7b3a1f4',
    'x-github-event': event,
    'x-github-delivery': deliveryId,
    'x-github-hook-id': '123456789',
  };
  if (options.appId !== undefined) {
    headers['x-github-hook-installation-target-type'] = 'integration';
    headers['x-github-hook-installation-target-id'] = String(options.appId);
  }
  const signature = options.signature === undefined ? signWebhookBody(secret, body) : options.signature;
  if (signature !== null) {
    headers['x-hub-signature-256'] = signature;
    if (options.signature === undefined) headers['x-hub-signature'] = `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`;
  }
  const response = await fetch(url, { method: 'POST', headers: { ...headers, ...options.headers }, body });
  return { status: response.status, body: await response.text(), deliveryId, headers: response.headers };
}
