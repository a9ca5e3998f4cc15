/**
 * The ConfState a storage gives a restarting node must be the one in force at the node's applied
 * index (issue 11 §4). An application that follows the documented practice — apply each
 * committed conf change, record its ConfState in the storage, and restart with the default
 * `applied` (so the log after the snapshot is handed out again) — must get the ConfState of the
 * snapshot, not the latest one, or re-applying the log's conf changes fails ("config is already
 * joint") or silently doubles them.
 */
import {expect} from 'chai'
import {
  ConfChangeTransition, ConfChangeType, type ConfChangeV2, type ConfState, decodeConfChange, EMPTY_CONF_STATE,
  EntryType, MemoryStorage, RawNode, type Ready,
} from '../../../src/raft/index.js'

const CONFIG = {id: 1, electionTick: 10, heartbeatTick: 1}

/** Handles every Ready as an application does; conf changes are applied and recorded in `s`. */
function drive(rn: RawNode, s: MemoryStorage, applied: ConfState[]): void {
  for (let i = 0; i < 20 && rn.hasReady(); i++) {
    const rd: Ready = rn.ready()
    if (rd.snapshot) s.applySnapshot(rd.snapshot)
    s.append(rd.entries)
    if (rd.hardState) s.setHardState(rd.hardState)
    for (const e of rd.committedEntries) {
      if (e.entryType === EntryType.EntryNormal) continue
      const cs = rn.applyConfChange(decodeConfChange(e))
      s.setConfState(cs, e.index)
      applied.push(cs)
    }
    rn.advance(rd)
  }
}

const joint: ConfChangeV2 = {
  kind: 'v2', transition: ConfChangeTransition.Explicit, context: new Uint8Array(),
  changes: [{type: ConfChangeType.AddLearnerNode, nodeId: 2}, {type: ConfChangeType.AddLearnerNode, nodeId: 3}],
}

/** A single voter that applied an explicit joint change (it stays joint: nobody leaves it). */
function afterJointChange(): {s: MemoryStorage, first: ConfState[]} {
  const s = MemoryStorage.withConfState({voters: [1]})
  const rn = new RawNode(CONFIG, s)
  rn.campaign()
  const first: ConfState[] = []
  drive(rn, s, first)
  rn.proposeConfChange(joint)
  drive(rn, s, first)
  expect(first).to.have.length(1)
  expect(first[0]).to.deep.include({voters: [1], votersOutgoing: [1], learners: [2, 3]})
  return {s, first}
}

describe('MemoryStorage: the ConfState belongs to an index (restart after a conf change)', () => {
  it('a node restarted with the default applied re-applies the joint change and reaches the same ConfState', () => {
    const {s, first} = afterJointChange()
    const rn = new RawNode(CONFIG, s)
    const again: ConfState[] = []
    drive(rn, s, again)
    expect(again).to.deep.equal(first)
    expect(rn.status().confState).to.deep.equal(first[0])
  })

  it('a node restarted with applied at or after the change gets the ConfState it recorded', () => {
    const {s, first} = afterJointChange()
    const commit = s.initialState().hardState.commit
    const rn = new RawNode({...CONFIG, applied: commit}, s)
    expect(rn.status().confState).to.deep.equal(first[0])
    const again: ConfState[] = []
    drive(rn, s, again)
    expect(again, 'nothing is handed out again').to.deep.equal([])
  })

  it('initialState(applied) answers the ConfState in force after any index from the snapshot on', () => {
    const {s, first} = afterJointChange()
    const confIndex = s.lastIndex() // the joint change is the last entry
    expect(s.initialState(confIndex - 1).confState.voters).to.deep.equal([1])
    expect(s.initialState(confIndex - 1).confState.learners).to.deep.equal([])
    expect(s.initialState(confIndex).confState).to.deep.equal(first[0])
    expect(s.initialState().confState, 'the default is the snapshot index').to.deep.equal({...EMPTY_CONF_STATE, voters: [1]})
  })

  it('createSnapshot without a ConfState takes the one in force at its index, and later ones survive it', () => {
    const {s, first} = afterJointChange()
    const confIndex = s.lastIndex()
    const before = s.createSnapshot(confIndex - 1, undefined, new Uint8Array())
    expect(before.metadata.confState.learners, 'the snapshot before the change').to.deep.equal([])
    expect(s.initialState(confIndex).confState).to.deep.equal(first[0])
    s.compact(confIndex - 1)
    expect(s.initialState().confState.learners).to.deep.equal([])
    expect(s.createSnapshot(confIndex, undefined, new Uint8Array()).metadata.confState).to.deep.equal(first[0])
  })
})
