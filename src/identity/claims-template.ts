/**
 * Scope patterns from `identity.oidc[].scopes` may name token claims, e.g. `github/{repository}`.
 * A claim value is spliced in only when it is a plain path-like string; anything else drops the
 * whole pattern. Dropping rather than escaping is deliberate: a value such as `*`, `acme/**`,
 * `{a,b}` or `../x` would otherwise turn one repository into a glob over many (fail closed,
 * never widen).
 */

/** Letters, digits and `._/-`: enough for `acme/app`, `refs/heads/main`, client ids and UUIDs. */
const SAFE_CLAIM_VALUE = /^[A-Za-z0-9._/-]+$/;

/** The longest claim value we accept as an agent name or placeholder value. */
export const MAX_CLAIM_VALUE_LENGTH = 200;

/**
 * `{name}` with a claim-like name. Picomatch brace sets such as `{app,lib}` contain a comma and
 * are left alone, so they keep their glob meaning.
 */
const PLACEHOLDER = /\{([A-Za-z0-9_.:-]+)\}/g;

export function isSafeClaimValue(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length <= MAX_CLAIM_VALUE_LENGTH &&
    SAFE_CLAIM_VALUE.test(value) &&
    !value.includes('..')
  );
}

/** The pattern with every `{claim}` replaced, or `undefined` when any placeholder cannot be filled safely. */
export function expandScopeTemplate(pattern: string, claims: Readonly<Record<string, unknown>>): string | undefined {
  let unsafe = false;
  const expanded = pattern.replace(PLACEHOLDER, (_placeholder, name: string) => {
    const value = Object.hasOwn(claims, name) ? claims[name] : undefined;
    if (!isSafeClaimValue(value)) {
      unsafe = true;
      return '';
    }
    return value;
  });
  return unsafe ? undefined : expanded;
}

/** Expands each pattern, keeping only those whose placeholders were all filled safely. */
export function expandScopeTemplates(patterns: readonly string[], claims: Readonly<Record<string, unknown>>): string[] {
  const expanded: string[] = [];
  for (const pattern of patterns) {
    const result = expandScopeTemplate(pattern, claims);
    if (result !== undefined) expanded.push(result);
  }
  return expanded;
}
