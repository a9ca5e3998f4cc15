// Learners (Raft thesis §4.2.1, non-voting members): they receive the log but never campaign and
// never count toward a quorum; they still answer vote requests. Ported from etcd-io/raft
// raft_test.go.
import {expect} from 'chai'
import type {Raft} from '../../../src/raft/raft.js'
import {applyConfChange} from '../../../src/raft/raft_apply_conf.js'
import {StateRole} from '../../../src/raft/role.js'
import {ConfChangeType, MessageType, newMessage} from '../../../src/raft/types.js'
import {propose} from './helpers.js'
import {advanceMessagesAfterAppend, localMsg, Network, newTestRaft, newTestStorage, readMessages} from './network.js'

const NO_CTX = new Uint8Array(0)

function learnerPair(): [Raft, Raft] {
  const n1 = newTestRaft(1, 10, 1, newTestStorage([1], [2]))
  const n2 = newTestRaft(2, 10, 1, newTestStorage([1], [2]))
  n1.becomeFollower(1, 0)
  n2.becomeFollower(1, 0)
  return [n1, n2]
}

function electByTicks(r: Raft): void {
  r.randomizedElectionTimeout = r.electionTimeout
  for (let i = 0; i < r.electionTimeout; i++) r.tick()
  advanceMessagesAfterAppend(r)
}

describe('learners (thesis §4.2.1)', () => {
  it('a learner never starts an election, even when it times out (etcd TestLearnerElectionTimeout)', () => {
    const [, n2] = learnerPair()
    electByTicks(n2)
    expect(n2.state).to.equal(StateRole.Follower)
  })

  it('a learner ignores MsgHup and MsgTimeoutNow (etcd TestLearnerCampaign)', () => {
    const n1 = newTestRaft(1, 10, 1, newTestStorage([1]))
    applyConfChange(n1, {kind: 'v1', id: 0, type: ConfChangeType.AddLearnerNode, nodeId: 2, context: NO_CTX})
    const n2 = newTestRaft(2, 10, 1, newTestStorage([1]))
    applyConfChange(n2, {kind: 'v1', id: 0, type: ConfChangeType.AddLearnerNode, nodeId: 2, context: NO_CTX})
    const n = new Network([n1, n2])
    n.send(localMsg(2, MessageType.MsgHup))
    expect([n2.isLearner, n2.state]).to.deep.equal([true, StateRole.Follower])
    n.send(localMsg(1, MessageType.MsgHup))
    expect([n1.state, n1.lead]).to.deep.equal([StateRole.Leader, 1])
    n.send(newMessage({msgType: MessageType.MsgTimeoutNow, from: 1, to: 2, term: n1.term}))
    expect(n2.state).to.equal(StateRole.Follower)
  })

  it('a promoted learner can campaign and win (etcd TestLearnerPromotion)', () => {
    const [n1, n2] = learnerPair()
    const n = new Network([n1, n2])
    expect(n1.state).to.not.equal(StateRole.Leader)
    electByTicks(n1)
    expect([n1.state, n2.state]).to.deep.equal([StateRole.Leader, StateRole.Follower])
    n.send(localMsg(1, MessageType.MsgBeat))
    const promote = {kind: 'v1', id: 0, type: ConfChangeType.AddNode, nodeId: 2, context: NO_CTX} as const
    applyConfChange(n1, promote)
    applyConfChange(n2, promote)
    expect(n2.isLearner).to.equal(false)
    electByTicks(n2)
    n.send(localMsg(2, MessageType.MsgBeat))
    expect([n1.state, n2.state]).to.deep.equal([StateRole.Follower, StateRole.Leader])
  })

  it('a learner answers vote requests: it may have been promoted without knowing (etcd TestLearnerCanVote)', () => {
    const [, n2] = learnerPair()
    n2.step(newMessage({msgType: MessageType.MsgRequestVote, from: 1, to: 2, term: 2, logTerm: 11, index: 11}))
    const msgs = readMessages(n2)
    expect(msgs.map((m) => [m.msgType, m.reject])).to.deep.equal([[MessageType.MsgRequestVoteResponse, false]])
  })

  it('a learner receives and commits the log (etcd TestLearnerLogReplication)', () => {
    const [n1, n2] = learnerPair()
    const n = new Network([n1, n2])
    electByTicks(n1)
    n.send(localMsg(1, MessageType.MsgBeat))
    expect([n1.state, n2.isLearner]).to.deep.equal([StateRole.Leader, true])
    n.send(propose(1))
    expect(n1.raftLog.committed).to.equal(2)
    expect(n2.raftLog.committed).to.equal(n1.raftLog.committed)
    expect(n1.trk.progress.get(2)!.match).to.equal(n2.raftLog.committed)
  })

  it('learner acknowledgements never count toward a quorum', () => {
    const rafts = [1, 2, 3].map((id) => newTestRaft(id, 10, 1, newTestStorage([1, 3], [2])))
    const n = new Network(rafts)
    n.send(localMsg(1, MessageType.MsgHup))
    expect(rafts[0].state).to.equal(StateRole.Leader)
    const before = rafts[0].raftLog.committed
    n.isolate(3)
    n.send(propose(1))
    expect(rafts[1].raftLog.lastIndex()).to.equal(before + 1)
    expect(rafts[0].raftLog.committed).to.equal(before)
  })

  it('learner votes are not counted by the candidate', () => {
    const r = newTestRaft(1, 10, 1, newTestStorage([1, 2, 3], [4, 5]))
    r.step(localMsg(1, MessageType.MsgHup))
    advanceMessagesAfterAppend(r)
    // Only voters are asked.
    expect(readMessages(r).map((m) => m.to)).to.deep.equal([2, 3])
    for (const id of [4, 5]) r.step(newMessage({msgType: MessageType.MsgRequestVoteResponse, from: id, to: 1, term: 1}))
    expect(r.state).to.equal(StateRole.Candidate)
    r.step(newMessage({msgType: MessageType.MsgRequestVoteResponse, from: 2, to: 1, term: 1}))
    expect(r.state).to.equal(StateRole.Leader)
  })

  it('a learner whose term was raised answers a stale leader, which steps down and is re-elected above it (no check-quorum, no pre-vote)', () => {
    const [n1, n2] = learnerPair()
    const n3 = newTestRaft(3, 10, 1, newTestStorage([1, 3]))
    const n = new Network([n1, n2, n3])
    n.send(localMsg(1, MessageType.MsgHup))
    expect([n1.state, n1.term]).to.deep.equal([StateRole.Leader, 2])
    // Node 3, not a member of (1) learners (2), campaigns at term 5 and reaches the learner only.
    n2.step(newMessage({msgType: MessageType.MsgRequestVote, from: 3, to: 2, term: 5, index: 0, logTerm: 0}))
    readMessages(n2)
    expect([n2.term, n2.lead]).to.deep.equal([5, 0])
    // The leader's next append (term 2) is answered with term 5 instead of being ignored forever.
    n.send(propose(1, 'after'))
    expect([n1.state, n1.term]).to.deep.equal([StateRole.Follower, 5])
    // The sole voter campaigns at term 6 and the learner follows it again.
    n.send(localMsg(1, MessageType.MsgHup))
    n.send(propose(1, 'again'))
    expect([n1.state, n1.term, n2.term, n2.lead]).to.deep.equal([StateRole.Leader, 6, 6, 1])
    expect(n2.raftLog.committed).to.equal(n1.raftLog.committed)
  })

  it('a voter without check-quorum or pre-vote still ignores a stale append (etcd): it campaigns by itself', () => {
    const r = newTestRaft(2, 10, 1, newTestStorage([1, 2]))
    r.becomeFollower(5, 0)
    r.step(newMessage({msgType: MessageType.MsgAppend, from: 1, to: 2, term: 2}))
    expect(readMessages(r)).to.deep.equal([])
  })
})
