import type { KeyObject } from 'node:crypto';
import { CHECKPOINT_EVENT_TYPE, publicKeyId, verifyCheckpoint } from './checkpoint.ts';
import type { Checkpoint } from './checkpoint.ts';
import { GENESIS_HASH, eventHash } from './event.ts';
import type { ChainedEvent } from './event.ts';
import { earlierProblem, problems } from './problems.ts';
import type { ChainProblem } from './problems.ts';

export type { ChainProblem } from './problems.ts';

export interface VerifyResult {
  ok: boolean;
  events: number;
  /** Checkpoints with a valid signature by a trusted key. */
  checkpoints: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** Highest validly signed checkpoint that matched an event. */
  lastCheckpointSeq: number | null;
  /** The first problem in seq order. */
  problem: ChainProblem | null;
}

export interface ChainVerifierOptions {
  publicKeys: KeyObject[];
  /** Hash of the event before the first one fed (when verifying from a middle seq, --from). */
  startPrevHash?: string;
  /** Seq the first fed event must have (--from, or an export's `from`). */
  startSeq?: number;
}

/** The event that raised the first stream problem, kept to tell an insertion or a swap from its neighbour. */
interface Suspect {
  position: number;
  seq: unknown;
  prevHash: unknown;
  hashBefore: string | null;
  wasFirst: boolean;
  awaitingNext: boolean;
  /** For a gap: the seq that was missing; seeing it later means reordering, not deletion. */
  missingSeq: number | null;
}

/**
 * Streaming verifier. Feed events in stored order and checkpoints at any time before finish().
 * Memory is O(1) in events; checkpoints and the hashes of `audit.checkpoint` events are kept in maps.
 *
 * A checkpoint is matched against its event when whichever of the two comes second arrives. For an
 * ordinary event that means the checkpoint must come before the event or right after it; for an
 * `audit.checkpoint` event (the normal case) it may come at any time.
 *
 * Not detectable from the chain alone: cutting off (or appending to) the tail after the last checkpoint,
 * and deleting a head segment that ends at a checkpoint (it looks exactly like retention). A later
 * checkpoint, or an export header's `to`, catches the former.
 */
export class ChainVerifier {
  private readonly keysById = new Map<string, KeyObject>();
  private readonly startPrevHash: string | undefined;
  private readonly startSeq: number | undefined;
  private readonly checkpointsBySeq = new Map<number, Checkpoint[]>();
  private readonly matchedCheckpointSeqs = new Set<number>();
  private readonly markerHashes = new Map<number, string>();
  private validCheckpoints = 0;
  private lastMatchedCheckpointSeq: number | null = null;

  private eventCount = 0;
  private firstSeq: number | null = null;
  private firstPrevHash: unknown = null;
  private guessedPrunedStart = false;
  private lastSeq: number | null = null;
  private highestSeq = 0;
  private lastEvent: { seq: number; hash: string } | null = null;

  private expectedSeq = 0;
  private expectedPrevHash: string | null = null;
  private prevPrevHash: string | null = null;

  private streamProblem: ChainProblem | null = null;
  private suspect: Suspect | null = null;
  private otherProblem: ChainProblem | null = null;

  constructor(options: ChainVerifierOptions) {
    for (const key of options.publicKeys) this.keysById.set(publicKeyId(key), key);
    this.startPrevHash = options.startPrevHash;
    this.startSeq = options.startSeq;
  }

  addCheckpoint(c: Checkpoint): void {
    const seq = Number.isSafeInteger(c.seq) ? c.seq : 0;
    const key = this.keysById.get(c.keyId);
    if (key === undefined) return this.note(problems.unknownKey(seq, c.keyId));
    if (!verifyCheckpoint(c, key)) return this.note(problems.badSignature(seq));
    this.validCheckpoints += 1;
    const list = this.checkpointsBySeq.get(seq);
    if (list === undefined) this.checkpointsBySeq.set(seq, [c]);
    else list.push(c);
    const markerHash = this.markerHashes.get(seq);
    if (markerHash !== undefined) this.matchCheckpoints(seq, markerHash);
    else if (this.lastEvent?.seq === seq) this.matchCheckpoints(seq, this.lastEvent.hash);
  }

  addEvent(e: ChainedEvent): void {
    this.eventCount += 1;
    const seqIsValid = Number.isSafeInteger(e.seq) && e.seq >= 1;
    const hashIsValid = typeof e.prevHash === 'string' && typeof e.hash === 'string' && safeHash(e) === e.hash;
    const wasFirst = this.firstSeq === null;
    if (wasFirst) this.startAt(e, seqIsValid, hashIsValid);
    const position = this.expectedSeq;
    const hashBefore = this.expectedPrevHash;

    if (this.streamProblem === null) {
      const found = this.check(e, position, hashBefore, seqIsValid, hashIsValid);
      if (found !== null) {
        this.streamProblem = found;
        this.suspect = {
          position, seq: e.seq, prevHash: e.prevHash, hashBefore, wasFirst,
          awaitingNext: found.kind === 'modified' || found.kind === 'deleted',
          missingSeq: found.kind === 'deleted' ? position : null,
        };
      }
    } else if (this.suspect !== null) {
      this.reconsider(this.suspect, e, hashIsValid);
    }

    const seq = seqIsValid ? e.seq : position;
    this.prevPrevHash = hashBefore;
    this.expectedPrevHash = typeof e.hash === 'string' ? e.hash : null;
    this.expectedSeq = seq + 1;
    this.lastSeq = seq;
    if (seq > this.highestSeq) this.highestSeq = seq;
    if (seqIsValid && hashIsValid && e.seq === position) {
      this.lastEvent = { seq, hash: e.hash };
      if (e.type === CHECKPOINT_EVENT_TYPE) this.markerHashes.set(seq, e.hash);
      if (this.checkpointsBySeq.has(seq)) this.matchCheckpoints(seq, e.hash);
    } else {
      this.lastEvent = null;
    }
  }

  finish(): VerifyResult {
    let problem = this.otherProblem;
    for (const [seq, list] of this.checkpointsBySeq) {
      if (this.matchedCheckpointSeqs.has(seq)) continue;
      if (this.firstSeq === null || seq > this.highestSeq) {
        const lastSeq = this.firstSeq === null ? (this.startSeq ?? 1) - 1 : this.highestSeq;
        if (seq > lastSeq) problem = earlierProblem(problem, problems.tailMissing(lastSeq, seq, `the signed checkpoint for event ${seq}`));
      } else if (seq === this.firstSeq - 1) {
        if (list.every((c) => c.hash !== this.firstPrevHash)) problem = earlierProblem(problem, problems.startDisagrees(seq));
      } else if (seq >= this.firstSeq) {
        problem = earlierProblem(problem, problems.checkpointUnmatched(seq));
      }
    }
    for (const seq of this.markerHashes.keys()) {
      if (!this.checkpointsBySeq.has(seq)) problem = earlierProblem(problem, problems.checkpointMissing(seq));
    }
    if (this.guessedPrunedStart && this.firstSeq !== null && !this.checkpointsBySeq.has(this.firstSeq - 1)) {
      problem = earlierProblem(problem, problems.headMissing(this.firstSeq));
    }
    if (this.streamProblem !== null) problem = problem === null || this.streamProblem.seq <= problem.seq ? this.streamProblem : problem;
    return {
      ok: problem === null,
      events: this.eventCount,
      checkpoints: this.validCheckpoints,
      firstSeq: this.firstSeq,
      lastSeq: this.lastSeq,
      lastCheckpointSeq: this.lastMatchedCheckpointSeq,
      problem,
    };
  }

  private startAt(e: ChainedEvent, seqIsValid: boolean, hashIsValid: boolean): void {
    const noStartGiven = this.startSeq === undefined && this.startPrevHash === undefined;
    let seq: number;
    if (this.startSeq !== undefined) seq = this.startSeq;
    else if (e.prevHash === GENESIS_HASH || !seqIsValid) seq = 1;
    else seq = e.seq;
    this.guessedPrunedStart = noStartGiven && seq > 1 && hashIsValid;
    this.firstSeq = seq;
    this.firstPrevHash = e.prevHash;
    this.expectedSeq = seq;
    this.expectedPrevHash = this.startPrevHash ?? (seq === 1 ? GENESIS_HASH : null);
  }

  /** The problem this event shows on its own, given where it stands. */
  private check(e: ChainedEvent, position: number, hashBefore: string | null, seqIsValid: boolean, hashIsValid: boolean): ChainProblem | null {
    if (!seqIsValid) return problems.seqUnreadable(position);
    if (!hashIsValid) return problems.contentChanged(position);
    if (e.seq > position) return problems.gap(position, e.seq);
    if (e.seq < position) {
      if (this.guessedPrunedStart && this.firstSeq !== null && e.seq < this.firstSeq) {
        if (this.eventCount === 2 && e.seq === 1 && e.prevHash === GENESIS_HASH) {
          return this.firstSeq === 2 && this.firstPrevHash === e.hash ? problems.swappedWithNext(1) : problems.insertedBefore(1);
        }
        return problems.moved(e.seq, position - 1);
      }
      if (e.seq === position - 1 && e.prevHash === this.prevPrevHash) return problems.duplicated(e.seq);
      return problems.strayNumber(position, e.seq);
    }
    if (hashBefore !== null && e.prevHash !== hashBefore) {
      return this.startPrevHash !== undefined && position === this.firstSeq ? problems.startBroken(position) : problems.linkBroken(position);
    }
    return null;
  }

  /**
   * After the first problem: if the next event is the one that belonged where the suspect stood, the
   * suspect was inserted (or swapped with it); if a missing seq turns up later, it was moved, not deleted
   * (and when the chain seemed to start late, the lowest seq turning up later is the first one moved).
   */
  private reconsider(suspect: Suspect, e: ChainedEvent, hashIsValid: boolean): void {
    if (!hashIsValid) {
      suspect.awaitingNext = false;
      return;
    }
    if (suspect.awaitingNext) {
      suspect.awaitingNext = false;
      const takesSuspectsPlace =
        (e.seq === suspect.position && (suspect.hashBefore === null || e.prevHash === suspect.hashBefore)) ||
        (suspect.wasFirst && this.startSeq === undefined && e.seq === 1 && e.prevHash === GENESIS_HASH);
      if (takesSuspectsPlace) {
        const swapped = suspect.seq === e.seq + 1 && suspect.prevHash === e.hash;
        this.streamProblem = swapped ? problems.swappedWithNext(e.seq) : problems.insertedBefore(e.seq);
        suspect.missingSeq = null;
        return;
      }
    }
    const problem = this.streamProblem;
    const startMovedEarlier = this.guessedPrunedStart && problem?.kind === 'reordered' && Number.isSafeInteger(e.seq) && e.seq >= 1 && e.seq < problem.seq;
    if (startMovedEarlier || (suspect.missingSeq !== null && e.seq === suspect.missingSeq)) {
      this.streamProblem = problems.moved(e.seq, this.lastSeq ?? e.seq);
      suspect.missingSeq = null;
    }
  }

  private matchCheckpoints(seq: number, hash: string): void {
    this.matchedCheckpointSeqs.add(seq);
    for (const c of this.checkpointsBySeq.get(seq) ?? []) {
      if (c.hash !== hash) this.note(problems.checkpointDisagrees(seq));
    }
    if (this.lastMatchedCheckpointSeq === null || seq > this.lastMatchedCheckpointSeq) this.lastMatchedCheckpointSeq = seq;
  }

  private note(problem: ChainProblem): void {
    this.otherProblem = earlierProblem(this.otherProblem, problem);
  }
}

function safeHash(e: ChainedEvent): string | null {
  try {
    return eventHash(e.prevHash, e);
  } catch {
    return null;
  }
}
