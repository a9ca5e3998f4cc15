/**
 * Restoring a configuration from a ConfState (etcd-io/raft confchange/restore.go): the
 * ConfState is turned into conf changes that build it from the empty config, so restoring goes
 * through exactly the same checks as any other change.
 */
import {ConfChangeError} from '../errors.js'
import {formatIds} from '../quorum/ids.js'
import {type ConfChangeSingle, ConfChangeType, type ConfState} from '../types.js'
import type {ChangeResult} from './result.js'

/** Anything that can restore a ConfState; the Changer is one. */
export interface Restorer {
  restore(cs: ConfState): ChangeResult
}

/** Restores `cs` with `changer` (same as changer.restore(cs)). */
export function restore(changer: Restorer, cs: ConfState): ChangeResult {
  return changer.restore(cs)
}

/**
 * Translates a ConfState into (1) `outgoing`: simple changes that build the config that will
 * become the outgoing half, and (2) `incoming`: the changes that, applied with enterJoint on top
 * of it, yield the ConfState. Example: voters=(1 2 3) learners=(5) outgoing=(1 2 4 6)
 * learners_next=(4) gives outgoing = add 1, 2, 4, 6 and incoming = remove 1, 2, 4, 6; add 1, 2,
 * 3; add-learner 5; add-learner 4 — entering (1 2 3)&&(1 2 4 6) learners=(5) learners_next=(4).
 * Without outgoing voters, `outgoing` is empty and `incoming` is applied one simple change at a
 * time.
 */
export function toConfChangeSingle(cs: ConfState): {outgoing: ConfChangeSingle[]; incoming: ConfChangeSingle[]} {
  const op = (type: ConfChangeType) => (nodeId: number): ConfChangeSingle => ({type, nodeId})
  const outgoing = cs.votersOutgoing.map(op(ConfChangeType.AddNode))
  const incoming = [
    ...cs.votersOutgoing.map(op(ConfChangeType.RemoveNode)),
    ...cs.voters.map(op(ConfChangeType.AddNode)),
    ...cs.learners.map(op(ConfChangeType.AddLearnerNode)),
    ...cs.learnersNext.map(op(ConfChangeType.AddLearnerNode)),
  ]
  return {outgoing, incoming}
}

/**
 * Returns `cs` with every id list sorted and free of duplicates. Throws ConfChangeError naming
 * the field if an id is not a positive safe integer.
 */
export function normalizeConfState(cs: ConfState): ConfState {
  const ids = (field: string, list: readonly number[]): number[] => {
    for (const id of list) {
      if (!Number.isSafeInteger(id) || id <= 0) {
        throw new ConfChangeError(`invalid node id ${String(id)} in ConfState.${field}: must be a positive safe integer`)
      }
    }
    return [...new Set(list)].sort((a, b) => a - b)
  }
  return {
    voters: ids('voters', cs.voters),
    learners: ids('learners', cs.learners),
    votersOutgoing: ids('votersOutgoing', cs.votersOutgoing),
    learnersNext: ids('learnersNext', cs.learnersNext),
    autoLeave: cs.autoLeave,
  }
}

/** Whether two normalized ConfStates are equal. */
export function sameConfState(a: ConfState, b: ConfState): boolean {
  const eq = (x: readonly number[], y: readonly number[]): boolean => x.length === y.length && x.every((v, i) => v === y[i])
  return eq(a.voters, b.voters) && eq(a.learners, b.learners) && eq(a.votersOutgoing, b.votersOutgoing) &&
    eq(a.learnersNext, b.learnersNext) && a.autoLeave === b.autoLeave
}

/**
 * Renders a ConfState like etcd's tracker.Config: "voters=(1 2)&&(1) learners=(3)
 * learners_next=(4) autoleave" — the outgoing half only while joint, learners and learners_next
 * only when non-empty, autoleave only when set. Ids are printed in the order given (sorted in a
 * ConfState the core produced).
 */
export function formatConfState(cs: ConfState): string {
  let s = `voters=${formatIds(cs.voters)}`
  if (cs.votersOutgoing.length > 0) s += `&&${formatIds(cs.votersOutgoing)}`
  if (cs.learners.length > 0) s += ` learners=${formatIds(cs.learners)}`
  if (cs.learnersNext.length > 0) s += ` learners_next=${formatIds(cs.learnersNext)}`
  if (cs.autoLeave) s += ' autoleave'
  return s
}
