/**
 * Shared helpers of the confchange tests: building changes from the compact "v1 l2 r3 u4"
 * syntax, rendering a tracker state, and checking a ChangeResult thoroughly.
 */
import {expect} from 'chai'
import {Changer, type ChangeResult, checkInvariants} from '../../../src/raft/confchange/index.js'
import {configToString, ProgressTracker, progressMapToString} from '../../../src/raft/tracker/index.js'
import {type ConfChangeSingle, ConfChangeType, type ConfState} from '../../../src/raft/types.js'

/** Unknown conf-change type used by the "x<id>" token to exercise the error path. */
export const BOGUS_TYPE = 9 as ConfChangeType

const TOKEN_TYPES: Record<string, ConfChangeType> = {
  v: ConfChangeType.AddNode,
  l: ConfChangeType.AddLearnerNode,
  r: ConfChangeType.RemoveNode,
  u: ConfChangeType.UpdateNode,
  x: BOGUS_TYPE,
}

/**
 * Parses "v1 l2 r3 u4 x5": v = make a voter, l = make a learner, r = remove, u = update, x = a
 * change of an unknown type. Whitespace (including newlines) separates tokens.
 */
export function parseChanges(input: string): ConfChangeSingle[] {
  const toks = input.trim().split(/\s+/).filter((t) => t !== '')
  return toks.map((tok) => {
    const type = TOKEN_TYPES[tok[0]]
    const nodeId = Number(tok.slice(1))
    if (type === undefined || tok.length < 2 || !Number.isSafeInteger(nodeId)) {
      throw new Error(`bad change "${tok}": expected v<id>, l<id>, r<id>, u<id> or x<id>`)
    }
    return {type, nodeId}
  })
}

/** The state of a tracker as a string: config line, then one progress line per node. */
export function render(t: Pick<ProgressTracker, 'config' | 'progress'>): string {
  return `${configToString(t.config)}\n${progressMapToString(t.progress)}`
}

/** A tracker with `config`/`progress` taken from a result. */
export function trackerWith(r: ChangeResult, maxInflight = 10, maxInflightBytes = 0): ProgressTracker {
  const t = new ProgressTracker(maxInflight, maxInflightBytes)
  t.config = r.config
  t.progress = r.progress
  return t
}

/**
 * Checks a successful change: the invariants hold, nothing (no set, no Progress) is shared with
 * the input tracker, and restoring the resulting ConfState yields the same config and progress
 * membership.
 */
export function checkResult(input: ProgressTracker, r: ChangeResult, lastIndex: number): void {
  checkInvariants(r.config, r.progress)
  expect(r.config.learners).to.not.equal(input.config.learners)
  expect(r.config.learnersNext).to.not.equal(input.config.learnersNext)
  expect(r.progress).to.not.equal(input.progress)
  for (const [id, pr] of r.progress) expect(pr, `progress of ${id} is shared`).to.not.equal(input.progress.get(id))
  const cs: ConfState = trackerWith(r).confState()
  const restored = new Changer(new ProgressTracker(input.maxInflight, input.maxInflightBytes), lastIndex).restore(cs)
  checkInvariants(restored.config, restored.progress)
  expect(configToString(restored.config)).to.equal(configToString(r.config))
  expect([...restored.progress].map(([id, pr]) => [id, pr.isLearner]).sort())
    .to.deep.equal([...r.progress].map(([id, pr]) => [id, pr.isLearner]).sort())
}
