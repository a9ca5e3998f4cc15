/**
 * ProgressTracker: the leader's bookkeeping of the configuration, of every node's Progress and
 * of the votes of a campaign (etcd-io/raft v3.6 tracker/tracker.go).
 */
import {InvalidInputError} from '../errors.js'
import {VoteResult} from '../quorum/index.js'
import type {ConfState} from '../types.js'
import {emptyConfig, sortedIds, type TrackerConfig} from './config.js'
import type {Progress, ProgressMap} from './progress.js'

/** The outcome of tallyVotes: counts among current voters and the quorum's verdict. */
export interface VoteTally {
  readonly granted: number
  readonly rejected: number
  readonly result: VoteResult
}

/**
 * Tracks the active configuration and the progress of its nodes. Invariant (maintained by
 * confchange): `progress` has an entry for exactly the voters (both halves), learners and
 * learnersNext of `config`.
 */
export class ProgressTracker {
  /** The active configuration; the core replaces it (with `progress`) to switch config. */
  config: TrackerConfig = emptyConfig()
  /** The progress of every node of `config`; replaced together with `config`. */
  progress: ProgressMap = new Map()
  /** The votes received in the current campaign (true = granted), by voter id. */
  votes = new Map<number, boolean>()

  /**
   * `maxInflight` bounds the appends in flight per follower (positive); `maxInflightBytes`
   * their total bytes, 0 meaning unlimited. Both are used for every Progress created for it.
   */
  constructor(readonly maxInflight: number, readonly maxInflightBytes = 0) {
    if (!Number.isSafeInteger(maxInflight) || maxInflight <= 0) {
      throw new InvalidInputError(`maxInflight must be a positive safe integer, got ${maxInflight}`)
    }
    if (!Number.isSafeInteger(maxInflightBytes) || maxInflightBytes < 0) {
      throw new InvalidInputError(`maxInflightBytes must be a non-negative safe integer, got ${maxInflightBytes}`)
    }
  }

  /** The configuration as a ConfState, ids sorted ascending. */
  confState(): ConfState {
    return {
      voters: this.config.voters.incoming.slice(),
      learners: sortedIds(this.config.learners),
      votersOutgoing: this.config.voters.outgoing.slice(),
      learnersNext: sortedIds(this.config.learnersNext),
      autoLeave: this.config.autoLeave,
    }
  }

  /** Whether the config has exactly one voter and is not joint. */
  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && !this.config.voters.isJoint()
  }

  /**
   * The largest index that the voters (both halves when joint) have replicated on a quorum,
   * according to their `match`. Infinity when there are no voters.
   */
  committed(): number {
    return this.config.voters.committedIndex((id) => this.progress.get(id)?.match)
  }

  /** Calls `f` for every node with progress, in ascending id order. */
  visit(f: (id: number, pr: Progress) => void): void {
    for (const id of sortedIds(this.progress.keys())) {
      const pr = this.progress.get(id)
      if (pr !== undefined) f(id, pr)
    }
  }

  /**
   * Whether a quorum of voters (of both halves when joint) has been recently active
   * (check-quorum, thesis §6.2). Learners do not count.
   */
  quorumActive(): boolean {
    const votes = new Map<number, boolean>()
    for (const id of this.config.voters.ids()) {
      const pr = this.progress.get(id)
      if (pr !== undefined && !pr.isLearner) votes.set(id, pr.recentActive)
    }
    return this.config.voters.voteResult(votes) === VoteResult.Won
  }

  /** The voters of both halves, sorted ascending. */
  voterNodes(): number[] {
    return sortedIds(this.config.voters.ids())
  }

  /** The learners, sorted ascending (learnersNext are not included). */
  learnerNodes(): number[] {
    return sortedIds(this.config.learners)
  }

  /** Forgets the votes of the previous campaign. */
  resetVotes(): void {
    this.votes = new Map()
  }

  /** Records `id`'s vote; only the first vote of a node in a campaign counts. */
  recordVote(id: number, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted)
  }

  /**
   * Counts the granted and rejected votes of current voters (votes of other nodes are ignored)
   * and returns the verdict of the (joint) quorum.
   */
  tallyVotes(): VoteTally {
    let granted = 0
    let rejected = 0
    for (const id of this.config.voters.ids()) {
      const v = this.votes.get(id)
      if (v === true) granted++
      else if (v === false) rejected++
    }
    return {granted, rejected, result: this.config.voters.voteResult(this.votes)}
  }
}
