// Tests of the property-test machinery itself: every safety check must fire on a planted
// violation (a checker that never fails proves nothing), and a fault-free scenario must pass
// the liveness phase.
import {expect} from 'chai'
import {MemoryStorage} from '../../../src/raft/memory_storage.js'
import {StateRole} from '../../../src/raft/role.js'
import {type ConfState, EMPTY_CONF_STATE, type Entry, newEntry, type Snapshot} from '../../../src/raft/types.js'
import {checkConfState, checkLogMatching, SafetyChecker, SafetyViolation} from './sim_invariants.js'
import {SimNode} from './sim_node.js'
import {MemorySimStorage, memoryStorageFactory} from './sim_storage.js'
import {replayCommand} from './sim_property.js'
import {runScenario} from './simulator.js'

const enc = new TextEncoder()

function ent(index: number, term: number, data = ''): Entry {
  return newEntry({index, term, data: enc.encode(data)})
}

function cs(fields: Partial<ConfState>): ConfState {
  return {...EMPTY_CONF_STATE, ...fields}
}

/** A node of voters (1 2 3) whose storage holds `entries` after a snapshot at 1, committed to `commit`. */
function nodeWith(id: number, entries: Entry[], term: number, commit: number, checker: SafetyChecker): SimNode {
  const s = new MemoryStorage()
  const snap: Snapshot = {data: new Uint8Array(0), metadata: {index: 1, term: 1, confState: cs({voters: [1, 2, 3]})}}
  s.applySnapshot(snap)
  s.append(entries)
  s.setHardState({term, vote: 0, commit})
  return new SimNode(id, {id, electionTick: 10, heartbeatTick: 1}, new MemorySimStorage(s), checker)
}

function expectViolation(f: () => void, property: string): void {
  expect(f).to.throw(SafetyViolation, property)
}

describe('property-test invariants', () => {
  it('checkConfState refuses each broken ConfState invariant', () => {
    expect(() => checkConfState(cs({voters: [1, 2], learners: [3]}), 'x')).not.to.throw()
    expect(() => checkConfState(cs({voters: [1], votersOutgoing: [1, 2], learnersNext: [2], autoLeave: true}), 'x')).not.to.throw()
    expectViolation(() => checkConfState(cs({voters: [1, 2], learners: [2]}), 'x'), 'learner 2 is also a voter')
    expectViolation(() => checkConfState(cs({voters: [1], votersOutgoing: [2], learners: [2]}), 'x'), 'learner 2 is also a voter')
    expectViolation(() => checkConfState(cs({voters: [1], votersOutgoing: [1], learnersNext: [3]}), 'x'), 'learners_next 3')
    expectViolation(() => checkConfState(cs({voters: [1], autoLeave: true}), 'x'), 'autoLeave without a joint config')
    expectViolation(() => checkConfState(cs({voters: [], votersOutgoing: [1]}), 'x'), 'no incoming voter')
  })

  it('checkLogMatching accepts diverging suffixes and refuses a different prefix', () => {
    checkLogMatching(1, [ent(2, 1, 'a'), ent(3, 1, 'b'), ent(4, 2)], 2, [ent(2, 1, 'a'), ent(3, 1, 'b'), ent(4, 3)])
    checkLogMatching(1, [ent(5, 2)], 2, [ent(2, 1), ent(3, 1)])
    expectViolation(() => checkLogMatching(1, [ent(2, 1, 'a'), ent(3, 2)], 2, [ent(2, 1, 'z'), ent(3, 2)]), 'log matching')
    expectViolation(() => checkLogMatching(1, [ent(2, 1), ent(3, 2)], 2, [ent(2, 2), ent(3, 2)]), 'log matching')
  })

  it('refuses two different entries applied at one index', () => {
    const c = new SafetyChecker()
    c.applied(1, ent(5, 2, 'x'))
    c.applied(2, ent(5, 2, 'x'))
    expectViolation(() => c.applied(3, ent(5, 3, 'x')), 'state machine safety')
  })

  it('refuses a persisted hard state that goes back or votes twice in a term', () => {
    const c = new SafetyChecker()
    const rd = (term: number, vote: number, commit: number) => ({
      hardState: {term, vote, commit}, entries: [], committedEntries: [], messages: [], readStates: [], mustSync: true,
    })
    c.persisted(1, rd(2, 0, 1))
    c.persisted(1, rd(2, 3, 1))
    c.persisted(1, rd(3, 0, 1))
    expectViolation(() => c.persisted(1, rd(2, 0, 1)), 'decreased its term')
    c.persisted(2, rd(4, 1, 5))
    expectViolation(() => c.persisted(2, rd(4, 2, 5)), 'changed its vote')
    expectViolation(() => c.persisted(2, rd(4, 1, 4)), 'decreased its commit')
  })

  it('refuses two leaders in one term', () => {
    const c = new SafetyChecker()
    const a = nodeWith(1, [], 1, 1, c)
    const b = nodeWith(2, [], 1, 1, c)
    a.rn!.raft.state = StateRole.Leader
    c.check([a, b])
    b.rn!.raft.state = StateRole.Leader
    expectViolation(() => c.check([a, b]), 'election safety')
  })

  it('refuses a leader that lacks an entry committed in an earlier term', () => {
    const c = new SafetyChecker()
    const a = nodeWith(1, [ent(2, 1, 'x'), ent(3, 1, 'y')], 1, 3, c)
    const b = nodeWith(2, [ent(2, 1, 'x')], 1, 2, c)
    c.check([a, b])
    b.rn!.raft.term = 2
    b.rn!.raft.state = StateRole.Leader
    expectViolation(() => c.check([a, b]), 'leader completeness')
  })

  it('refuses nodes that committed different entries at one index', () => {
    const c = new SafetyChecker()
    const a = nodeWith(1, [ent(2, 1, 'x')], 1, 2, c)
    const b = nodeWith(2, [ent(2, 2, 'y')], 2, 2, c)
    expectViolation(() => c.check([a, b]), 'committed entries agree')
  })

  it('passes the liveness phase without faults', async () => {
    for (const voters of [1, 3, 5]) {
      await runScenario({
        nodes: 5, voters, learners: 1, preVote: true, checkQuorum: true, stepDownOnRemoval: true, seed: 1, actions: [],
      }, memoryStorageFactory)
    }
  })
})

describe('property-test failure report', () => {
  it('the replay command gets the seed and path, not the variable names that contain SEED and PATH', () => {
    const t = 'RAFT_PROPERTY_SEED=SEED RAFT_PROPERTY_PATH="PATH" RAFT_PROPERTY_RUNS=9 npx mocha x'
    expect(replayCommand(t, 339925708, '12488:5:2')).to.equal(
      'RAFT_PROPERTY_SEED=339925708 RAFT_PROPERTY_PATH="12488:5:2" RAFT_PROPERTY_RUNS=9 npx mocha x')
    expect(replayCommand('seed SEED, path PATH', 1, '$&')).to.equal('seed 1, path $&')
  })
})
