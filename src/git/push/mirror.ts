/**
 * Step 3 of the push path (DESIGN.md "Write (push)"): a bare mirror per upstream repository, kept
 * current with `git fetch`, holds the objects a thin PACK's deltas refer to and the refs that decide
 * which pushed commits are new.
 *
 * The upstream credential travels as an `http.extraHeader` in GIT_CONFIG_* variables of the fetch
 * process only: never on a command line (visible in `ps`), never in the mirror's config, FETCH_HEAD
 * or an error message.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PortcullisError } from '../../errors.ts';
import { gitFailureReason, runGitCommand, type GitConfigEntry } from './git-command.ts';
import { createKeyedMutex } from './keyed-mutex.ts';

export interface Mirror {
  /** The bare repository, `${dataDir}/mirrors/<remote>/<owner>/<repo>.git`. */
  path: string;
  /** Every ref of the mirror (upstream's branches and tags as of the last sync) → its object id. */
  refs(): Promise<Map<string, string>>;
}

export interface SyncMirrorOptions {
  dataDir: string;
  remote: string;
  owner: string;
  repo: string;
  /** `https://host/owner/repo.git`, without credentials in it. */
  upstreamUrl: string;
  /** The full header value the upstream expects, e.g. `Basic …` or `Bearer …`. */
  authorization?: string;
  timeoutMs: number;
}

/**
 * Branches and tags only: forges keep other namespaces (GitHub's refs/pull/*) that can be huge and
 * are not history anyone pushed through the gateway.
 */
const MIRROR_REFSPECS = ['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'];

/** Owner, repo and remote names become directory names: no separators, no `.`/`..`. */
const SAFE_SEGMENT = /^[A-Za-z0-9._-]+$/;

const mirrorLocks = createKeyedMutex();

export function mirrorPath(options: Pick<SyncMirrorOptions, 'dataDir' | 'remote' | 'owner' | 'repo'>): string {
  for (const segment of [options.remote, options.owner, options.repo]) {
    if (!SAFE_SEGMENT.test(segment) || segment === '.' || segment === '..') {
      throw new PortcullisError('REPO_PATH_INVALID', `"${segment.slice(0, 100)}" is not a valid remote, owner or repository name`, {
        hint: 'use the repository path as the forge shows it: /git/<remote>/<owner>/<repo>.git',
      });
    }
  }
  return join(options.dataDir, 'mirrors', options.remote, options.owner, `${options.repo}.git`);
}

/** A mirror that already exists on disk, without refreshing it. */
export function openMirror(path: string): Mirror {
  return {
    path,
    async refs() {
      const result = await runGitCommand(['for-each-ref', '--format=%(objectname) %(refname)'], { gitDir: path });
      if (result.code !== 0) {
        throw new PortcullisError('MIRROR_FETCH_FAILED', `cannot read the refs of the gateway's mirror: ${gitFailureReason(result.stderr)}`);
      }
      const refs = new Map<string, string>();
      for (const line of result.stdout.split('\n')) {
        const space = line.indexOf(' ');
        if (space > 0) refs.set(line.slice(space + 1), line.slice(0, space));
      }
      return refs;
    },
  };
}

/**
 * Creates the mirror on first use and fetches the upstream's branches and tags into it (pruning
 * what upstream deleted). Calls for one repository run one after the other.
 */
export async function syncMirror(options: SyncMirrorOptions): Promise<Mirror> {
  const path = mirrorPath(options);
  const what = `${options.owner}/${options.repo} on remote ${options.remote}`;
  const url = checkUpstreamUrl(options.upstreamUrl, what);
  await mirrorLocks.run(path, async () => {
    await ensureMirror(path, what);
    await fetchIntoMirror(path, url, options, what);
  });
  return openMirror(path);
}

function checkUpstreamUrl(upstreamUrl: string, what: string): string {
  let url: URL;
  try {
    url = new URL(upstreamUrl);
  } catch {
    throw new PortcullisError('MIRROR_FETCH_FAILED', `the upstream URL of ${what} is not a valid URL`, {
      hint: 'a portcullis admin should check the remote url in portcullis.yml',
    });
  }
  if (url.username !== '' || url.password !== '') {
    // It would be written to the command line and FETCH_HEAD; credentials belong in the remote's auth.
    throw new PortcullisError('MIRROR_FETCH_FAILED', `the upstream URL of ${what} carries credentials, which the gateway refuses to use`, {
      hint: 'a portcullis admin should move them from the remote url to its auth section in portcullis.yml',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new PortcullisError('MIRROR_FETCH_FAILED', `the upstream URL of ${what} is not http(s)`, {
      hint: 'a portcullis admin should check the remote url in portcullis.yml',
    });
  }
  return url.href;
}

async function ensureMirror(path: string, what: string): Promise<void> {
  if (await exists(join(path, 'HEAD'))) return;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // Built beside its final place and renamed in, so a crash never leaves a half-made mirror.
  const building = `${path}.init-${randomUUID()}`;
  try {
    const init = await runGitCommand(['init', '--quiet', '--bare', '--template=', building]);
    if (init.code !== 0) {
      throw new PortcullisError('MIRROR_FETCH_FAILED', `cannot create the gateway's mirror of ${what}: ${gitFailureReason(init.stderr)}`, {
        hint: 'a portcullis admin should check that the data directory is writable',
      });
    }
    await rm(path, { recursive: true, force: true }); // leftovers of a mirror whose HEAD was lost
    await rename(building, path);
  } finally {
    await rm(building, { recursive: true, force: true });
  }
}

async function fetchIntoMirror(path: string, url: string, options: SyncMirrorOptions, what: string): Promise<void> {
  const config: GitConfigEntry[] = [['http.extraHeader', '']]; // empty resets headers from global config
  if (options.authorization !== undefined) config.push(['http.extraHeader', `Authorization: ${options.authorization}`]);
  const result = await runGitCommand(
    ['fetch', '--quiet', '--prune', '--no-tags', '--no-write-fetch-head', '--no-recurse-submodules', url, ...MIRROR_REFSPECS],
    { gitDir: path, config, timeoutMs: options.timeoutMs },
  );
  if (result.timedOut) {
    throw new PortcullisError('MIRROR_FETCH_FAILED', `refreshing the gateway's mirror of ${what} took longer than ${options.timeoutMs / 1000}s`, {
      hint: 'try again later; if it persists, check the upstream forge or ask an admin to raise limits.mirrorTimeoutMs',
    });
  }
  if (result.code !== 0) {
    const reason = redact(gitFailureReason(result.stderr), options.authorization);
    throw new PortcullisError('MIRROR_FETCH_FAILED', `cannot refresh the gateway's mirror of ${what}: ${describeFetchFailure(reason)}`, {
      hint: `try again later; if it persists, a portcullis admin should check the url and auth of remote ${options.remote}`,
    });
  }
}

function describeFetchFailure(reason: string): string {
  if (/could not read (Username|Password)|Authentication failed|terminal prompts disabled/i.test(reason)) {
    return 'the upstream refused the gateway\'s credential (or none is configured)';
  }
  if (/not found|HTTP 404/i.test(reason)) return 'the repository was not found upstream';
  return reason;
}

/** git never prints the extra header, but a credential must not reach a message even if it did. */
function redact(text: string, authorization: string | undefined): string {
  if (authorization === undefined) return text;
  const secrets = new Set<string>([authorization]);
  const [scheme, token] = authorization.split(/\s+/, 2);
  if (token) {
    secrets.add(token);
    if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(token, 'base64').toString('utf8');
      secrets.add(decoded);
      const password = decoded.slice(decoded.indexOf(':') + 1);
      if (password.length >= 4) secrets.add(password);
    }
  }
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length > 0) out = out.split(secret).join('***');
  }
  return out;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
