/**
 * The invariants every tracker configuration satisfies (etcd-io/raft confchange
 * checkInvariants, plus the rules of DESIGN.md §2). The Changer checks them on its input and on
 * every result, so a change that would break one is refused, never half-applied.
 */
import {ConfChangeError} from '../errors.js'
import type {ProgressMap, TrackerConfig} from '../tracker/index.js'

/**
 * Throws ConfChangeError naming the first broken invariant:
 * - every voter (both halves), learner and learnersNext has a Progress, and every Progress
 *   belongs to one of them;
 * - learners are voters in neither half and are marked isLearner; voters are not;
 * - learnersNext ⊆ voters.outgoing, disjoint from voters.incoming, and not yet marked isLearner;
 * - a joint config has at least one incoming voter;
 * - a non-joint config has autoLeave = false (and, by learnersNext ⊆ voters.outgoing, no
 *   learnersNext).
 * The empty config is valid (it is where bootstrap starts).
 */
export function checkInvariants(config: TrackerConfig, progress: ProgressMap): void {
  const {voters, learners, learnersNext} = config
  const fail = (msg: string): never => {
    throw new ConfChangeError(`invalid config: ${msg}`)
  }
  const members = new Set([...voters.ids(), ...learners, ...learnersNext])
  for (const id of members) {
    if (!progress.has(id)) fail(`no progress for ${id}`)
  }
  for (const id of progress.keys()) {
    if (!members.has(id)) fail(`progress for ${id}, which is not in the config`)
  }
  for (const id of voters.ids()) {
    if (progress.get(id)?.isLearner === true) fail(`${id} is a voter but its progress is marked as learner`)
  }
  for (const id of learnersNext) {
    if (!voters.outgoing.has(id)) fail(`${id} is in learnersNext, but not in the outgoing voters`)
    if (voters.incoming.has(id)) fail(`${id} is in learnersNext and in the incoming voters`)
  }
  for (const id of learners) {
    if (voters.outgoing.has(id)) fail(`${id} is in learners and in the outgoing voters`)
    if (voters.incoming.has(id)) fail(`${id} is in learners and in the incoming voters`)
    if (progress.get(id)?.isLearner !== true) fail(`${id} is in learners, but its progress is not marked as learner`)
  }
  if (voters.isJoint() && voters.incoming.size === 0) fail('a joint config has no incoming voters')
  if (!voters.isJoint() && config.autoLeave) fail('autoLeave must be false when the config is not joint')
}
