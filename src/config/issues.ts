import type { z } from 'zod';

/** One line per validation issue, `key.path[0].name: what is wrong`, for config and policy files alike. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => `  ${formatPath(issue.path)}: ${describeIssue(issue)}`);
}

function formatPath(issuePath: PropertyKey[]): string {
  if (issuePath.length === 0) return '(top level)';
  return issuePath
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`))
    .join('');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  // A bad record key (an agent name) carries the key's own issues inside.
  if (issue.code === 'invalid_key') return `invalid name: ${issue.issues.map((inner) => inner.message).join('; ')}`;
  return issue.message;
}
