// Raft paper §6 (cluster membership changes) with single-server changes (thesis §4.1): only
// one pending change at a time, refused changes reported to the proposer, removal and demotion of
// the leader. Ported from etcd-io/raft raft_test.go, plus end-to-end RawNode scenarios.
import {expect} from 'chai'
import {encodeConfChange} from '../../../src/raft/conf_change.js'
import {ConfChangeError, ProposalDroppedError} from '../../../src/raft/errors.js'
import type {Raft} from '../../../src/raft/raft.js'
import {applyConfChange} from '../../../src/raft/raft_apply_conf.js'
import {StateRole} from '../../../src/raft/role.js'
import {
  type ConfChange, ConfChangeTransition, ConfChangeType, type ConfChangeV2, EntryType, MessageType, newEntry,
  newMessage,
} from '../../../src/raft/types.js'
import {Cluster} from './cluster.js'
import {newTestRaft, newTestRaftPeers, newTestStorage, nextEnts, readMessages} from './network.js'

const NO_CTX = new Uint8Array(0)
const v1 = (type: ConfChangeType, nodeId: number): ConfChange => ({kind: 'v1', id: 0, type, nodeId, context: NO_CTX})
const {AddNode, RemoveNode, AddLearnerNode} = ConfChangeType

function confProp(cc: ConfChange | ConfChangeV2) {
  const entryType = cc.kind === 'v1' ? EntryType.EntryConfChange : EntryType.EntryConfChangeV2
  return newMessage({msgType: MessageType.MsgPropose, from: 1, to: 1, entries: [newEntry({term: 0, index: 0, entryType, data: encodeConfChange(cc)})]})
}

function leader(voters: number[], extra = {}): Raft {
  const r = newTestRaftPeers(1, voters, extra)
  r.becomeCandidate()
  r.becomeLeader()
  return r
}

/** Node `from` acknowledges the leader's log up to `index` (default: all of it). */
function ack(r: Raft, from: number, index = r.raftLog.lastIndex()): void {
  r.step(newMessage({msgType: MessageType.MsgAppendResponse, from, to: 1, term: r.term, index}))
}

describe('§6 membership changes (Raft level)', () => {
  it('a proposed conf change is appended and becomes the pending one (etcd TestStepConfig)', () => {
    const r = leader([1, 2])
    const index = r.raftLog.lastIndex()
    r.step(confProp(v1(AddNode, 3)))
    expect(r.raftLog.lastIndex()).to.equal(index + 1)
    expect(r.pendingConfIndex).to.equal(index + 1)
  })

  it('a second conf change while one is pending is refused with an error, not an empty entry (etcd TestStepIgnoreConfig, deliberately different)', () => {
    const r = leader([1, 2])
    r.step(confProp(v1(AddNode, 3)))
    const index = r.raftLog.lastIndex()
    const pending = r.pendingConfIndex
    expect(() => r.step(confProp(v1(AddNode, 4))))
      .to.throw(ProposalDroppedError, /conf change refused.*possible unapplied conf change at index 2 \(applied to 0\)/)
    expect(r.raftLog.lastIndex()).to.equal(index)
    expect(r.pendingConfIndex).to.equal(pending)
  })

  it('two conf changes in one proposal are refused as a whole', () => {
    const r = leader([1, 2])
    const index = r.raftLog.lastIndex()
    const m = confProp(v1(AddNode, 3))
    expect(() => r.step({...m, entries: [m.entries[0], m.entries[0]]})).to.throw(ProposalDroppedError, /one conf change/)
    expect(r.raftLog.lastIndex()).to.equal(index)
  })

  it('a new leader sets the pending conf index to its last index (etcd TestNewLeaderPendingConfig)', () => {
    for (const [addEntry, want] of [[false, 0], [true, 1]] as const) {
      const r = newTestRaftPeers(1, [1, 2])
      if (addEntry) r.appendEntry([newEntry({term: 0, index: 0})])
      r.becomeCandidate()
      r.becomeLeader()
      expect(r.pendingConfIndex).to.equal(want)
    }
  })

  it('adds a voter (etcd TestAddNode) and a learner, promotes and demotes (etcd TestAddLearner)', () => {
    const r = newTestRaftPeers(1, [1])
    applyConfChange(r, v1(AddNode, 2))
    expect(r.trk.voterNodes()).to.deep.equal([1, 2])
    const l = newTestRaftPeers(1, [1])
    applyConfChange(l, v1(AddLearnerNode, 2))
    expect(l.isLearner).to.equal(false)
    expect(l.trk.learnerNodes()).to.deep.equal([2])
    expect(l.trk.progress.get(2)!.isLearner).to.equal(true)
    applyConfChange(l, v1(AddNode, 2))
    expect(l.trk.progress.get(2)!.isLearner).to.equal(false)
    applyConfChange(l, v1(AddLearnerNode, 1))
    expect([l.trk.progress.get(1)!.isLearner, l.isLearner]).to.deep.equal([true, true])
    applyConfChange(l, v1(AddNode, 1))
    expect([l.trk.progress.get(1)!.isLearner, l.isLearner]).to.deep.equal([false, false])
  })

  it('a node added under check-quorum counts as active until the next check (etcd TestAddNodeCheckQuorum)', () => {
    const r = newTestRaft(1, 10, 1, newTestStorage([1]), {checkQuorum: true})
    r.becomeCandidate()
    r.becomeLeader()
    for (let i = 0; i < r.electionTimeout - 1; i++) r.tick()
    applyConfChange(r, v1(AddNode, 2))
    r.tick()
    expect(r.state).to.equal(StateRole.Leader)
    for (let i = 0; i < r.electionTimeout; i++) r.tick()
    expect(r.state).to.equal(StateRole.Follower)
  })

  it('removes voters and learners; removing the last voter is refused (etcd TestRemoveNode / TestRemoveLearner)', () => {
    const r = newTestRaftPeers(1, [1, 2])
    applyConfChange(r, v1(RemoveNode, 2))
    expect(r.trk.voterNodes()).to.deep.equal([1])
    expect(() => applyConfChange(r, v1(RemoveNode, 1))).to.throw(ConfChangeError, /removed all voters/)
    expect(r.trk.voterNodes()).to.deep.equal([1])
    const l = newTestRaft(1, 10, 1, newTestStorage([1], [2]))
    applyConfChange(l, v1(RemoveNode, 2))
    expect([l.trk.voterNodes(), l.trk.learnerNodes()]).to.deep.equal([[1], []])
  })

  it('a node is promotable only as a voter of its config (etcd TestPromotable)', () => {
    const cases: Array<[number[], boolean]> = [[[1], true], [[1, 2, 3], true], [[], false], [[2, 3], false]]
    for (const [peers, want] of cases) expect(newTestRaftPeers(1, peers).promotable()).to.equal(want)
  })

  it('removing a node lowers the quorum so pending entries commit (etcd TestCommitAfterRemoveNode)', () => {
    const s = newTestStorage([1, 2])
    const r = newTestRaft(1, 5, 1, s)
    r.becomeCandidate()
    r.becomeLeader()
    const cc = v1(RemoveNode, 2)
    r.step(confProp(cc))
    expect(nextEnts(r, s)).to.deep.equal([])
    const ccIndex = r.raftLog.lastIndex()
    r.step(newMessage({msgType: MessageType.MsgPropose, from: 1, to: 1, entries: [newEntry({term: 0, index: 0, data: new TextEncoder().encode('hello')})]}))
    r.step(newMessage({msgType: MessageType.MsgAppendResponse, from: 2, to: 1, index: ccIndex}))
    let ents = nextEnts(r, s)
    expect(ents.map((e) => [e.entryType, e.data.length])).to.deep.equal([[EntryType.EntryNormal, 0], [EntryType.EntryConfChange, ents[1]?.data.length]])
    applyConfChange(r, cc)
    ents = nextEnts(r, s)
    expect(ents.map((e) => new TextDecoder().decode(e.data))).to.deep.equal(['hello'])
  })

  it('a removed leader always steps down, even without stepDownOnRemoval (thesis §4.2.2)', () => {
    for (const stepDownOnRemoval of [true, false]) {
      const r = leader([1, 2, 3], {stepDownOnRemoval})
      ack(r, 2)
      applyConfChange(r, v1(RemoveNode, 1))
      // Without a progress of its own it could not append anything (not even the leave of a
      // joint config), so it must not keep leading.
      expect(r.state, `stepDownOnRemoval=${stepDownOnRemoval}`).to.equal(StateRole.Follower)
      expect(() => r.step(confProp(v1(AddNode, 4)))).to.throw(ProposalDroppedError, /no leader/)
    }
  })

  it('a leader demoted to learner keeps leading without stepDownOnRemoval, and can still propose', () => {
    const r = leader([1, 2, 3], {stepDownOnRemoval: false})
    applyConfChange(r, v1(AddLearnerNode, 1))
    expect([r.state, r.isLearner]).to.deep.equal([StateRole.Leader, true])
    const last = r.raftLog.lastIndex()
    r.step(newMessage({msgType: MessageType.MsgPropose, from: 1, to: 1, entries: [newEntry({term: 0, index: 0})]}))
    expect(r.raftLog.lastIndex()).to.equal(last + 1)
  })

  it('a leader that leaves the voters hands over with MsgTimeoutNow to a voter holding its whole log (thesis §3.10)', () => {
    const r = leader([1, 2, 3])
    const last = r.raftLog.lastIndex()
    // Node 3 has the whole log, node 2 does not.
    r.step(newMessage({msgType: MessageType.MsgAppendResponse, from: 2, to: 1, term: r.term, index: last - 1}))
    r.step(newMessage({msgType: MessageType.MsgAppendResponse, from: 3, to: 1, term: r.term, index: last}))
    readMessages(r)
    applyConfChange(r, v1(RemoveNode, 1))
    expect(r.state).to.equal(StateRole.Follower)
    expect(readMessages(r).map((m) => [MessageType[m.msgType], m.to, m.term]))
      .to.deep.equal([['MsgTimeoutNow', 3, r.term]])
  })

  it('a leader that leaves the voters when no voter has its whole log keeps leading, refusing proposals, until the most caught-up voter catches up, then hands over (thesis §3.10)', () => {
    const r = leader([1, 2, 3])
    for (let i = 0; i < 2; i++) r.step(newMessage({msgType: MessageType.MsgPropose, from: 1, to: 1, entries: [newEntry({term: 0, index: 0})]}))
    const last = r.raftLog.lastIndex()
    readMessages(r)
    ack(r, 2, last - 1)
    applyConfChange(r, v1(RemoveNode, 1))
    // Node 2 (match last-1) is the most caught-up voter; node 3 has nothing.
    expect([r.state, r.handingOver, r.leadTransferee]).to.deep.equal([StateRole.Leader, true, 2])
    // The leader replicates the rest of its log to node 2 (the entry it lacks, then the
    // handover's own append).
    expect(readMessages(r).filter((m) => m.to === 2).map((m) => [MessageType[m.msgType], m.index, m.entries.map((e) => e.index)]))
      .to.deep.equal([['MsgAppend', last - 1, [last]], ['MsgAppend', last, []]])
    expect(() => r.step(newMessage({msgType: MessageType.MsgPropose, from: 1, to: 1, entries: [newEntry({term: 0, index: 0})]})))
      .to.throw(ProposalDroppedError, /leader 1 has left the voters and is handing leadership over to 2/)
    expect(r.raftLog.lastIndex()).to.equal(last)
    // A transfer request to another voter does not change the target.
    r.step(newMessage({msgType: MessageType.MsgTransferLeader, from: 3, to: 1, term: r.term}))
    expect(r.leadTransferee).to.equal(2)
    // Node 3 catching up changes nothing; node 2 catching up gets MsgTimeoutNow at once.
    ack(r, 3)
    expect(r.state).to.equal(StateRole.Leader)
    readMessages(r)
    ack(r, 2)
    expect([r.state, r.handingOver, r.lead]).to.deep.equal([StateRole.Follower, false, 0])
    // (With the append that tells the new voters the commit index the ack allowed.)
    expect(readMessages(r).map((m) => [MessageType[m.msgType], m.to])).to.deep.equal([['MsgAppend', 2], ['MsgAppend', 3], ['MsgTimeoutNow', 2]])
  })

  it('a leader handing over steps down without MsgTimeoutNow when its target has not caught up within an election timeout', () => {
    const r = leader([1, 2, 3])
    readMessages(r)
    applyConfChange(r, v1(RemoveNode, 1))
    expect([r.state, r.leadTransferee]).to.deep.equal([StateRole.Leader, 2])
    for (let i = 0; i < r.electionTimeout - 1; i++) r.tick()
    expect(r.state).to.equal(StateRole.Leader)
    r.tick()
    expect([r.state, r.handingOver, r.lead]).to.deep.equal([StateRole.Follower, false, 0])
    expect(readMessages(r).filter((m) => m.msgType === MessageType.MsgTimeoutNow)).to.deep.equal([])
  })

  it('a leader refuses proposals while a conf change that makes it step down is pending (leader-stepping-down)', () => {
    for (const [cc, refused] of [[v1(RemoveNode, 1), true], [v1(AddLearnerNode, 1), true], [v1(RemoveNode, 3), false]] as const) {
      const r = leader([1, 2, 3])
      r.step(confProp(cc))
      const index = r.raftLog.lastIndex()
      expect(r.stepDownIndex, `${cc.type} ${cc.nodeId}`).to.equal(refused ? index : 0)
      const write = () => r.step(newMessage({msgType: MessageType.MsgPropose, from: 1, to: 1, entries: [newEntry({term: 0, index: 0})]}))
      if (refused) {
        expect(write).to.throw(ProposalDroppedError, new RegExp(`leader 1 is leaving the voters by the conf change at index ${index}`))
        expect(r.raftLog.lastIndex()).to.equal(index)
      } else {
        write()
        expect(r.raftLog.lastIndex()).to.equal(index + 1)
      }
    }
  })

  it('a leader demoted to learner without stepDownOnRemoval keeps accepting proposals while the demotion is pending', () => {
    const r = leader([1, 2, 3], {stepDownOnRemoval: false})
    r.step(confProp(v1(AddLearnerNode, 1)))
    expect(r.stepDownIndex).to.equal(0)
    r.step(newMessage({msgType: MessageType.MsgPropose, from: 1, to: 1, entries: [newEntry({term: 0, index: 0})]}))
  })

  it('a leader demoted to learner steps down (stepDownOnRemoval)', () => {
    const r = leader([1, 2, 3])
    ack(r, 2)
    applyConfChange(r, {kind: 'v2', transition: ConfChangeTransition.Auto, context: NO_CTX,
      changes: [{type: RemoveNode, nodeId: 1}, {type: AddLearnerNode, nodeId: 1}]})
    // Still in the outgoing half: it keeps leading the joint config.
    expect(r.state).to.equal(StateRole.Leader)
    applyConfChange(r, {kind: 'v2', transition: ConfChangeTransition.Auto, context: NO_CTX, changes: []})
    expect([r.state, r.isLearner]).to.deep.equal([StateRole.Follower, true])
  })

  it('applying an invalid conf change throws ConfChangeError and changes nothing', () => {
    const r = leader([1, 2, 3])
    const before = r.trk.confState()
    expect(() => applyConfChange(r, {kind: 'v2', transition: ConfChangeTransition.Auto, context: NO_CTX,
      changes: [{type: RemoveNode, nodeId: 2}, {type: RemoveNode, nodeId: 3}, {type: RemoveNode, nodeId: 1}]})).to.throw(ConfChangeError)
    expect(r.trk.confState()).to.deep.equal(before)
  })
})

describe('§6 membership changes end to end (RawNode)', () => {
  it('adds a learner that catches up, then promotes it to voter', () => {
    const c = new Cluster([1, 2, 3])
    c.campaign(1)
    for (let i = 0; i < 5; i++) c.propose(1, `v${i}`)
    c.addNode(4)
    c.isolate(4)
    c.proposeConfChange(1, v1(AddLearnerNode, 4))
    // The application takes a snapshot after applying the change, so the learner (which starts
    // with an empty log and config) can catch up from one that names it (DESIGN.md §2).
    c.compact(1)
    c.heal()
    c.tick(2)
    expect(c.node(4).applied).to.deep.equal(['v0', 'v1', 'v2', 'v3', 'v4'])
    expect(c.node(1).confState).to.deep.include({voters: [1, 2, 3], learners: [4]})
    expect(c.rn(4).status().confState.learners).to.deep.equal([4])
    c.proposeConfChange(1, v1(AddNode, 4))
    for (const id of [1, 2, 3, 4]) expect(c.node(id).confState).to.deep.include({voters: [1, 2, 3, 4], learners: []})
    // With four voters, three of them are a quorum.
    c.isolate(3)
    c.propose(1, 'three of four')
    expect(c.node(4).applied).to.include('three of four')
  })

  it('removes a follower; its messages are then ignored', () => {
    const c = new Cluster([1, 2, 3])
    c.campaign(1)
    c.proposeConfChange(1, v1(RemoveNode, 3))
    expect(c.node(1).confState.voters).to.deep.equal([1, 2])
    expect(c.node(2).confState.voters).to.deep.equal([1, 2])
    c.isolate(3)
    c.propose(1, 'after removal')
    expect(c.node(2).applied).to.include('after removal')
    c.heal()
    c.tick(30)
    // The removed node knows it is not a member: it never campaigns or disrupts the leader.
    expect(c.leader()).to.equal(1)
    expect(c.rn(3).raft.promotable()).to.equal(false)
  })

  it('removing the leader: it steps down after applying the change and the others elect a new leader', () => {
    const c = new Cluster([1, 2, 3])
    c.campaign(1)
    c.proposeConfChange(1, v1(RemoveNode, 1))
    expect(c.rn(1).status().role).to.equal(StateRole.Follower)
    c.tick(30)
    const l = c.leader()
    expect([2, 3]).to.include(l)
    c.propose(l, 'new era')
    expect(c.node(2).applied).to.include('new era')
    expect(c.node(3).applied).to.include('new era')
  })

  it('a follower forwards conf changes; a refused one is an error at the leader, never an empty entry', () => {
    const c = new Cluster([1, 2, 3])
    c.campaign(1)
    c.rn(2).proposeConfChange(v1(AddLearnerNode, 4))
    c.rn(2).proposeConfChange(v1(AddLearnerNode, 5))
    c.stabilize()
    expect(c.node(1).confState.learners).to.deep.equal([4])
    const st = c.node(1).storage
    const confEntries = [...st.entries(st.firstIndex(), st.lastIndex() + 1)]
      .filter((e) => e.entryType !== EntryType.EntryNormal)
    expect(confEntries).to.have.length(1)
  })

  it('a new learner catches up from a snapshot taken after it was added', () => {
    const c = new Cluster([1, 2, 3])
    c.campaign(1)
    for (let i = 0; i < 10; i++) c.propose(1, `v${i}`)
    c.addNode(4)
    c.isolate(4)
    c.proposeConfChange(1, v1(AddLearnerNode, 4))
    c.propose(1, 'after learner')
    // The snapshot covers the entry that added node 4, so node 4 is in its ConfState.
    c.compact(1)
    expect(c.node(1).storage.snapshot(0, 4).metadata.confState.learners).to.deep.equal([4])
    c.heal()
    c.tick(3)
    expect(c.deliveredOf(MessageType.MsgSnapshot).map((m) => m.to)).to.deep.equal([4])
    expect(c.node(4).applied).to.deep.equal(c.node(1).applied)
    expect(c.rn(4).status().confState.learners).to.deep.equal([4])
    c.propose(1, 'live')
    expect(c.node(4).applied.at(-1)).to.equal('live')
  })
})
