import picomatch from 'picomatch';
import type { Decision } from './decision.ts';
import type { ForbidMode, GitPolicy } from './policy-file.ts';

/**
 * Push guardrails, per ref (DESIGN.md "Write (push)", step 6). Pure and synchronous: the receive-pack
 * pipeline gathers the facts (kind, fast-forward, changed paths, secret findings after allow-lists,
 * the agent's active grant), asks here, and enforces. `now` is a fact like the others.
 *
 * Precedence, strictest verdict first (block > hold > allow), then in this order:
 *   git.secrets (block)  >  git.forbidForcePush  >  git.forbidDelete
 *   >  git.secrets (hold, when secrets.action is hold)  >  git.protected  >  git.approvalPaths
 *   >  git.grant (a grant waived a hold)  >  git.allow
 * A secret under `action: hold` ranks below the blocks: approving a hold must never be a way to get a
 * forbidden force-push or deletion through. Grants waive protected-ref and approval-path holds only;
 * a secret is never waived by a grant.
 */

export interface SecretFact {
  ruleId: string;
  path: string;
  line: number;
  commit: string;
  fingerprint: string;
}

export interface GrantFact {
  id: string;
  refPattern: string;
  expiresAt: Date;
}

export interface RefUpdateFacts {
  ref: string;
  oldOid: string;
  newOid: string;
  kind: 'create' | 'update' | 'delete';
  /** False for a non-fast-forward update; true for create and delete. */
  fastForward: boolean;
  /** Paths changed by the new commits for this ref (ignored for a delete, which changes no paths). */
  changedPaths: string[];
  /** Findings in the new commits, already filtered by inline and policy allow-lists. */
  secrets: SecretFact[];
  /** An active time-boxed approval window covering this agent and ref, if the store found one. */
  grant?: GrantFact;
}

export type RefDecision = Decision & {
  ref: string;
  /** For a hold: every reason a maintainer must look at, strongest first (`reason` is the first). */
  holdReasons?: string[];
};

export type PushRule =
  | 'git.secrets'
  | 'git.forbidForcePush'
  | 'git.forbidDelete'
  | 'git.protected'
  | 'git.approvalPaths'
  | 'git.grant'
  | 'git.allow'
  | 'git.atomic';

export const ATOMIC_REFUSAL = 'atomic push: another ref was refused';

export function decideRefUpdate(agent: string, update: RefUpdateFacts, policy: GitPolicy, now: Date): RefDecision {
  const { ref } = update;
  const isProtected = matchesAny(policy.protected, ref, refMatcher);

  if (update.secrets.length > 0 && policy.secrets.action === 'block') {
    return { verdict: 'block', rule: 'git.secrets', reason: describeSecrets(update.secrets), ref };
  }
  if (update.kind === 'update' && !update.fastForward && forbids(policy.forbidForcePush, isProtected)) {
    const reason = isProtected ? 'blocked: force-push to protected ref' : 'blocked: force-push not allowed';
    return { verdict: 'block', rule: 'git.forbidForcePush', reason, ref };
  }
  if (update.kind === 'delete' && forbids(policy.forbidDelete, isProtected)) {
    const reason = isProtected ? 'blocked: deletion of protected ref' : 'blocked: deletion not allowed';
    return { verdict: 'block', rule: 'git.forbidDelete', reason, ref };
  }

  const grant = activeGrant(update, now);
  const holds: Array<{ rule: PushRule; reason: string }> = [];
  if (update.secrets.length > 0) {
    // action is 'hold' here: a maintainer may approve a false positive, so no grant waives it.
    holds.push({ rule: 'git.secrets', reason: `held for approval: ${describeSecrets(update.secrets)}` });
  }
  const waivable: Array<{ rule: PushRule; reason: string }> = [];
  if (isProtected) waivable.push({ rule: 'git.protected', reason: 'held for approval: protected ref' });
  if (update.kind !== 'delete') {
    const touched = update.changedPaths.filter((changed) => matchesAny(policy.approvalPaths, changed, pathMatcher));
    if (touched.length > 0) {
      waivable.push({ rule: 'git.approvalPaths', reason: `held for approval: changes ${escapeControl(touched[0]!)}${more(touched.length)}` });
    }
  }
  if (!grant) holds.push(...waivable);

  const first = holds[0];
  if (first) return { verdict: 'hold', rule: first.rule, reason: first.reason, ref, holdReasons: holds.map((hold) => hold.reason) };
  if (grant && waivable.length > 0) {
    const until = grant.expiresAt.toISOString();
    return { verdict: 'allow', rule: 'git.grant', reason: `allowed by grant ${grant.id} (${agent}, ${grant.refPattern}, until ${until})`, ref };
  }
  return { verdict: 'allow', rule: 'git.allow', reason: 'allowed: no guardrail applies', ref };
}

/**
 * Decides every ref of one push. With `atomic` (the client asked for an atomic push), the push
 * lands whole or not at all: if any ref is blocked every ref is blocked, else if any is held every
 * ref is held; the refs that caused it keep their reasons, the others say ATOMIC_REFUSAL.
 */
export function decidePush(agent: string, updates: RefUpdateFacts[], policy: GitPolicy, now: Date, options: { atomic: boolean }): RefDecision[] {
  const decisions = updates.map((update) => decideRefUpdate(agent, update, policy, now));
  if (!options.atomic) return decisions;
  const strictest = decisions.some((d) => d.verdict === 'block') ? 'block' : decisions.some((d) => d.verdict === 'hold') ? 'hold' : 'allow';
  if (strictest === 'allow') return decisions;
  return decisions.map((decision) => {
    if (decision.verdict === strictest) return decision;
    if (strictest === 'block') return { verdict: 'block', rule: 'git.atomic', reason: ATOMIC_REFUSAL, ref: decision.ref };
    return { verdict: 'hold', rule: 'git.atomic', reason: ATOMIC_REFUSAL, ref: decision.ref, holdReasons: [ATOMIC_REFUSAL] };
  });
}

function forbids(mode: ForbidMode, isProtected: boolean): boolean {
  return mode === 'all' || (mode === 'protected' && isProtected);
}

/** A grant counts only while unexpired (`expiresAt` is exclusive) and only for refs its pattern matches. */
function activeGrant(update: RefUpdateFacts, now: Date): GrantFact | undefined {
  const { grant } = update;
  if (!grant) return undefined;
  if (!(grant.expiresAt.getTime() > now.getTime())) return undefined;
  return refMatcher(grant.refPattern)(update.ref) ? grant : undefined;
}

function describeSecrets(secrets: SecretFact[]): string {
  const first = secrets[0]!;
  return `secret detected: ${escapeControl(first.ruleId)} in ${escapeControl(first.path)}:${first.line} @ ${first.commit.slice(0, 7)}${more(secrets.length)}`;
}

function more(count: number): string {
  return count > 1 ? ` (+${count - 1} more)` : '';
}

/**
 * Paths may hold any byte but NUL, newlines included; a reason travels in one report-status line and
 * in `remote:` lines, so control characters are written as escapes and cannot forge extra lines.
 */
function escapeControl(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => CONTROL_ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const CONTROL_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function matchesAny(globs: readonly string[], subject: string, matcherOf: (glob: string) => (subject: string) => boolean): boolean {
  return globs.some((glob) => matcherOf(glob)(subject));
}

// Compiled globs, memoised: policies are small and reloaded rarely, grants add a few patterns.
const MAX_MATCHERS = 5_000;
const refMatchers = new Map<string, (subject: string) => boolean>();
const pathMatchers = new Map<string, (subject: string) => boolean>();

/*
 * Flag `s`: picomatch builds `**` from `.`, which skips newlines without it, and a path may contain
 * a newline: `.github/workflows/a<LF>b.yml` must not slip past `.github/workflows/**`.
 */

/** Ref globs match whole refs, case-sensitively as git compares refs; `*` stays within one segment. */
function refMatcher(glob: string): (ref: string) => boolean {
  return memo(refMatchers, glob, () => picomatch(glob, { dot: true, flags: 's' }));
}

/**
 * Path globs ignore case (flag `i`): on case-insensitive checkouts `.GitHub/Workflows/x.yml` is the
 * same file, and holding one push too many is the safe side.
 */
function pathMatcher(glob: string): (path: string) => boolean {
  return memo(pathMatchers, glob, () => picomatch(glob, { dot: true, flags: 'is' }));
}

function memo(cache: Map<string, (subject: string) => boolean>, glob: string, compile: () => (subject: string) => boolean): (subject: string) => boolean {
  let matcher = cache.get(glob);
  if (!matcher) {
    if (cache.size >= MAX_MATCHERS) cache.clear();
    matcher = compile();
    cache.set(glob, matcher);
  }
  return matcher;
}
