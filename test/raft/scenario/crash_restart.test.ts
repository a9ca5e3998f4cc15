// Crash and restart (Raft paper §5.1 and Figure 2: persistent state survives; volatile state is
// rebuilt): a node restarts from what it persisted, keeps its term and vote, does not apply
// entries twice and catches up. End to end through RawNode.
import {expect} from 'chai'
import {StateRole} from '../../../src/raft/role.js'
import {Cluster} from './cluster.js'

describe('§5.1 crash and restart from persisted state', () => {
  it('a restarted follower keeps term and vote, resumes after its applied index and catches up', () => {
    const c = new Cluster([1, 2, 3])
    c.campaign(1)
    for (let i = 0; i < 5; i++) c.propose(1, `a${i}`)
    const before = c.rn(3).status()
    c.crash(3)
    for (let i = 0; i < 5; i++) c.propose(1, `b${i}`)
    c.restart(3)
    const st = c.rn(3).status()
    expect([st.term, st.vote, st.applied]).to.deep.equal([before.term, before.vote, before.applied])
    // Nothing already applied is handed out again.
    expect(c.rn(3).hasReady()).to.equal(false)
    c.tick(2)
    expect(c.node(3).applied).to.deep.equal(c.node(1).applied)
    expect(c.node(3).applied).to.have.length(10)
  })

  it('a restarted leader comes back as follower and the group keeps one leader per term', () => {
    const c = new Cluster([1, 2, 3])
    c.campaign(1)
    c.propose(1, 'x')
    c.crash(1)
    c.tick(30)
    const l = c.leader()
    expect([2, 3]).to.include(l)
    c.restart(1)
    expect(c.rn(1).status().role).to.equal(StateRole.Follower)
    c.tick(3)
    expect(c.rn(1).status().leaderId).to.equal(l)
    c.propose(l, 'y')
    expect(c.node(1).applied).to.deep.equal(['x', 'y'])
  })

  it('a restart with unapplied committed entries hands them out once', () => {
    const c = new Cluster([1])
    c.campaign(1)
    c.propose(1, 'p')
    const n = c.node(1)
    // Simulate a crash after persisting but before applying: forget the last apply.
    n.appliedIndexes.delete(n.rn.status().applied)
    c.crash(1)
    c.restart(1)
    const rd = c.rn(1).ready()
    expect(rd.committedEntries.map((e) => new TextDecoder().decode(e.data))).to.deep.equal(['p'])
    c.rn(1).advance(rd)
  })
})
