/** The one decision type every guardrail returns; `rule` names what decided, `reason` is for people. */
export type Decision =
  | { verdict: 'allow'; rule: string; reason: string }
  | { verdict: 'hold'; rule: string; reason: string }
  | { verdict: 'block'; rule: string; reason: string };
