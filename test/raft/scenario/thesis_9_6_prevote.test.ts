// Raft thesis §9.6 (pre-vote: preventing disruptions when a server rejoins) and the term rules
// of etcd-io/raft for MsgPreVote. Ported from etcd-io/raft raft_test.go.
import {expect} from 'chai'
import type {Config} from '../../../src/raft/config.js'
import {StateRole} from '../../../src/raft/role.js'
import {MessageType, newMessage} from '../../../src/raft/types.js'
import {propose} from './helpers.js'
import {localMsg, Network, newTestRaftPeers, readMessages} from './network.js'

const {Follower, PreCandidate, Candidate, Leader} = StateRole

/** Three nodes at term 1 with the given options (etcd: becomeFollower(1, None) on each). */
function trio(extra: Partial<Config>): Network {
  const rafts = [1, 2, 3].map((id) => {
    const r = newTestRaftPeers(id, [1, 2, 3], extra)
    r.becomeFollower(1, 0)
    return r
  })
  return new Network(rafts)
}

describe('thesis §9.6 pre-vote', () => {
  it('a pre-candidate does not increment its term; a granted pre-vote leads to a real election', () => {
    const n = trio({preVote: true})
    n.send(localMsg(1, MessageType.MsgHup))
    expect([n.raft(1).state, n.raft(1).term]).to.deep.equal([Leader, 2])
    n.isolate(3)
    n.send(localMsg(3, MessageType.MsgHup))
    expect([n.raft(3).state, n.raft(3).term]).to.deep.equal([PreCandidate, 2])
  })

  it('a partitioned node with pre-vote does not disrupt the leader when it rejoins (etcd TestDisruptiveFollowerPreVote)', () => {
    const n = trio({checkQuorum: true, preVote: true})
    n.send(localMsg(1, MessageType.MsgHup))
    n.isolate(3)
    for (let i = 0; i < 3; i++) n.send(propose(1))
    n.recover()
    n.send(localMsg(3, MessageType.MsgHup))
    expect([1, 2, 3].map((id) => [n.raft(id).state, n.raft(id).term])).to.deep.equal([[Leader, 2], [Follower, 2], [PreCandidate, 2]])
    // A delayed heartbeat of the leader does not make it step down.
    n.send(newMessage({msgType: MessageType.MsgHeartbeat, from: 1, to: 3, term: n.raft(1).term}))
    expect(n.raft(1).state).to.equal(Leader)
    expect(n.raft(3).state).to.equal(Follower)
  })

  it('a split pre-vote resolves: the next pre-candidate wins (etcd TestPreVoteWithSplitVote)', () => {
    const n = trio({preVote: true})
    n.send(localMsg(1, MessageType.MsgHup))
    n.isolate(1)
    n.send(localMsg(2, MessageType.MsgHup), localMsg(3, MessageType.MsgHup))
    expect([n.raft(2).term, n.raft(3).term]).to.deep.equal([3, 3])
    expect([n.raft(2).state, n.raft(3).state]).to.deep.equal([Candidate, Candidate])
    n.send(localMsg(2, MessageType.MsgHup))
    expect([n.raft(2).term, n.raft(3).term]).to.deep.equal([4, 4])
    expect([n.raft(2).state, n.raft(3).state]).to.deep.equal([Leader, Follower])
  })

  it('a node with a smaller term can still complete an election (etcd TestNodeWithSmallerTermCanCompleteElection)', () => {
    const n = trio({preVote: true})
    n.cut(1, 3)
    n.cut(2, 3)
    n.send(localMsg(1, MessageType.MsgHup))
    expect([n.raft(1).state, n.raft(2).state]).to.deep.equal([Leader, Follower])
    n.send(localMsg(3, MessageType.MsgHup))
    expect(n.raft(3).state).to.equal(PreCandidate)
    n.send(localMsg(2, MessageType.MsgHup))
    expect([1, 2, 3].map((id) => [n.raft(id).state, n.raft(id).term])).to.deep.equal([[Follower, 3], [Leader, 3], [PreCandidate, 1]])
    // Bring 3 back and "crash" the leader 2.
    n.recover()
    n.cut(2, 1)
    n.cut(2, 3)
    n.send(localMsg(3, MessageType.MsgHup))
    n.send(localMsg(1, MessageType.MsgHup))
    expect([n.raft(1).state, n.raft(3).state]).to.include(Leader)
  })

  it('with check-quorum, followers that know the leader ignore pre-votes (etcd TestPreVoteWithCheckQuorum)', () => {
    const n = trio({preVote: true, checkQuorum: true})
    n.send(localMsg(1, MessageType.MsgHup))
    n.isolate(1)
    expect([n.raft(1).state, n.raft(2).state, n.raft(3).state]).to.deep.equal([Leader, Follower, Follower])
    // Node 2 ignores node 3's pre-vote (it heard from the leader within the lease).
    n.send(localMsg(3, MessageType.MsgHup))
    expect(n.raft(3).state).to.equal(PreCandidate)
    // Node 3, as pre-candidate, forgot the leader, so it grants node 2's pre-vote and vote.
    n.send(localMsg(2, MessageType.MsgHup))
    expect([n.raft(2).state, n.raft(3).state]).to.deep.equal([Leader, Follower])
  })

  it('a pre-vote request never changes the receiver term or vote', () => {
    const r = newTestRaftPeers(1, [1, 2, 3])
    r.becomeFollower(2, 0)
    r.step(newMessage({msgType: MessageType.MsgRequestPreVote, from: 2, to: 1, term: 5, index: 0, logTerm: 0}))
    expect([r.term, r.vote, r.state]).to.deep.equal([2, 0, Follower])
    expect(readMessages(r).map((m) => [m.msgType, m.term, m.reject])).to.deep.equal([[MessageType.MsgRequestPreVoteResponse, 5, false]])
  })

  it('a pre-vote request of a lower term is rejected with the current term, so the sender catches up', () => {
    const r = newTestRaftPeers(1, [1, 2, 3])
    r.becomeFollower(4, 0)
    r.step(newMessage({msgType: MessageType.MsgRequestPreVote, from: 2, to: 1, term: 3}))
    expect(readMessages(r).map((m) => [m.msgType, m.term, m.reject])).to.deep.equal([[MessageType.MsgRequestPreVoteResponse, 4, true]])
  })

  it('a rejected pre-vote of a higher term makes the pre-candidate a follower at that term', () => {
    const r = newTestRaftPeers(1, [1, 2, 3], {preVote: true})
    r.becomeFollower(1, 0)
    r.step(localMsg(1, MessageType.MsgHup))
    expect(r.state).to.equal(PreCandidate)
    r.step(newMessage({msgType: MessageType.MsgRequestPreVoteResponse, from: 2, to: 1, term: 4, reject: true}))
    expect([r.state, r.term]).to.deep.equal([Follower, 4])
  })

  it('a granted pre-vote response of a future term does not change the term', () => {
    const r = newTestRaftPeers(1, [1, 2, 3], {preVote: true})
    r.step(localMsg(1, MessageType.MsgHup))
    readMessages(r)
    r.step(newMessage({msgType: MessageType.MsgRequestPreVoteResponse, from: 2, to: 1, term: 1}))
    // Pre-vote won: a real election at term 1.
    expect([r.state, r.term]).to.deep.equal([Candidate, 1])
  })

  it("a pre-candidate's own pre-vote, persisted only after it became candidate, is not counted as a vote " +
    '(etcd TestCandidateDeliversPreCandidateSelfVoteAfterBecomingCandidate)', () => {
    const r = newTestRaftPeers(1, [1, 2, 3], {preVote: true})
    r.step(localMsg(1, MessageType.MsgHup))
    expect([r.state, r.term]).to.deep.equal([PreCandidate, 0])
    // The self pre-vote waits for the hard state to be persisted (msgsAfterAppend).
    const selfPreVote = r.msgsAfterAppend.filter((m) => m.to === 1)
    expect(selfPreVote.map((m) => m.msgType)).to.deep.equal([MessageType.MsgRequestPreVoteResponse])
    r.msgsAfterAppend = []
    // Both peers grant the pre-vote (for term 1) before the self pre-vote is delivered.
    for (const from of [2, 3]) r.step(newMessage({msgType: MessageType.MsgRequestPreVoteResponse, from, to: 1, term: 1}))
    expect([r.state, r.term]).to.deep.equal([Candidate, 1])
    const selfVote = r.msgsAfterAppend.filter((m) => m.to === 1)
    r.msgsAfterAppend = []
    // The delayed self pre-vote (of term 1, the candidate's term) counts for nothing.
    for (const m of selfPreVote) r.step(m)
    expect(r.state).to.equal(Candidate)
    expect(r.trk.tallyVotes().granted).to.equal(0)
    // One real vote is not a quorum; the persisted self vote makes two of three.
    r.step(newMessage({msgType: MessageType.MsgRequestVoteResponse, from: 2, to: 1, term: 1}))
    expect(r.state).to.equal(Candidate)
    for (const m of selfVote) r.step(m)
    expect([r.state, r.term]).to.deep.equal([Leader, 1])
  })
})
