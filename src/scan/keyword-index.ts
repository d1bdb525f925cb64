/**
 * One pass over the text finds every keyword of every rule (ours and secretlint's prefilters):
 * a single case-insensitive alternation, longest keywords first, restarted one character after
 * each hit so keywords that overlap (`--pass`, `--password`) are all seen.
 */
import { PRIORITY, type PatternRule } from './rules/index.ts';
import type { Candidate } from './candidate.ts';

interface KeywordEntry {
  /** Lower-cased keyword. */
  keyword: string;
  rules: PatternRule[];
  /** secretlint rule ids this keyword switches on. */
  secretlintRules: string[];
}

interface CompiledRule {
  rule: PatternRule;
  sticky: RegExp;
}

export interface KeywordHits {
  /** secretlint rules whose prefilter keywords occur in the text. */
  secretlintRules: Set<string>;
}

export interface KeywordIndex {
  /** Runs our pattern rules over `text`; also reports which secretlint rules the text switches on. */
  search(text: string, hits?: KeywordHits): Candidate[];
}

const ESCAPE = /[.*+?^${}()|[\]\\/-]/g;

export function buildKeywordIndex(rules: readonly PatternRule[], secretlintKeywords: ReadonlyMap<string, readonly string[]> = new Map()): KeywordIndex {
  const entries = new Map<string, KeywordEntry>();
  const entry = (keyword: string): KeywordEntry => {
    const key = keyword.toLowerCase();
    let found = entries.get(key);
    if (!found) entries.set(key, (found = { keyword: key, rules: [], secretlintRules: [] }));
    return found;
  };
  for (const rule of rules) for (const keyword of rule.keywords) entry(keyword).rules.push(rule);
  for (const [ruleId, keywords] of secretlintKeywords) for (const keyword of keywords) entry(keyword).secretlintRules.push(ruleId);

  // At a hit, the alternation (longest first) matched the longest keyword starting there; every
  // other keyword starting there is a prefix of it. So each keyword knows the entries to try.
  const atHit = new Map<string, KeywordEntry[]>();
  for (const e of entries.values()) atHit.set(e.keyword, [...entries.values()].filter((other) => e.keyword.startsWith(other.keyword)));
  const alternation = [...entries.keys()].sort((a, b) => b.length - a.length).map((k) => k.replace(ESCAPE, '\\$&'));
  const finder = new RegExp(alternation.join('|'), 'gi');
  const compiled = new Map<PatternRule, CompiledRule>(
    rules.map((rule) => [rule, { rule, sticky: new RegExp(rule.pattern.source, `${rule.pattern.flags.replace(/[gyd]/g, '')}yd`) }]),
  );

  return {
    search(text, hits) {
      const found: Candidate[] = [];
      finder.lastIndex = 0;
      let hit: RegExpExecArray | null;
      while ((hit = finder.exec(text)) !== null) {
        const at = hit.index;
        finder.lastIndex = at + 1;
        const here = atHit.get(hit[0].toLowerCase())!;
        for (let i = 0; i < here.length; i += 1) {
          const e = here[i]!;
          if (hits) for (const id of e.secretlintRules) hits.secretlintRules.add(id);
          for (const rule of e.rules) {
            // A rule with two keywords starting here (`--pass`, `--password`) is tried once.
            if (here.some((other, j) => j < i && other.rules.includes(rule))) continue;
            const candidate = tryRule(compiled.get(rule)!, text, at);
            if (candidate) found.push(candidate);
          }
        }
      }
      return found;
    },
  };
}

function tryRule({ rule, sticky }: CompiledRule, text: string, at: number): Candidate | undefined {
  sticky.lastIndex = at;
  const match = sticky.exec(text);
  if (!match) return undefined;
  const span = secretSpan(rule, match);
  if (!span) return undefined;
  const secret = text.slice(span[0], span[1]);
  if (rule.accept && !rule.accept(secret, match, { text, index: at })) return undefined;
  return {
    ruleId: rule.id,
    message: rule.message,
    priority: rule.priority ?? PRIORITY.generic,
    start: span[0],
    end: span[1],
    secret,
    publicPrefix: rule.publicPrefix?.(secret) ?? '',
  };
}

function secretSpan(rule: PatternRule, match: RegExpExecArray): [number, number] | undefined {
  const indices = match.indices!;
  const end = match.index + match[0].length;
  if (rule.secretStartsAtGroup !== undefined) {
    const group = indices[rule.secretStartsAtGroup];
    return group ? [group[0], end] : undefined;
  }
  if (rule.secretGroup === undefined) return [match.index, end];
  for (let g = rule.secretGroup; g < indices.length; g += 1) {
    const group = indices[g];
    if (group) return [group[0], group[1]];
  }
  return undefined;
}
