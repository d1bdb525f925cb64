/**
 * Our own pattern rules. Each is anchored on literal keywords: the engine finds every keyword
 * occurrence with one combined search, then tries the rule's sticky regex at that position. With
 * bounded quantifiers only, a rule costs (occurrences × bound) on any line, however long — there is
 * no unanchored or lazy prefix for V8 to backtrack over.
 */
export interface PatternRule {
  /** Stable id reported in findings, e.g. 'github-token'. */
  id: string;
  /** For people: what was found and what to do; never contains the secret. */
  message: string;
  /**
   * Literal strings, matched case-insensitively; the pattern is tried where one starts. A rule fires
   * only where a keyword does, so these are also its prefilter.
   */
  keywords: readonly string[];
  /**
   * Tried at each keyword position (flags `y` and `d` are added). Quantifiers must be bounded;
   * lookbehind may reach before the keyword.
   */
  pattern: RegExp;
  /**
   * Capture group holding the secret: the first group from this index on that took part in the
   * match (so alternatives `"(…)"|'(…)'|(…)` work); default the whole match.
   */
  secretGroup?: number;
  /** The secret runs from the start of this group (captured by a lookbehind) to the end of the match. */
  secretStartsAtGroup?: number;
  /** Public part shown in previews, e.g. 'ghp_'; a function for prefixes that vary. */
  publicPrefix?: (secret: string) => string;
  /** Extra check on the secret (checksum, entropy, placeholder); `context` is the text searched and where the match starts. */
  accept?: (secret: string, match: RegExpExecArray, context: MatchContext) => boolean;
  /** Lower wins when two rules report the same secret on the same line: specific rules before generic ones. */
  priority?: number;
}

export interface MatchContext {
  text: string;
  index: number;
}

/** Priorities: a provider's own format beats a credential in a URL, which beats a keyword assignment. */
export const PRIORITY = { provider: 0, url: 1, secretlint: 2, generic: 3 } as const;
