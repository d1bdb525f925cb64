/**
 * An agent without a portcullis token: it presents a JWT from the organisation's identity provider
 * (here a local issuer, found through OpenID discovery) as the HTTP Basic password of real git.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../helpers/gateway.ts';
import { gitOk, runGit } from '../../helpers/git-cli.ts';
import { startGitUpstream, type GitUpstream } from '../../helpers/git-upstream.ts';
import { startOidcIssuer, type OidcIssuer } from '../../helpers/oidc-issuer.ts';
import { cleanupTempDirs, createWorkRepo, makeTempDir, seedUpstreamRepo } from '../../helpers/repos.ts';

const UPSTREAM_USER = 'forge-bot';
const UPSTREAM_PASSWORD = 'upstream-password-FAKE-do-not-leak';
const AUDIENCE = 'portcullis';

let upstream: GitUpstream;
let issuer: OidcIssuer;
let gateway: RunningGateway;
let seeded: string[];

interface RecordedSession {
  agent: string;
  authMethod: string;
  repo: string;
  operation: string;
  outcome: string;
  httpStatus: number;
  refUpdates: Array<{ ref: string; newOid: string }>;
}

/** Claims shaped like a GitHub Actions OIDC token for a workflow in `repository`. */
function workflowClaims(repository: string): Record<string, unknown> {
  const [owner] = repository.split('/');
  return { sub: `repo:${repository}:ref:refs/heads/main`, aud: AUDIENCE, repository, repository_owner: owner };
}

function repoUrl(jwt: string, repo = 'acme/app'): string {
  return `${gateway.url.replace('http://', `http://x-oidc:${jwt}@`)}/git/local/${repo}.git`;
}

async function upstreamRef(ref: string): Promise<string | null> {
  const result = await runGit(['--git-dir', path.join(upstream.root, 'acme/app.git'), 'rev-parse', '--verify', '-q', ref]);
  return result.code === 0 ? result.stdout.trim() : null;
}

async function sessionsOf(agent: string): Promise<RecordedSession[]> {
  const listed = await gateway.cli(['sessions', 'list', '--json', '--agent', agent]);
  expect(listed.code).toBe(0);
  return JSON.parse(listed.stdout) as RecordedSession[];
}

beforeAll(async () => {
  [upstream, issuer] = await Promise.all([
    startGitUpstream({ basicAuth: { username: UPSTREAM_USER, password: UPSTREAM_PASSWORD } }),
    startOidcIssuer(),
  ]);
  seeded = await seedUpstreamRepo(upstream, 'acme', 'app', [
    { message: 'first', files: { 'README.md': '# app\n' } },
    { message: 'second', files: { 'src/main.txt': 'hello\n' } },
  ]);
  gateway = await startGateway({
    config: {
      remotes: [{ name: 'local', url: upstream.url, auth: { basic: { username: UPSTREAM_USER, password: 'env:UPSTREAM_PASSWORD' } } }],
      identity: {
        // No jwksUrl: the keys are found through the issuer's /.well-known/openid-configuration.
        oidc: [
          {
            issuer: issuer.issuer,
            audience: AUDIENCE,
            agentClaim: 'repository',
            scopes: { read: ['local/{repository_owner}/*'], write: ['local/{repository}'] },
          },
        ],
      },
    },
    env: { UPSTREAM_PASSWORD },
  });
});

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([upstream?.close(), issuer?.close()]);
  await cleanupTempDirs();
});

describe('an agent with an OIDC token', () => {
  it('clones and pushes with the JWT as its git password; the record names the agent from the claim', async () => {
    const jwt = await issuer.sign(workflowClaims('acme/app'));
    const work = await makeTempDir('oidc-clone');
    await gitOk(['clone', '-q', repoUrl(jwt), work.path]);
    expect((await gitOk(['rev-parse', 'HEAD'], { cwd: work.path })).stdout.trim()).toBe(seeded[1]);

    await gitOk(['checkout', '-q', '-b', 'oidc/feature'], { cwd: work.path });
    const { shas } = await createWorkRepo(work.path, [{ message: 'from a workflow', files: { 'ci.txt': 'built\n' } }]);
    const pushed = await gitOk(['push', 'origin', 'oidc/feature'], { cwd: work.path });
    expect(pushed.stderr).toContain('* [new branch]      oidc/feature -> oidc/feature');
    expect(await upstreamRef('refs/heads/oidc/feature')).toBe(shas[0]);

    const sessions = await sessionsOf('acme/app');
    const push = sessions.find((s) => s.operation === 'push');
    expect(push).toMatchObject({ agent: 'acme/app', authMethod: 'oidc', repo: 'local/acme/app', outcome: 'ok', httpStatus: 200 });
    expect(push!.refUpdates).toEqual([expect.objectContaining({ ref: 'refs/heads/oidc/feature', newOid: shas[0] })]);
    expect(sessions.find((s) => s.operation === 'clone')).toMatchObject({ agent: 'acme/app', authMethod: 'oidc', outcome: 'ok' });
    expect(gateway.output()).not.toContain(jwt);
  });

  it('refuses an expired token with 401 and says it expired', async () => {
    const expired = await issuer.sign({ ...workflowClaims('acme/app'), exp: Math.floor(Date.now() / 1000) - 3600 });
    const git = await runGit(['ls-remote', repoUrl(expired)]);
    expect(git.code).not.toBe(0);
    expect(git.stderr).toMatch(new RegExp(`remote: token from issuer ${issuer.issuer} expired at \\S+; request a new token`));
    expect(git.stderr).toContain('remote: hint: identity-provider tokens are short-lived');
    expect(git.stderr).toContain('Authentication failed');

    const response = await fetch(`${gateway.url}/git/local/acme/app.git/info/refs?service=git-upload-pack`, {
      headers: { authorization: `Bearer ${expired}` },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('x-portcullis-error')).toBe('TOKEN_EXPIRED');
    await response.body?.cancel();
  });

  it('refuses a token for another audience with 401 and names the audience to request', async () => {
    const wrongAudience = await issuer.sign({ ...workflowClaims('acme/app'), aud: 'some-other-service' });
    const git = await runGit(['clone', repoUrl(wrongAudience), '/nonexistent-never-created']);
    expect(git.code).not.toBe(0);
    expect(git.stderr).toContain(`remote: token audience "some-other-service" is not accepted for issuer ${issuer.issuer}`);
    expect(git.stderr).toContain(`remote: hint: request the token for audience ${AUDIENCE}`);
    expect(git.stderr).toContain('Authentication failed');
  });

  it('gives a token for another repository 403: no read outside its owner, no push outside its repository', async () => {
    const otherOwner = await issuer.sign(workflowClaims('other/lib'));
    const clone = await runGit(['clone', repoUrl(otherOwner), '/nonexistent-never-created']);
    expect(clone.code).not.toBe(0);
    expect(clone.stderr).toContain('remote: agent other/lib has no read scope for local/acme/app');
    expect(clone.stderr).toContain('The requested URL returned error: 403');

    // Same owner, other repository: read through local/acme/*, but write only to local/acme/web.
    const sibling = await issuer.sign(workflowClaims('acme/web'));
    const work = await makeTempDir('oidc-sibling');
    await gitOk(['clone', '-q', repoUrl(sibling), work.path]);
    await createWorkRepo(work.path, [{ message: 'not allowed', files: { 'x.txt': 'x\n' } }]);
    const push = await runGit(['push', 'origin', 'HEAD:refs/heads/from-web'], { cwd: work.path });
    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain('remote: agent acme/web has no write scope for local/acme/app');
    expect(push.stderr).toContain('The requested URL returned error: 403');
    expect(await upstreamRef('refs/heads/from-web')).toBeNull();

    const [denied] = await sessionsOf('other/lib');
    expect(denied).toMatchObject({ authMethod: 'oidc', outcome: 'denied', httpStatus: 403, repo: 'local/acme/app' });
  });
});
