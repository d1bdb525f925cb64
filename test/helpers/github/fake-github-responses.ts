/**
 * Response bodies in GitHub's shapes. Each starts from the named example in the description's
 * `components.examples` (so every field a client might read is present) and overwrites what the
 * fake knows; the fake then checks the result against the operation's response schema.
 */
import type { JsonObject, OpenApiDocument } from './openapi-spec.ts';
import { isoSeconds, type FakeCheckRun, type FakeComment, type FakeInstallation, type FakePull, type FakeRepository, type IssuedToken, type RepositoryRole } from './fake-github-state.ts';

export interface ResponseContext {
  document: OpenApiDocument;
  /** Where the REST API is served, e.g. http://127.0.0.1:PORT/api/v3. */
  apiUrl: string;
  /** Where the web UI would be, e.g. http://127.0.0.1:PORT. */
  webUrl: string;
  appId: number;
  appSlug: string;
}

/** The legacy `permission` field folds the five roles into admin/write/read/none. */
const LEGACY_PERMISSION: Record<RepositoryRole, string> = {
  admin: 'admin',
  maintain: 'write',
  write: 'write',
  triage: 'read',
  read: 'read',
  none: 'none',
};

export function createResponseBuilders(ctx: ResponseContext) {
  function example(name: string): JsonObject {
    const found = ctx.document.components.examples[name]?.value;
    if (found === undefined) throw new Error(`the description has no example "${name}"`);
    return structuredClone(found) as JsonObject;
  }

  function user(login: string, type: 'User' | 'Organization' | 'Bot' = 'User'): JsonObject {
    const base = example('issue-comment').user as JsonObject;
    return { ...base, login, type, url: `${ctx.apiUrl}/users/${encodeURIComponent(login)}`, html_url: `${ctx.webUrl}/${encodeURIComponent(login)}` };
  }

  const botLogin = `${ctx.appSlug}[bot]`;

  function repository(repo: FakeRepository): JsonObject {
    const base = (example('installation-token').repositories as JsonObject[])[0] ?? {};
    return {
      ...base,
      id: repo.id,
      name: repo.name,
      full_name: `${repo.owner}/${repo.name}`,
      owner: user(repo.owner, 'Organization'),
      private: true,
      html_url: `${ctx.webUrl}/${repo.owner}/${repo.name}`,
      url: `${ctx.apiUrl}/repos/${repo.owner}/${repo.name}`,
    };
  }

  function pullFields(pull: FakePull, repo: FakeRepository): JsonObject {
    const apiBase = `${ctx.apiUrl}/repos/${pull.owner}/${pull.repo}`;
    const side = (s: FakePull['head']) => ({ label: s.label, ref: s.ref, sha: s.sha, user: user(pull.owner, 'Organization'), repo: repository(repo) });
    return {
      url: `${apiBase}/pulls/${pull.number}`,
      id: pull.id,
      html_url: `${ctx.webUrl}/${pull.owner}/${pull.repo}/pull/${pull.number}`,
      issue_url: `${apiBase}/issues/${pull.number}`,
      comments_url: `${apiBase}/issues/${pull.number}/comments`,
      number: pull.number,
      state: pull.state,
      title: pull.title,
      body: pull.body,
      user: user(botLogin, 'Bot'),
      created_at: pull.createdAt,
      updated_at: pull.updatedAt,
      closed_at: pull.closedAt,
      merged_at: pull.mergedAt,
      merge_commit_sha: pull.mergeCommitSha,
      // The description's example lists a team without `type`, which its own schema requires.
      requested_teams: [],
      requested_reviewers: [],
      head: side(pull.head),
      base: side(pull.base),
      draft: pull.draft,
    };
  }

  return {
    app(): JsonObject {
      return { ...example('integration'), id: ctx.appId, slug: ctx.appSlug, name: ctx.appSlug, html_url: `${ctx.webUrl}/apps/${ctx.appSlug}` };
    },

    installation(installation: FakeInstallation): JsonObject {
      return {
        ...example('installation'),
        id: installation.id,
        account: user(installation.account, installation.accountType),
        app_id: ctx.appId,
        app_slug: ctx.appSlug,
        target_type: installation.accountType,
        permissions: installation.permissions,
        repository_selection: installation.repositorySelection,
        access_tokens_url: `${ctx.apiUrl}/app/installations/${installation.id}/access_tokens`,
      };
    },

    accessToken(token: IssuedToken, repositories: FakeRepository[] | undefined): JsonObject {
      return {
        token: token.token,
        expires_at: isoSeconds(token.expiresAt.getTime()),
        permissions: token.permissions,
        repository_selection: repositories === undefined ? 'all' : 'selected',
        ...(repositories === undefined ? {} : { repositories: repositories.map(repository) }),
      };
    },

    pull(pull: FakePull, repo: FakeRepository): JsonObject {
      return { ...example('pull-request'), ...pullFields(pull, repo), merged: pull.merged, mergeable: pull.state === 'open' ? true : null, merged_by: null, auto_merge: null };
    },

    pullSimple(pull: FakePull, repo: FakeRepository): JsonObject {
      const items = example('pull-request-simple-items') as unknown as JsonObject[];
      return { ...(items[0] ?? {}), ...pullFields(pull, repo), auto_merge: null };
    },

    checkRun(run: FakeCheckRun): JsonObject {
      const apiBase = `${ctx.apiUrl}/repos/${run.owner}/${run.repo}`;
      const base = example('check-run');
      return {
        ...base,
        id: run.id,
        head_sha: run.headSha,
        name: run.name,
        url: `${apiBase}/check-runs/${run.id}`,
        html_url: `${ctx.webUrl}/${run.owner}/${run.repo}/runs/${run.id}`,
        details_url: run.detailsUrl,
        external_id: run.externalId,
        status: run.status,
        conclusion: run.conclusion,
        started_at: run.startedAt,
        completed_at: run.completedAt,
        output: { ...run.output, annotations_count: run.annotations.length, annotations_url: `${apiBase}/check-runs/${run.id}/annotations` },
        app: { ...(base.app as JsonObject), id: ctx.appId, slug: ctx.appSlug, name: ctx.appSlug },
        pull_requests: [],
      };
    },

    comment(comment: FakeComment): JsonObject {
      const apiBase = `${ctx.apiUrl}/repos/${comment.owner}/${comment.repo}`;
      return {
        ...example('issue-comment'),
        id: comment.id,
        url: `${apiBase}/issues/comments/${comment.id}`,
        html_url: `${ctx.webUrl}/${comment.owner}/${comment.repo}/issues/${comment.issueNumber}#issuecomment-${comment.id}`,
        issue_url: `${apiBase}/issues/${comment.issueNumber}`,
        body: comment.body,
        user: user(botLogin, 'Bot'),
        created_at: comment.createdAt,
        updated_at: comment.createdAt,
        author_association: 'NONE',
      };
    },

    permission(login: string, role: RepositoryRole): JsonObject {
      return { permission: LEGACY_PERMISSION[role], role_name: role, user: { ...user(login), role_name: role } };
    },

    mergeResult(sha: string): JsonObject {
      return { sha, merged: true, message: 'Pull Request successfully merged' };
    },
  };
}

export type ResponseBuilders = ReturnType<typeof createResponseBuilders>;
