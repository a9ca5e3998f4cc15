/**
 * Naive reference implementations of the quorum arithmetic, used to cross-check the real ones
 * in golden files and property tests. They are written for obviousness, not speed.
 */
import {VoteResult} from '../../../src/raft/quorum/index.js'

/** Sort-and-pick: sort the acks (missing = 0) descending and take the majority-th one. */
export function naiveCommittedSortPick(ids: readonly number[], acked: (id: number) => number | undefined): number {
  if (ids.length === 0) return Infinity
  const acks = ids.map((id) => acked(id) ?? 0).sort((a, b) => b - a)
  return acks[Math.floor(ids.length / 2)]
}

/**
 * Threshold search: the largest acked value v such that more than half of the voters acked at
 * least v (0 if none).
 */
export function naiveCommittedThreshold(ids: readonly number[], acked: (id: number) => number | undefined): number {
  if (ids.length === 0) return Infinity
  const acks = ids.map((id) => acked(id) ?? 0)
  let best = 0
  for (const v of acks) {
    const reached = acks.filter((a) => a >= v).length
    if (2 * reached > ids.length && v > best) best = v
  }
  return best
}

/** Counts votes one by one: won by a strict majority of yes, lost once that is impossible. */
export function naiveVote(ids: readonly number[], votes: ReadonlyMap<number, boolean>): VoteResult {
  if (ids.length === 0) return VoteResult.Won
  const yes = ids.filter((id) => votes.get(id) === true).length
  const no = ids.filter((id) => votes.get(id) === false).length
  if (2 * yes > ids.length) return VoteResult.Won
  if (2 * no >= ids.length) return VoteResult.Lost
  return VoteResult.Pending
}

/** Combines two halves' results as joint consensus does, case by case. */
export function naiveJointVote(a: VoteResult, b: VoteResult): VoteResult {
  if (a === VoteResult.Lost || b === VoteResult.Lost) return VoteResult.Lost
  if (a === VoteResult.Won && b === VoteResult.Won) return VoteResult.Won
  return VoteResult.Pending
}
