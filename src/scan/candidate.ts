/** A secret found in some text, before it is placed on a line and fingerprinted. */
export interface Candidate {
  ruleId: string;
  message: string;
  /** Lower wins when two candidates cover the same text (see PRIORITY). */
  priority: number;
  /** Offsets of the secret (or of the text that encodes it) in the searched text. */
  start: number;
  end: number;
  /** The secret value itself: fingerprinted, never reported. */
  secret: string;
  /** Public part of the secret shown in previews, e.g. 'ghp_'. */
  publicPrefix: string;
}
