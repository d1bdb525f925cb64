/**
 * The in-memory state of the fake GitHub: installations, tokens, branches, pull requests, check
 * runs, comments. Plain records, so tests can assert on them directly.
 */

export type PermissionLevel = 'read' | 'write' | 'admin';
export type RepositoryRole = 'admin' | 'maintain' | 'write' | 'triage' | 'read' | 'none';

export interface FakeRepository {
  id: number;
  owner: string;
  name: string;
}

export interface FakeInstallation {
  id: number;
  /** The org or user login the app is installed on. */
  account: string;
  accountType: 'Organization' | 'User';
  repositories: FakeRepository[];
  /** What the installation granted; tokens may ask for a subset. */
  permissions: Record<string, PermissionLevel>;
  repositorySelection: 'all' | 'selected';
}

export interface AddInstallationInput {
  id: number;
  account: string;
  accountType?: 'Organization' | 'User';
  /** Repository names under `account`, or `{ id, name }` to fix the repository id. */
  repositories: Array<string | { id?: number; name: string }>;
  /** Default: app.yml's default_permissions (contents, checks, pull_requests write; metadata, members read). */
  permissions?: Record<string, PermissionLevel>;
  repositorySelection?: 'all' | 'selected';
}

export interface IssuedToken {
  token: string;
  installationId: number;
  expiresAt: Date;
  /** Repository names the token is narrowed to, or 'all' of the installation's. */
  repositories: string[] | 'all';
  permissions: Record<string, PermissionLevel>;
  revoked: boolean;
}

export interface FakePull {
  owner: string;
  repo: string;
  number: number;
  id: number;
  title: string;
  body: string | null;
  head: { ref: string; sha: string; label: string };
  base: { ref: string; sha: string; label: string };
  state: 'open' | 'closed';
  draft: boolean;
  merged: boolean;
  mergeCommitSha: string | null;
  mergeMethod?: 'merge' | 'squash' | 'rebase';
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  mergedAt: string | null;
}

export interface FakeAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: 'notice' | 'warning' | 'failure';
  message: string;
  [field: string]: unknown;
}

export interface FakeCheckRun {
  owner: string;
  repo: string;
  id: number;
  name: string;
  headSha: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: string | null;
  externalId: string | null;
  detailsUrl: string | null;
  startedAt: string | null;
  completedAt: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  annotations: FakeAnnotation[];
  actions: Array<{ label: string; description: string; identifier: string }>;
  /** Each PATCH body received for this run, in order. */
  updates: Record<string, unknown>[];
}

export interface FakeComment {
  owner: string;
  repo: string;
  issueNumber: number;
  id: number;
  body: string;
  createdAt: string;
}

export interface RecordedRequest {
  method: string;
  /** As received, including the `/api/v3` prefix and query. */
  path: string;
  body: unknown;
  status: number;
  operationId?: string;
  /** Which credential was presented (never the credential itself). */
  auth: 'none' | 'jwt' | 'token' | 'basic';
}

export type ViolationKind = 'unknown-route' | 'invalid-request' | 'not-implemented' | 'invalid-response' | 'fake-error';

/** A request GitHub would reject or misread, or a gap in the fake itself; tests assert none. */
export interface Violation {
  kind: ViolationKind;
  method: string;
  path: string;
  operationId?: string;
  message: string;
}

/** An error answered the way GitHub answers errors: `{ message, documentation_url, status }`. */
export class GitHubHttpError extends Error {
  override readonly name = 'GitHubHttpError';
  readonly errors: Array<Record<string, unknown>> | undefined;
  /**
   * True when the request itself is wrong whatever the state (e.g. a completed check run without a
   * conclusion): recorded in `violations`. False for answers a correct client must handle (a pull
   * request that already exists, a head that moved).
   */
  readonly violation: boolean;
  constructor(
    readonly status: number,
    message: string,
    options: { errors?: Array<Record<string, unknown>>; violation?: boolean } = {},
  ) {
    super(message);
    this.errors = options.errors;
    this.violation = options.violation ?? false;
  }

  toBody(): Record<string, unknown> {
    return {
      message: this.message,
      ...(this.errors === undefined ? {} : { errors: this.errors }),
      documentation_url: 'https://docs.github.com/rest',
      status: String(this.status),
    };
  }
}

export const DEFAULT_INSTALLATION_PERMISSIONS: Record<string, PermissionLevel> = {
  contents: 'write',
  checks: 'write',
  pull_requests: 'write',
  metadata: 'read',
  members: 'read',
};

export interface FakeGitHubState {
  installations: FakeInstallation[];
  tokens: IssuedToken[];
  /** `owner/repo` (lower case) → branch → sha, set by tests with setBranch. */
  branches: Map<string, Map<string, string>>;
  /** `owner/repo` (lower case) → login (lower case) → role. */
  roles: Map<string, Map<string, RepositoryRole>>;
  pulls: FakePull[];
  checkRuns: FakeCheckRun[];
  comments: FakeComment[];
  nextId: number;
}

export function createState(): FakeGitHubState {
  return { installations: [], tokens: [], branches: new Map(), roles: new Map(), pulls: [], checkRuns: [], comments: [], nextId: 1000 };
}

export function repoKey(owner: string, repo: string): string {
  return `${owner}/${repo}`.toLowerCase();
}

let repositoryIds = 5_000_000;

export function toInstallation(input: AddInstallationInput): FakeInstallation {
  return {
    id: input.id,
    account: input.account,
    accountType: input.accountType ?? 'Organization',
    repositories: input.repositories.map((r) =>
      typeof r === 'string' ? { id: repositoryIds++, owner: input.account, name: r } : { id: r.id ?? repositoryIds++, owner: input.account, name: r.name },
    ),
    permissions: { ...(input.permissions ?? DEFAULT_INSTALLATION_PERMISSIONS) },
    repositorySelection: input.repositorySelection ?? 'selected',
  };
}

/** GitHub's timestamps: ISO 8601 to the second, `Z`. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
