/**
 * Progress: the leader's view of one follower's log (etcd-io/raft v3.6 tracker/progress.go).
 * Raft paper §5.3 calls `next` nextIndex and `match` matchIndex.
 */
import {InvalidInputError, RaftInvariantError} from '../errors.js'
import {Inflights} from './inflights.js'
import {ProgressState} from './state.js'

/** Options of a new Progress; `match` defaults to 0 and `isLearner` to false. */
export interface ProgressOptions {
  readonly next: number
  readonly match?: number
  readonly maxInflight: number
  readonly maxInflightBytes?: number
  readonly isLearner?: boolean
}

/**
 * One follower's replication progress. Invariants: 0 <= match < next (so next >= 1); in
 * StateSnapshot, next == pendingSnapshot + 1 and sentCommit == pendingSnapshot; in StateProbe
 * and StateReplicate pendingSnapshot == 0.
 */
export class Progress {
  /** The highest index known to match the leader's log. */
  match: number
  /** The next index to send. Entries in (match, next) are already in flight. */
  next: number
  /**
   * The highest commit index in flight to the follower. Mostly monotonic, but it regresses when
   * the progress moves to StateProbe or the follower rejects an append.
   */
  sentCommit = 0
  /** How the leader currently talks to this follower; see ProgressState. */
  state: ProgressState = ProgressState.Probe
  /** In StateSnapshot, the index of the snapshot being sent; otherwise 0. */
  pendingSnapshot = 0
  /**
   * Whether the follower was heard from recently (reset by check-quorum every election
   * timeout). New progress starts active so check-quorum does not count a node just added as
   * unreachable.
   */
  recentActive = false
  /**
   * Whether sending appends is paused: in StateProbe after one append until a response arrives;
   * in StateReplicate while the inflights window is full.
   */
  msgAppFlowPaused = false
  /** The window of appends in flight, used in StateReplicate. */
  inflights: Inflights
  /** Whether the follower is a learner (it receives the log but never votes). */
  isLearner: boolean

  constructor(opts: ProgressOptions) {
    const match = opts.match ?? 0
    if (!Number.isSafeInteger(match) || match < 0) {
      throw new InvalidInputError(`progress match must be a non-negative safe integer, got ${match}`)
    }
    if (!Number.isSafeInteger(opts.next) || opts.next <= match) {
      throw new InvalidInputError(`progress next must be a safe integer above match ${match}, got ${opts.next}`)
    }
    this.match = match
    this.next = opts.next
    this.inflights = new Inflights(opts.maxInflight, opts.maxInflightBytes ?? 0)
    this.isLearner = opts.isLearner ?? false
  }

  /** Returns an independent copy (inflights included). */
  clone(): Progress {
    const c = new Progress({next: this.next, match: this.match, maxInflight: 1})
    c.sentCommit = this.sentCommit
    c.state = this.state
    c.pendingSnapshot = this.pendingSnapshot
    c.recentActive = this.recentActive
    c.msgAppFlowPaused = this.msgAppFlowPaused
    c.inflights = this.inflights.clone()
    c.isLearner = this.isLearner
    return c
  }

  /** Moves to `state`, unpausing and clearing the pending snapshot and the inflights. */
  resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false
    this.pendingSnapshot = 0
    this.state = state
    this.inflights.reset()
  }

  /**
   * Moves to StateProbe. Coming from StateSnapshot the snapshot is known to have been sent, so
   * probing starts after it: next = max(match + 1, pendingSnapshot + 1); else next = match + 1.
   */
  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      const pendingSnapshot = this.pendingSnapshot
      this.resetState(ProgressState.Probe)
      this.next = Math.max(this.match + 1, pendingSnapshot + 1)
    } else {
      this.resetState(ProgressState.Probe)
      this.next = this.match + 1
    }
    this.sentCommit = Math.min(this.sentCommit, this.next - 1)
  }

  /** Moves to StateReplicate, streaming from match + 1. */
  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate)
    this.next = this.match + 1
  }

  /** Moves to StateSnapshot while the snapshot at `snapshotIndex` is sent. */
  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot)
    this.pendingSnapshot = snapshotIndex
    this.next = snapshotIndex + 1
    this.sentCommit = snapshotIndex
  }

  /**
   * Updates the progress after an append of `entries` entries totalling `bytes` bytes was sent.
   * In StateReplicate next advances and the append enters the inflights window (pausing when it
   * fills); in StateProbe a non-empty append pauses until the follower answers. Sending in
   * StateSnapshot is a bug and throws.
   */
  sentEntries(entries: number, bytes: number): void {
    switch (this.state) {
      case ProgressState.Replicate:
        if (entries > 0) {
          this.next += entries
          this.inflights.add(this.next - 1, bytes)
        }
        this.msgAppFlowPaused = this.inflights.full()
        return
      case ProgressState.Probe:
        if (entries > 0) this.msgAppFlowPaused = true
        return
      default:
        throw new RaftInvariantError(`sending append in unhandled state ${this.state}`)
    }
  }

  /**
   * Whether sending commit index `index` would tell the follower something new: it is above
   * sentCommit and the follower's log (up to next - 1) can take a higher commit.
   */
  canBumpCommit(index: number): boolean {
    return index > this.sentCommit && this.sentCommit < this.next - 1
  }

  /** Records that commit index `commit` was sent to the follower (etcd SentCommit). */
  updateSentCommit(commit: number): void {
    this.sentCommit = commit
  }

  /**
   * Records that the follower acknowledged up to `n`. Returns false for a stale (not newer)
   * acknowledgement; otherwise raises match, keeps next above it and unpauses.
   */
  maybeUpdate(n: number): boolean {
    if (n <= this.match) return false
    this.match = n
    this.next = Math.max(this.next, n + 1)
    this.msgAppFlowPaused = false
    return true
  }

  /**
   * Handles the rejection of an append at index `rejected`, with the follower's hint that its
   * log may match up to `matchHint`. Returns false if the rejection is stale. In StateReplicate
   * next falls back to match + 1 (the caller then moves to StateProbe); in StateProbe only a
   * rejection of the latest probe (next - 1) counts, and next becomes
   * max(min(rejected, matchHint + 1), match + 1).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false
      this.next = this.match + 1
      this.sentCommit = Math.min(this.sentCommit, this.next - 1)
      return true
    }
    if (this.next - 1 !== rejected) return false
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1)
    this.sentCommit = Math.min(this.sentCommit, this.next - 1)
    this.msgAppFlowPaused = false
    return true
  }

  /**
   * Whether the leader should hold back appends to this follower: in StateProbe and
   * StateReplicate when msgAppFlowPaused is set; always in StateSnapshot.
   */
  isPaused(): boolean {
    return this.state === ProgressState.Snapshot || this.msgAppFlowPaused
  }

  /** e.g. "StateReplicate match=5 next=6 learner paused pendingSnap=3 inactive inflight=2[full]". */
  toString(): string {
    let s = `${this.state} match=${this.match} next=${this.next}`
    if (this.isLearner) s += ' learner'
    if (this.isPaused()) s += ' paused'
    if (this.pendingSnapshot > 0) s += ` pendingSnap=${this.pendingSnapshot}`
    if (!this.recentActive) s += ' inactive'
    const n = this.inflights.count()
    if (n > 0) s += ` inflight=${n}${this.inflights.full() ? '[full]' : ''}`
    return s
  }
}

/** The progress of every node in the config (voters, learners, learnersNext) by id. */
export type ProgressMap = Map<number, Progress>

/** One line per node in ascending id order: "1: StateProbe match=0 next=1". */
export function progressMapToString(m: ReadonlyMap<number, Progress>): string {
  return [...m.keys()].sort((a, b) => a - b).map((id) => `${id}: ${m.get(id)}\n`).join('')
}
