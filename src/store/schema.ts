import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, json, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * An agent identity with its token. The token itself is never stored: only its sha256. A revoked
 * row stays (the trail names it); the name can be issued again, as a new row.
 */
export const agents = pgTable(
  'agents',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull(),
    readScopes: jsonb('read_scopes').$type<string[]>().notNull(),
    writeScopes: jsonb('write_scopes').$type<string[]>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
    /** The GitHub login the agent commits and acts as, if any: it may never approve its own holds. */
    githubLogin: text('github_login'),
    /** Databases (names from portcullis.yml, globs) it may read and change through the PostgreSQL proxy. */
    dbScopes: jsonb('db_scopes').$type<string[]>().notNull().default([]),
    /** Databases it may only read: the upstream session is forced read-only. */
    dbReadScopes: jsonb('db_read_scopes').$type<string[]>().notNull().default([]),
    /**
     * The token's SCRAM-SHA-256 verifier in PostgreSQL's own format, so psql can authenticate with
     * the token without the gateway ever storing it. Null for tokens issued before database access.
     */
    scramVerifier: text('scram_verifier'),
  },
  (t) => [
    uniqueIndex('agents_token_hash_key').on(t.tokenHash),
    uniqueIndex('agents_active_name_key').on(t.name).where(sql`${t.revokedAt} is null`),
  ],
);

export const adminTokens = pgTable(
  'admin_tokens',
  {
    id: text('id').primaryKey(),
    label: text('label').notNull(),
    tokenHash: text('token_hash').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [uniqueIndex('admin_tokens_token_hash_key').on(t.tokenHash)],
);

/**
 * One git operation (clone, fetch, ls-remote, push) as the agent experienced it: git makes several
 * HTTP requests per operation, each a row of `session_requests`. Totals are derived from those rows.
 */
export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    kind: text('kind').$type<'git'>().notNull(),
    agent: text('agent').notNull(),
    authMethod: text('auth_method').$type<'token' | 'oidc'>().notNull(),
    sourceAddress: text('source_address').notNull(),
    userAgent: text('user_agent'),
    remote: text('remote').notNull(),
    owner: text('owner').notNull(),
    repo: text('repo').notNull(),
    service: text('service').notNull(),
    protocolVersion: integer('protocol_version').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    index('sessions_started_at_idx').on(t.startedAt),
    index('sessions_agent_idx').on(t.agent, t.startedAt),
    index('sessions_repo_idx').on(t.owner, t.repo, t.startedAt),
  ],
);

export const sessionRequests = pgTable(
  'session_requests',
  {
    id: text('id').primaryKey(),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id),
    method: text('method').notNull(),
    /** `info/refs`, `git-upload-pack` or `git-receive-pack`. */
    endpoint: text('endpoint').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }).notNull(),
    durationMs: integer('duration_ms').notNull(),
    httpStatus: integer('http_status').notNull(),
    outcome: text('outcome').$type<RequestOutcome>().notNull(),
    bytesIn: bigint('bytes_in', { mode: 'number' }).notNull(),
    bytesOut: bigint('bytes_out', { mode: 'number' }).notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [index('session_requests_session_idx').on(t.sessionId, t.startedAt)],
);

export type RequestOutcome = 'in_progress' | 'ok' | 'denied' | 'client_error' | 'upstream_error' | 'aborted';

export type ApprovalKind = 'git' | 'sql';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'applied' | 'stale';

/**
 * A held ref update waiting for a human. The pushed commit sits upstream on `held_ref`; approving
 * moves `ref` from `old_oid` to `new_oid` (lease) and deletes `held_ref`.
 */
export const approvals = pgTable(
  'approvals',
  {
    id: text('id').primaryKey(),
    /**
     * `git`: a held ref update (the columns below as documented). `sql`: a held statement; then
     * `remote` is `postgres`, `owner` the database, `repo` and the ref columns empty, `new_oid` the
     * sha256 of the statement text and `summary` the statement (sensitive values masked) and rule.
     */
    kind: text('kind').$type<ApprovalKind>().notNull().default('git'),
    sessionId: text('session_id').references(() => sessions.id),
    agent: text('agent').notNull(),
    remote: text('remote').notNull(),
    owner: text('owner').notNull(),
    repo: text('repo').notNull(),
    ref: text('ref').notNull(),
    heldRef: text('held_ref').notNull(),
    oldOid: text('old_oid').notNull(),
    newOid: text('new_oid').notNull(),
    status: text('status').$type<ApprovalStatus>().notNull(),
    reasons: jsonb('reasons').$type<string[]>().notNull(),
    /** Commits and changed files of the held update, for reviewers. */
    summary: jsonb('summary').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true, mode: 'date' }),
    comment: text('comment'),
    appliedAt: timestamp('applied_at', { withTimezone: true, mode: 'date' }),
    staleReason: text('stale_reason'),
  },
  (t) => [index('approvals_status_idx').on(t.status, t.createdAt), index('approvals_repo_idx').on(t.owner, t.repo, t.createdAt)],
);

/** Every transition of an approval, in order: who did what, when. */
export const approvalEvents = pgTable(
  'approval_events',
  {
    id: text('id').primaryKey(),
    approvalId: text('approval_id')
      .notNull()
      .references(() => approvals.id),
    type: text('type').notNull(),
    actor: text('actor'),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull(),
  },
  (t) => [index('approval_events_approval_idx').on(t.approvalId, t.at)],
);

/** A time-boxed window in which an agent's pushes to matching refs pass without a hold. */
export const grants = pgTable(
  'grants',
  {
    id: text('id').primaryKey(),
    agent: text('agent').notNull(),
    refPattern: text('ref_pattern').notNull(),
    /** `remote/owner/repo` glob; `*\/*\/*` for every repository. */
    repoPattern: text('repo_pattern').notNull(),
    grantedBy: text('granted_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('grants_agent_idx').on(t.agent, t.expiresAt)],
);

/** A secret found in a pushed commit: never the secret, only where, what kind, a redacted preview and its sha256. */
export const findings = pgTable(
  'findings',
  {
    id: text('id').primaryKey(),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id),
    commit: text('commit').notNull(),
    path: text('path').notNull(),
    line: integer('line').notNull(),
    ruleId: text('rule_id').notNull(),
    preview: text('preview').notNull(),
    fingerprint: text('fingerprint').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('findings_session_idx').on(t.sessionId), index('findings_fingerprint_idx').on(t.fingerprint)],
);

/** A GitHub App installation, kept from `installation` webhooks (`github status` lists them). */
export const githubInstallations = pgTable('github_installations', {
  id: bigint('id', { mode: 'number' }).primaryKey(),
  account: text('account').notNull(),
  /** `Organization` or `User`. */
  targetType: text('target_type').notNull(),
  /** `all` or `selected`; with `all`, the repository rows are those GitHub listed, not every repository. */
  repositorySelection: text('repository_selection').notNull(),
  suspended: boolean('suspended').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
});

/** The repositories an installation covers, kept from `installation` and `installation_repositories` webhooks. */
export const githubInstallationRepositories = pgTable(
  'github_installation_repositories',
  {
    installationId: bigint('installation_id', { mode: 'number' })
      .notNull()
      .references(() => githubInstallations.id, { onDelete: 'cascade' }),
    owner: text('owner').notNull(),
    repo: text('repo').notNull(),
  },
  (t) => [primaryKey({ columns: [t.installationId, t.owner, t.repo] })],
);

export type WebhookOutcome = 'processed' | 'signature_invalid' | 'malformed' | 'handler_failed';

/** Every delivery to `POST /github/webhooks`, signed or not: what came, from where, what became of it. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    /** `X-GitHub-Delivery` (GitHub's GUID; the same on a redelivery); as sent, even when the signature is bad. */
    deliveryId: text('delivery_id'),
    /** `X-GitHub-Event`, as sent. */
    event: text('event'),
    /** From the payload, only once its signature is verified. */
    action: text('action'),
    installationId: bigint('installation_id', { mode: 'number' }),
    sourceAddress: text('source_address').notNull(),
    outcome: text('outcome').$type<WebhookOutcome>().notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('webhook_deliveries_at_idx').on(t.at)],
);

/**
 * A hold on the `github` remote as GitHub shows it: the pull request from its held branch and the
 * `portcullis` check run on the held sha, so webhooks find the hold and decisions update both.
 */
export const githubHolds = pgTable(
  'github_holds',
  {
    approvalId: text('approval_id')
      .primaryKey()
      .references(() => approvals.id),
    installationId: bigint('installation_id', { mode: 'number' }).notNull(),
    owner: text('owner').notNull(),
    repo: text('repo').notNull(),
    /** The held sha the check run is on; an approval from GitHub must name exactly this commit. */
    headSha: text('head_sha').notNull(),
    pullNumber: integer('pull_number'),
    checkRunId: bigint('check_run_id', { mode: 'number' }),
    /** Approvals or rejections from GitHub that were refused, and why, oldest first. */
    refusals: jsonb('refusals').$type<GitHubHoldRefusal[]>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('github_holds_pull_idx').on(t.owner, t.repo, t.pullNumber), index('github_holds_check_run_idx').on(t.checkRunId)],
);

export interface GitHubHoldRefusal {
  at: string;
  login: string;
  /** `check_run.requested_action` (approve/reject) or `pull_request_review`. */
  via: string;
  reason: string;
}

/**
 * A push to GitHub that did not come through the gateway, by a login linked to an agent: recorded
 * from the `push` webhook (and, with `github.flagBypass`, flagged with a failing check run).
 */
export const bypasses = pgTable(
  'bypasses',
  {
    id: text('id').primaryKey(),
    /** `X-GitHub-Delivery` of the push webhook. */
    deliveryId: text('delivery_id').notNull(),
    remote: text('remote').notNull(),
    owner: text('owner').notNull(),
    repo: text('repo').notNull(),
    ref: text('ref').notNull(),
    before: text('before').notNull(),
    after: text('after').notNull(),
    pusherLogin: text('pusher_login').notNull(),
    agent: text('agent').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('bypasses_at_idx').on(t.at), uniqueIndex('bypasses_delivery_ref_key').on(t.deliveryId, t.ref)],
);

export type DbSessionOutcome = 'in_progress' | 'ok' | 'denied' | 'client_error' | 'upstream_error' | 'aborted';

/** One client connection to the PostgreSQL proxy, from startup to Terminate or disconnect. */
export const dbSessions = pgTable(
  'db_sessions',
  {
    id: text('id').primaryKey(),
    /** Null when the connection never authenticated (the attempt is still recorded). */
    agent: text('agent'),
    authMethod: text('auth_method').$type<'scram' | 'password' | 'oidc'>(),
    sourceAddress: text('source_address').notNull(),
    database: text('database').notNull(),
    applicationName: text('application_name'),
    readOnly: boolean('read_only').notNull(),
    tls: boolean('tls').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }).notNull(),
    endedAt: timestamp('ended_at', { withTimezone: true, mode: 'date' }),
    outcome: text('outcome').$type<DbSessionOutcome>().notNull(),
    /** Why the session was refused or ended abnormally, for people. */
    error: text('error'),
    bytesIn: bigint('bytes_in', { mode: 'number' }).notNull().default(0),
    bytesOut: bigint('bytes_out', { mode: 'number' }).notNull().default(0),
  },
  (t) => [index('db_sessions_started_at_idx').on(t.startedAt), index('db_sessions_agent_idx').on(t.agent, t.startedAt)],
);

export type SqlVerdictName = 'allow' | 'hold' | 'block';

/** One statement an agent sent, as recorded (inside `db_statement_batches.statements`). */
export interface RecordedDbStatement {
  seq: number;
  /** ISO time the statement arrived. */
  startedAt: string;
  durationMs: number;
  /** `simple`, `extended` or `fastpath` (FunctionCall). */
  protocol: string;
  /** Its text with detected sensitive literals masked. */
  text: string;
  verdict: SqlVerdictName;
  rule: string | null;
  reason: string | null;
  approvalId: string | null;
  commandTag: string | null;
  rowsReturned: number;
  rowsAffected: number | null;
  maskedColumns: string[];
  maskedValues: number;
  /** Bind parameters, sensitive ones redacted. */
  parameters: Array<string | null> | null;
  /** SQLSTATE and message (masked) when it failed, upstream or in the gateway. */
  errorCode: string | null;
  errorMessage: string | null;
  /** The first `sql.recordRows` rows as the agent saw them (masked). */
  rows: Array<Array<string | null>> | null;
}

/**
 * A session's statements in order, written a batch per row: one row per statement made the store
 * the proxy's bottleneck (PGlite spent a core inserting under pgbench). `json`, not `jsonb`: the
 * batch is written once and read whole, so it is kept as sent.
 */
export const dbStatementBatches = pgTable(
  'db_statement_batches',
  {
    sessionId: text('session_id')
      .notNull()
      .references(() => dbSessions.id),
    firstSeq: integer('first_seq').notNull(),
    lastSeq: integer('last_seq').notNull(),
    writtenAt: timestamp('written_at', { withTimezone: true, mode: 'date' }).notNull(),
    /** Each statement with its empty and default fields left out (src/audit/db-session-log.ts expands them). */
    statements: json('statements').$type<Array<Partial<RecordedDbStatement> & Pick<RecordedDbStatement, 'seq' | 'startedAt' | 'durationMs' | 'text'>>>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.firstSeq] })],
);

/**
 * The tamper-evident audit trail (src/audit/chain-store/): one hash chain of events. `data` holds
 * the event's data as hashed (normalised first, so the jsonb round trip gives the same values back;
 * jsonb reorders keys, which the canonical form the hash is computed from does not care about).
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    type: text('type').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
    actor: text('actor'),
    subject: text('subject'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [index('audit_events_type_at_idx').on(t.type, t.at), index('audit_events_at_idx').on(t.at)],
);

/** Signed checkpoints: an Ed25519 signature over an event's seq and hash. */
export const auditCheckpoints = pgTable('audit_checkpoints', {
  seq: bigint('seq', { mode: 'number' }).primaryKey(),
  hash: text('hash').notNull(),
  at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
  keyId: text('key_id').notNull(),
  signature: text('signature').notNull(),
});

/** The chain's head, one row (id 1): appenders lock it, so the chain never forks nor has gaps. */
export const auditHead = pgTable('audit_head', {
  id: integer('id').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  hash: text('hash').notNull(),
});
