/**
 * The OpenAPI validator the GitHub fakes rely on: calls the gateway makes pass, and the mistakes a
 * GitHub App typically makes fail with a message naming method, path and field.
 */
import { describe, expect, it } from 'vitest';
import { createOpenApiValidator, OpenApiValidationError, type ApiRequest } from '../../helpers/github/openapi-validator.ts';

const SHA = '6dcb09b5b57875f334f61aebed695e2e4193db5e';
const github = createOpenApiValidator('api.github.com');

function failure(request: ApiRequest, validator = github): OpenApiValidationError {
  try {
    validator.validateRequest(request);
  } catch (error) {
    if (error instanceof OpenApiValidationError) return error;
    throw error;
  }
  throw new Error(`expected ${request.method} ${request.path} to be rejected`);
}

describe('createOpenApiValidator: calls a GitHub App gateway makes', () => {
  const valid: Array<[string, ApiRequest]> = [
    ['apps/get-authenticated', { method: 'GET', path: '/app' }],
    ['apps/get-repo-installation', { method: 'GET', path: '/repos/acme/widgets/installation' }],
    [
      'apps/create-installation-access-token',
      { method: 'POST', path: '/app/installations/42/access_tokens', body: { repositories: ['widgets'], permissions: { contents: 'write', checks: 'write' } } },
    ],
    ['repos/get-collaborator-permission-level', { method: 'GET', path: '/repos/acme/widgets/collaborators/octocat/permission' }],
    ['pulls/create', { method: 'POST', path: '/repos/acme/widgets/pulls', body: { title: 'Held push', head: 'portcullis/hold-1', base: 'main', body: 'why' } }],
    ['pulls/update', { method: 'PATCH', path: '/repos/acme/widgets/pulls/7', body: { state: 'closed' } }],
    ['pulls/merge', { method: 'PUT', path: '/repos/acme/widgets/pulls/7/merge', body: { sha: SHA, merge_method: 'merge' } }],
    ['pulls/merge', { method: 'PUT', path: '/repos/acme/widgets/pulls/7/merge' }],
    ['issues/create-comment', { method: 'POST', path: '/repos/acme/widgets/issues/7/comments', body: { body: 'Approved by @octocat' } }],
    [
      'checks/create',
      {
        method: 'POST',
        path: '/repos/acme/widgets/check-runs',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({
          name: 'portcullis',
          head_sha: SHA,
          status: 'completed',
          conclusion: 'action_required',
          external_id: 'approval-1',
          details_url: 'https://gateway.example/approvals/1',
          output: { title: 'Push held', summary: 'A maintainer must approve.' },
          actions: [
            { label: 'Approve push', description: 'Fast-forward main to this commit', identifier: 'approve' },
            { label: 'Reject', description: 'Discard the held push', identifier: 'reject' },
          ],
        }),
      },
    ],
    [
      'checks/update',
      {
        method: 'PATCH',
        path: '/repos/acme/widgets/check-runs/123',
        body: {
          conclusion: 'success',
          completed_at: '2026-05-01T12:00:00Z',
          output: {
            title: 'Approved',
            summary: 'by octocat',
            annotations: [{ path: 'src/a.ts', start_line: 3, end_line: 3, annotation_level: 'failure', message: 'AWS key (redacted)' }],
          },
        },
      },
    ],
    ['pulls/list', { method: 'GET', path: '/repos/acme/widgets/pulls?head=acme%3Aportcullis%2Fhold-1&state=all&per_page=100' }],
  ];

  it.each(valid)('%s passes', (operationId, request) => {
    expect(github.validateRequest(request).operationId).toBe(operationId);
  });

  it('converts path and query parameters to their declared types', () => {
    const result = github.validateRequest({ method: 'GET', path: '/repos/acme/widgets/pulls?head=acme:x&per_page=50' });
    expect(result).toMatchObject({ pathTemplate: '/repos/{owner}/{repo}/pulls', pathParams: { owner: 'acme', repo: 'widgets' }, query: { head: 'acme:x', per_page: 50 } });
    expect(github.validateRequest({ method: 'PATCH', path: '/repos/acme/widgets/check-runs/123', body: {} }).pathParams.check_run_id).toBe(123);
  });

  it('matches multi-segment parameters and prefers literal segments', () => {
    expect(github.validateRequest({ method: 'PATCH', path: '/repos/acme/widgets/git/refs/heads/feature/x', body: { sha: SHA } }).pathParams.ref).toBe('heads/feature/x');
    expect(github.validateRequest({ method: 'GET', path: '/repos/acme/widgets/pulls/comments' }).operationId).toBe('pulls/list-review-comments-for-repo');
  });
});

describe('createOpenApiValidator: calls GitHub would reject or misread', () => {
  const checkRun = { method: 'POST', path: '/repos/acme/widgets/check-runs' };

  it('names a wrong enum value, e.g. conclusion "approved"', () => {
    const error = failure({ ...checkRun, body: { name: 'portcullis', head_sha: SHA, conclusion: 'approved' } });
    expect(error.message).toContain('POST /repos/acme/widgets/check-runs (checks/create)');
    expect(error.message).toContain('request body field conclusion must be one of "action_required"');
    expect(error.message).toContain('(got string "approved")');
    expect(error).toMatchObject({ kind: 'invalid-request', method: 'POST', path: '/repos/acme/widgets/check-runs', operationId: 'checks/create' });
  });

  it('names a misspelled field and suggests the real one', () => {
    const error = failure({ ...checkRun, body: { name: 'portcullis', head_sha: SHA, conclsuion: 'success' } });
    expect(error.problems).toEqual([`request body: unknown field "conclsuion" (did you mean "conclusion"?): GitHub's schema does not list it, so GitHub would ignore it`]);
  });

  it('finds misspellings in nested objects too', () => {
    const error = failure({ ...checkRun, body: { name: 'p', head_sha: SHA, output: { title: 't', sumary: 's' } } });
    expect(error.message).toContain('missing required field "output.summary"');
    expect(error.message).toContain('unknown field "output.sumary" (did you mean "output.summary"?)');
  });

  it('names a missing required field', () => {
    expect(failure({ ...checkRun, body: { name: 'portcullis' } }).problems).toEqual(['request body: missing required field "head_sha"']);
  });

  it('names a wrong type, with the value received', () => {
    const error = failure({
      method: 'PATCH',
      path: '/repos/acme/widgets/check-runs/1',
      body: { output: { title: 't', summary: 's', annotations: [{ path: 'a', start_line: '3', end_line: 3, annotation_level: 'failure', message: 'm' }] } },
    });
    expect(error.problems).toEqual(['request body field output.annotations[0].start_line must be integer (got string "3")']);
  });

  it('enforces the documented limits: 3 actions, 20-character labels, 50 annotations', () => {
    const action = { label: 'Approve this push now', description: 'd', identifier: 'approve' };
    const actions = failure({ ...checkRun, body: { name: 'p', head_sha: SHA, actions: [action, action, action, action] } });
    expect(actions.message).toContain('request body field actions must NOT have more than 3 items');
    expect(actions.message).toContain('request body field actions[0].label must NOT have more than 20 characters');
    const annotation = { path: 'a', start_line: 1, end_line: 1, annotation_level: 'notice', message: 'm' };
    const annotations = Array.from({ length: 51 }, () => annotation);
    expect(failure({ ...checkRun, body: { name: 'p', head_sha: SHA, output: { title: 't', summary: 's', annotations } } }).message).toContain(
      'output.annotations must NOT have more than 50 items',
    );
  });

  it('rejects installation-token permissions GitHub does not know', () => {
    const error = failure({ method: 'POST', path: '/app/installations/1/access_tokens', body: { permissions: { contents: 'admin', pulls: 'write' } } });
    expect(error.message).toContain('request body field permissions.contents must be one of "read", "write" (got string "admin")');
    expect(error.message).toContain('unknown field "permissions.pulls"');
  });

  it('names an unknown path and a missing method', () => {
    expect(failure({ method: 'POST', path: '/repos/acme/widgets/check-run' }).message).toBe(
      'POST /repos/acme/widgets/check-run: no such route in the api.github.com description',
    );
    expect(failure({ method: 'DELETE', path: '/repos/acme/widgets/check-runs/1' }).message).toBe(
      'DELETE /repos/acme/widgets/check-runs/1: /repos/{owner}/{repo}/check-runs/{check_run_id} has no DELETE operation (only GET, PATCH)',
    );
  });

  it('checks path and query parameters', () => {
    expect(failure({ method: 'PATCH', path: '/repos/acme/widgets/check-runs/abc', body: {} }).problems).toEqual([
      'path parameter check_run_id must be integer (got string "abc")',
    ]);
    expect(failure({ method: 'GET', path: '/repos/acme/widgets/pulls?state=opened&heads=acme:x' }).problems).toEqual([
      `unknown query parameter "heads": GitHub's description does not list it, so GitHub would ignore it`,
      'query parameter state must be one of "open", "closed", "all" (got string "opened")',
    ]);
    expect(failure({ method: 'GET', path: '/orgs/acme/insights/api/summary-stats' }).problems).toEqual(['missing required query parameter "min_timestamp"']);
  });

  it('rejects a missing required body and a body that is not JSON', () => {
    expect(failure({ method: 'POST', path: '/repos/acme/widgets/pulls' }).problems).toEqual(['request body is required']);
    expect(failure({ method: 'POST', path: '/repos/acme/widgets/pulls', body: 'title=x' }).problems[0]).toContain('not valid JSON');
  });

  it('accepts OpenAPI nullable without a type (oneOf + nullable)', () => {
    const update = { method: 'PATCH', path: '/repos/acme/widgets/issues/1' };
    expect(github.validateRequest({ ...update, body: { milestone: null } }).operationId).toBe('issues/update');
    expect(github.validateRequest({ ...update, body: { milestone: 3 } }).operationId).toBe('issues/update');
    expect(failure({ ...update, body: { milestone: true } }).message).toContain('milestone');
  });

  it('can accept undeclared fields, as GitHub itself does', () => {
    const lenient = createOpenApiValidator('api.github.com', { allowUnknownFields: true });
    expect(lenient.validateRequest({ ...checkRun, body: { name: 'p', head_sha: SHA, conclsuion: 'success' } }).operationId).toBe('checks/create');
    expect(failure({ ...checkRun, body: { name: 'p', head_sha: SHA, conclusion: 'approved' } }, lenient).message).toContain('conclusion must be one of');
  });
});

describe('createOpenApiValidator: GitHub Enterprise Server', () => {
  const ghes = createOpenApiValidator('ghes-3.19');

  it('serves the same paths under /api/v3', () => {
    expect(ghes.basePath).toBe('/api/v3');
    expect(ghes.validateRequest({ method: 'POST', path: '/api/v3/app/installations/7/access_tokens', body: { repositories: ['widgets'] } }).operationId).toBe(
      'apps/create-installation-access-token',
    );
    expect(failure({ method: 'GET', path: '/app' }, ghes).message).toBe('GET /app: not under /api/v3, where ghes-3.19 serves its REST API');
  });
});

describe('createOpenApiValidator: responses and webhook payloads', () => {
  it('checks a response against the operation schema', () => {
    const example = github.document.components.examples['check-run']?.value as Record<string, unknown>;
    expect(() => github.validateResponse({ method: 'POST', path: '/repos/acme/widgets/check-runs' }, 201, example)).not.toThrow();
    const { id: _id, ...withoutId } = example;
    expect(() => github.validateResponse({ method: 'POST', path: '/repos/acme/widgets/check-runs' }, 201, withoutId)).toThrow('missing required field "id"');
    expect(() => github.validateResponse({ method: 'POST', path: '/repos/acme/widgets/check-runs' }, 299, {})).toThrow('status 299 is not documented');
  });

  it('checks a webhook payload against x-webhooks', () => {
    expect(() => github.validateWebhook('check_run', 'requested_action', { action: 'requested_action' })).toThrow('missing required field "check_run"');
    expect(() => github.validateWebhook('check_run', 'clicked', {})).toThrow('no x-webhooks entry "check-run-clicked"');
  });
});
