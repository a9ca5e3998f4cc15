/**
 * The single membership operations of a conf change (etcd-io/raft confchange makeVoter,
 * makeLearner, remove, initProgress), applied to a mutable draft that is a deep copy of the
 * tracker's state. Only the finished draft, once its invariants are checked, becomes a result.
 */
import {ConfChangeError} from '../errors.js'
import {JointConfig, MajorityConfig} from '../quorum/index.js'
import type {Progress, ProgressMap, TrackerConfig} from '../tracker/index.js'
import {type ConfChangeSingle, ConfChangeType} from '../types.js'
import {checkInvariants} from './invariants.js'
import type {ChangeResult} from './result.js'

/** A private, mutable copy of a configuration and its progress. */
export interface Draft {
  readonly incoming: Set<number>
  readonly outgoing: Set<number>
  readonly learners: Set<number>
  readonly learnersNext: Set<number>
  autoLeave: boolean
  readonly progress: ProgressMap
}

/** Creates the Progress of a node added to the config; `isLearner` says which kind. */
export type NewProgress = (isLearner: boolean) => Progress

/**
 * Copies `config` and `progress` into a draft: fresh sets and a clone of every Progress, so
 * that editing the draft never touches the originals.
 */
export function draftOf(config: TrackerConfig, progress: ReadonlyMap<number, Progress>): Draft {
  return {
    incoming: new Set(config.voters.incoming),
    outgoing: new Set(config.voters.outgoing),
    learners: new Set(config.learners),
    learnersNext: new Set(config.learnersNext),
    autoLeave: config.autoLeave,
    progress: new Map([...progress].map(([id, pr]) => [id, pr.clone()])),
  }
}

/** Turns a draft into a result after checking its invariants (throws ConfChangeError). */
export function finish(d: Draft): ChangeResult {
  const config: TrackerConfig = {
    voters: new JointConfig(new MajorityConfig(d.incoming), new MajorityConfig(d.outgoing)),
    learners: new Set(d.learners),
    learnersNext: new Set(d.learnersNext),
    autoLeave: d.autoLeave,
  }
  checkInvariants(config, d.progress)
  return {config, progress: d.progress}
}

/**
 * Applies `changes` in order. Changes for node id 0 are ignored (etcd zeroes the id of a change
 * the application decided not to apply). Throws ConfChangeError for a change of unknown type or
 * an invalid id, and "removed all voters" if no incoming voter is left.
 */
export function applyChanges(d: Draft, changes: readonly ConfChangeSingle[], init: NewProgress): void {
  for (const cc of changes) {
    checkChange(cc)
    if (cc.nodeId === 0) continue
    switch (cc.type) {
      case ConfChangeType.AddNode: makeVoter(d, cc.nodeId, init); break
      case ConfChangeType.AddLearnerNode: makeLearner(d, cc.nodeId, init); break
      case ConfChangeType.RemoveNode: remove(d, cc.nodeId); break
      case ConfChangeType.UpdateNode: break
    }
  }
  if (d.incoming.size === 0) throw new ConfChangeError('removed all voters')
}

const KNOWN_TYPES: ReadonlySet<unknown> = new Set([
  ConfChangeType.AddNode, ConfChangeType.RemoveNode, ConfChangeType.AddLearnerNode, ConfChangeType.UpdateNode,
])

/** Throws ConfChangeError unless `cc` has a known type and a non-negative safe-integer node id. */
function checkChange(cc: ConfChangeSingle): void {
  if (!KNOWN_TYPES.has(cc.type)) {
    throw new ConfChangeError(`unknown change type ${String(cc.type)}`)
  }
  if (!Number.isSafeInteger(cc.nodeId) || cc.nodeId < 0) {
    throw new ConfChangeError(`invalid node id ${String(cc.nodeId)}: must be a non-negative safe integer`)
  }
}

/** Makes `id` an incoming voter: a new node, a promoted learner, or an already-voter (no-op). */
function makeVoter(d: Draft, id: number, init: NewProgress): void {
  const pr = d.progress.get(id)
  if (pr === undefined) {
    initProgress(d, id, false, init)
    return
  }
  pr.isLearner = false
  d.learners.delete(id)
  d.learnersNext.delete(id)
  d.incoming.add(id)
}

/**
 * Makes `id` a learner. A voter is first removed from the incoming half (keeping its Progress);
 * if it is still a voter in the outgoing half it is staged in learnersNext and becomes a learner
 * when the joint config is left, otherwise it becomes a learner at once. Already a learner: no-op.
 */
function makeLearner(d: Draft, id: number, init: NewProgress): void {
  const pr = d.progress.get(id)
  if (pr === undefined) {
    initProgress(d, id, true, init)
    return
  }
  if (pr.isLearner) return
  remove(d, id)
  d.progress.set(id, pr)
  if (d.outgoing.has(id)) {
    d.learnersNext.add(id)
  } else {
    pr.isLearner = true
    d.learners.add(id)
  }
}

/**
 * Removes `id` from the incoming voters, learners and learnersNext. Its Progress is dropped
 * unless it is still a voter in the outgoing half. Unknown ids are ignored.
 */
function remove(d: Draft, id: number): void {
  if (!d.progress.has(id)) return
  d.incoming.delete(id)
  d.learners.delete(id)
  d.learnersNext.delete(id)
  if (!d.outgoing.has(id)) d.progress.delete(id)
}

/** Adds a node the config did not know, as an incoming voter or a learner. */
function initProgress(d: Draft, id: number, isLearner: boolean, init: NewProgress): void {
  if (isLearner) d.learners.add(id)
  else d.incoming.add(id)
  d.progress.set(id, init(isLearner))
}
