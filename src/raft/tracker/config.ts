/**
 * TrackerConfig: the membership a ProgressTracker works with (etcd-io/raft tracker.Config).
 * Plain data: the core switches configuration by assigning a new TrackerConfig (and a new
 * progress map), never by editing the one in use.
 */
import {formatIds} from '../quorum/ids.js'
import {JointConfig, MajorityConfig} from '../quorum/index.js'

/**
 * The voters (possibly joint), learners, staged learners and auto-leave flag. Invariants
 * (enforced by confchange.checkInvariants): learners are voters in neither half; learnersNext ⊆
 * voters.outgoing; learnersNext is empty and autoLeave false unless the config is joint.
 */
export interface TrackerConfig {
  /** The voters; joint while a joint-consensus change is in progress. */
  voters: JointConfig
  /**
   * Nodes that receive the log but do not vote. Never voters in either half: a voter demoted
   * during a joint change waits in learnersNext instead.
   */
  learners: Set<number>
  /**
   * Nodes that become learners when the joint config is left. They are still voters in the
   * outgoing half (and so cannot be learners yet). Empty unless joint.
   */
  learnersNext: Set<number>
  /**
   * Whether the joint config is left automatically: the leader proposes the empty
   * ConfChangeV2 once the entering change is applied. False unless joint.
   */
  autoLeave: boolean
}

/** Returns a new empty config: no voters, no learners, not joint. */
export function emptyConfig(): TrackerConfig {
  return {
    voters: new JointConfig(new MajorityConfig()), learners: new Set(), learnersNext: new Set(), autoLeave: false,
  }
}

/**
 * Returns a copy whose sets can be changed without affecting `c` (the voter configs are
 * immutable and shared).
 */
export function cloneConfig(c: TrackerConfig): TrackerConfig {
  return {voters: c.voters, learners: new Set(c.learners), learnersNext: new Set(c.learnersNext), autoLeave: c.autoLeave}
}

/**
 * etcd's rendering, e.g. "voters=(1 2)&&(1) learners=(3) learners_next=(4) autoleave"; empty
 * learner sets and a false autoLeave are left out.
 */
export function configToString(c: TrackerConfig): string {
  let s = `voters=${c.voters}`
  if (c.learners.size > 0) s += ` learners=${formatIds(sortedIds(c.learners))}`
  if (c.learnersNext.size > 0) s += ` learners_next=${formatIds(sortedIds(c.learnersNext))}`
  if (c.autoLeave) s += ' autoleave'
  return s
}

/** The ids of a set, sorted ascending. */
export function sortedIds(ids: Iterable<number>): number[] {
  return [...ids].sort((a, b) => a - b)
}
