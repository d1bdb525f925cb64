/** What the verifier reports, worded for the person running `audit verify`. */
export type ChainProblem = {
  kind: 'modified' | 'deleted' | 'inserted' | 'reordered' | 'bad-checkpoint' | 'checkpoint-mismatch' | 'unknown-key';
  seq: number;
  message: string;
};

export const problems = {
  contentChanged: (seq: number): ChainProblem => ({
    kind: 'modified', seq, message: `event ${seq} was modified: its hash does not match its content`,
  }),
  seqUnreadable: (seq: number): ChainProblem => ({
    kind: 'modified', seq, message: `event ${seq} was modified: its seq field is not a positive whole number`,
  }),
  linkBroken: (seq: number): ChainProblem => ({
    kind: 'modified', seq,
    message: `event ${seq} does not follow event ${seq - 1}: its prevHash is not event ${seq - 1}'s hash ` +
      `(one of the two was altered and its hash recomputed, or event ${seq} is forged)`,
  }),
  startBroken: (seq: number): ChainProblem => ({
    kind: 'modified', seq, message: `event ${seq} does not continue the chain from the given starting hash`,
  }),
  gap: (missingFrom: number, foundSeq: number): ChainProblem => ({
    kind: 'deleted', seq: missingFrom,
    message: foundSeq - missingFrom === 1
      ? `event ${missingFrom} was deleted: event ${foundSeq} follows event ${missingFrom - 1}`
      : `events ${missingFrom}–${foundSeq - 1} were deleted: event ${foundSeq} follows event ${missingFrom - 1}`,
  }),
  headMissing: (firstSeq: number): ChainProblem => ({
    kind: 'deleted', seq: firstSeq - 1,
    message: `events before ${firstSeq} are missing: the chain does not start at event 1 and no checkpoint ` +
      `for event ${firstSeq - 1} anchors its start (retention keeps that checkpoint)`,
  }),
  tailMissing: (lastSeq: number, coveredSeq: number, what: string): ChainProblem => ({
    kind: 'deleted', seq: lastSeq + 1,
    message: (coveredSeq > lastSeq + 1 ? `events ${lastSeq + 1}–${coveredSeq} were deleted: ` : `event ${lastSeq + 1} was deleted: `) +
      `${what} covers event ${coveredSeq}, but the chain ends at event ${lastSeq}`,
  }),
  moved: (seq: number, after: number): ChainProblem => ({
    kind: 'reordered', seq, message: `event ${seq} is out of order: it was found after event ${after}`,
  }),
  swappedWithNext: (seq: number): ChainProblem => ({
    kind: 'reordered', seq, message: `events ${seq} and ${seq + 1} were swapped`,
  }),
  insertedBefore: (seq: number): ChainProblem => ({
    kind: 'inserted', seq, message: `an event was inserted before event ${seq}: it does not belong to the chain`,
  }),
  duplicated: (seq: number): ChainProblem => ({
    kind: 'inserted', seq, message: `event ${seq} appears twice: one of the two copies was inserted`,
  }),
  strayNumber: (position: number, claimedSeq: unknown): ChainProblem => ({
    kind: 'inserted', seq: position,
    message: `an event numbered ${String(claimedSeq)} was inserted where event ${position} belongs`,
  }),
  unknownKey: (seq: number, keyId: unknown): ChainProblem => ({
    kind: 'unknown-key', seq,
    message: `the checkpoint for event ${seq} is signed by key ${String(keyId)}, which is not a trusted key`,
  }),
  badSignature: (seq: number): ChainProblem => ({
    kind: 'bad-checkpoint', seq,
    message: `the checkpoint for event ${seq} has an invalid signature: it was altered or forged`,
  }),
  checkpointDisagrees: (seq: number): ChainProblem => ({
    kind: 'checkpoint-mismatch', seq,
    message: `event ${seq} does not match its signed checkpoint: the event was altered and its hash recomputed`,
  }),
  startDisagrees: (seq: number): ChainProblem => ({
    kind: 'checkpoint-mismatch', seq,
    message: `event ${seq + 1} does not follow the signed checkpoint for event ${seq}`,
  }),
  checkpointUnmatched: (seq: number): ChainProblem => ({
    kind: 'checkpoint-mismatch', seq,
    message: `the signed checkpoint for event ${seq} matches no event: event ${seq} is missing or was altered`,
  }),
  checkpointMissing: (seq: number): ChainProblem => ({
    kind: 'checkpoint-mismatch', seq,
    message: `event ${seq} records a checkpoint, but no validly signed checkpoint for event ${seq} was found (deleted or forged)`,
  }),
} as const;

/** The problem with the lower seq; on a tie the one already held. */
export function earlierProblem(held: ChainProblem | null, candidate: ChainProblem): ChainProblem {
  return held !== null && held.seq <= candidate.seq ? held : candidate;
}
