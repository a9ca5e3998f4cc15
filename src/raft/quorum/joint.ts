/**
 * JointConfig: the two majority configs of joint consensus (Raft thesis §4.3, etcd-io/raft
 * quorum/joint.go). Decisions need a majority of the incoming AND of the outgoing voters.
 * Outside of a joint transition the outgoing half is empty, and an empty half never constrains
 * anything (it commits Infinity and wins every vote), so the config acts as its incoming half.
 * Instances are immutable.
 */
import {type AckedIndexer, MajorityConfig} from './majority.js'
import {VoteResult} from './vote_result.js'

/** The pair (incoming, outgoing) of voter sets; raft-rs names, etcd's Voters[0] / Voters[1]. */
export class JointConfig {
  /** The voters of the configuration being entered (the only voters when not joint). */
  readonly incoming: MajorityConfig
  /** The voters of the configuration being left; empty when the config is not joint. */
  readonly outgoing: MajorityConfig

  constructor(incoming: MajorityConfig, outgoing: MajorityConfig = new MajorityConfig()) {
    this.incoming = incoming
    this.outgoing = outgoing
  }

  /** Whether this is a joint config, i.e. the outgoing half is non-empty. */
  isJoint(): boolean {
    return this.outgoing.size > 0
  }

  /** Returns a new set holding the voters of both halves. */
  ids(): Set<number> {
    return new Set([...this.incoming, ...this.outgoing])
  }

  /** Whether `id` is a voter in either half. */
  has(id: number): boolean {
    return this.incoming.has(id) || this.outgoing.has(id)
  }

  /** Whether both halves hold exactly the same voters as `other`'s. */
  equals(other: JointConfig): boolean {
    return this.incoming.equals(other.incoming) && this.outgoing.equals(other.outgoing)
  }

  /**
   * The largest index acknowledged by a majority of each half: the minimum of the halves'
   * committed indexes (an empty half contributes Infinity, so a fully empty config is Infinity).
   */
  committedIndex(acked: AckedIndexer): number {
    return Math.min(this.incoming.committedIndex(acked), this.outgoing.committedIndex(acked))
  }

  /**
   * The joint outcome of `votes`: Lost if either half lost, Won only if both halves won,
   * otherwise Pending.
   */
  voteResult(votes: ReadonlyMap<number, boolean>): VoteResult {
    const r1 = this.incoming.voteResult(votes)
    const r2 = this.outgoing.voteResult(votes)
    if (r1 === r2) return r1
    if (r1 === VoteResult.Lost || r2 === VoteResult.Lost) return VoteResult.Lost
    return VoteResult.Pending
  }

  /** The acked-index picture (see MajorityConfig.describe) over the voters of both halves. */
  describe(acked: AckedIndexer): string {
    return new MajorityConfig(this.ids()).describe(acked)
  }

  /** "(1 2 3)" when not joint, "(1 2)&&(1)" (incoming && outgoing) when joint. */
  toString(): string {
    return this.isJoint() ? `${this.incoming}&&${this.outgoing}` : this.incoming.toString()
  }
}
