// Check-quorum and the leader lease (Raft thesis §6.2 and §4.2.3: a leader steps down without a
// quorum; servers that heard from a leader within the election timeout ignore vote requests).
// Ported from etcd-io/raft raft_test.go.
import {expect} from 'chai'
import {CAMPAIGN_TRANSFER_CTX} from '../../../src/raft/raft.js'
import {StateRole} from '../../../src/raft/role.js'
import {MessageType, newMessage} from '../../../src/raft/types.js'
import {localMsg, Network, newTestRaft, newTestRaftPeers, newTestStorage, readMessages} from './network.js'

const {Follower, Candidate, Leader} = StateRole

function cqLeader() {
  const r = newTestRaft(1, 5, 1, newTestStorage([1, 2, 3]), {checkQuorum: true})
  r.becomeCandidate()
  r.becomeLeader()
  return r
}

function cqTrio(election = 10) {
  const rafts = [1, 2, 3].map((id) => newTestRaftPeers(id, [1, 2, 3], {checkQuorum: true}, election))
  return {n: new Network(rafts), a: rafts[0], b: rafts[1], c: rafts[2]}
}

describe('thesis §6.2 check-quorum', () => {
  it('a leader that hears from a quorum stays leader (etcd TestLeaderStepdownWhenQuorumActive)', () => {
    const r = cqLeader()
    for (let i = 0; i < r.electionTimeout + 1; i++) {
      r.step(newMessage({msgType: MessageType.MsgHeartbeatResponse, from: 2, term: r.term}))
      r.tick()
    }
    expect(r.state).to.equal(Leader)
  })

  it('a leader that loses its quorum steps down after an election timeout (etcd TestLeaderStepdownWhenQuorumLost)', () => {
    const r = cqLeader()
    for (let i = 0; i < r.electionTimeout + 1; i++) r.tick()
    expect(r.state).to.equal(Follower)
  })

  it('a lease holder ignores vote requests until its lease expires (etcd TestLeaderSupersedingWithCheckQuorum)', () => {
    const {n, a, b, c} = cqTrio()
    b.randomizedElectionTimeout = b.electionTimeout + 1
    for (let i = 0; i < b.electionTimeout; i++) b.tick()
    n.send(localMsg(1, MessageType.MsgHup))
    expect([a.state, c.state]).to.deep.equal([Leader, Follower])
    n.send(localMsg(3, MessageType.MsgHup))
    // b refused: it heard from the leader within the election timeout.
    expect(c.state).to.equal(Candidate)
    b.randomizedElectionTimeout = b.electionTimeout + 1
    for (let i = 0; i < b.electionTimeout; i++) b.tick()
    n.send(localMsg(3, MessageType.MsgHup))
    expect(c.state).to.equal(Leader)
  })

  it('a new election succeeds once the old leader lost touch (etcd TestLeaderElectionWithCheckQuorum)', () => {
    const {n, a, b, c} = cqTrio()
    a.randomizedElectionTimeout = a.electionTimeout + 1
    b.randomizedElectionTimeout = b.electionTimeout + 2
    // Right after creation votes are granted regardless of the lease.
    n.send(localMsg(1, MessageType.MsgHup))
    expect([a.state, c.state]).to.deep.equal([Leader, Follower])
    a.randomizedElectionTimeout = a.electionTimeout + 1
    b.randomizedElectionTimeout = b.electionTimeout + 2
    for (let i = 0; i < a.electionTimeout; i++) a.tick()
    for (let i = 0; i < b.electionTimeout; i++) b.tick()
    n.send(localMsg(3, MessageType.MsgHup))
    expect([a.state, c.state]).to.deep.equal([Follower, Leader])
  })

  it('a stuck candidate with a higher term is freed by disrupting the leader (etcd TestFreeStuckCandidateWithCheckQuorum)', () => {
    const {n, a, b, c} = cqTrio()
    b.randomizedElectionTimeout = b.electionTimeout + 1
    for (let i = 0; i < b.electionTimeout; i++) b.tick()
    n.send(localMsg(1, MessageType.MsgHup))
    n.isolate(1)
    n.send(localMsg(3, MessageType.MsgHup))
    expect([b.state, c.state, c.term]).to.deep.equal([Follower, Candidate, b.term + 1])
    n.send(localMsg(3, MessageType.MsgHup))
    expect([b.state, c.state, c.term]).to.deep.equal([Follower, Candidate, b.term + 2])
    n.recover()
    n.send(newMessage({msgType: MessageType.MsgHeartbeat, from: 1, to: 3, term: a.term}))
    // The stale leader learns the higher term from the candidate's response and steps down.
    expect(a.state).to.equal(Follower)
    expect(c.term).to.equal(a.term)
    n.send(localMsg(3, MessageType.MsgHup))
    expect(c.state).to.equal(Leader)
  })

  it('a voter that is not in its own config never campaigns but follows (etcd TestNonPromotableVoterWithCheckQuorum)', () => {
    const a = newTestRaft(1, 10, 1, newTestStorage([1, 2]), {checkQuorum: true})
    const b = newTestRaft(2, 10, 1, newTestStorage([1]), {checkQuorum: true})
    const n = new Network([a, b])
    b.randomizedElectionTimeout = b.electionTimeout + 1
    expect(b.promotable()).to.equal(false)
    for (let i = 0; i < b.electionTimeout; i++) b.tick()
    n.send(localMsg(1, MessageType.MsgHup))
    expect([a.state, b.state, b.lead]).to.deep.equal([Leader, Follower, 1])
  })

  it('a delayed heartbeat to a candidate of a higher term disrupts the leader (etcd TestDisruptiveFollower)', () => {
    const rafts = [1, 2, 3].map((id) => {
      const r = newTestRaftPeers(id, [1, 2, 3], {checkQuorum: true})
      r.becomeFollower(1, 0)
      return r
    })
    const [n1, n2, n3] = rafts
    const n = new Network(rafts)
    n.send(localMsg(1, MessageType.MsgHup))
    expect([n1.state, n2.state, n3.state]).to.deep.equal([Leader, Follower, Follower])
    n3.randomizedElectionTimeout = n3.electionTimeout + 2
    for (let i = 0; i < n3.randomizedElectionTimeout; i++) n3.tick()
    expect([n1.state, n2.state, n3.state]).to.deep.equal([Leader, Follower, Candidate])
    expect([n1.term, n2.term, n3.term]).to.deep.equal([2, 2, 3])
    n.send(newMessage({msgType: MessageType.MsgHeartbeat, from: 1, to: 3, term: n1.term}))
    expect([n1.state, n2.state, n3.state]).to.deep.equal([Follower, Follower, Candidate])
    expect([n1.term, n2.term, n3.term]).to.deep.equal([3, 2, 3])
  })

  it('in the lease a vote request is ignored, unless it is a forced (transfer) campaign', () => {
    for (const force of [false, true]) {
      const r = newTestRaftPeers(1, [1, 2, 3], {checkQuorum: true})
      r.becomeFollower(2, 2)
      r.step(newMessage({
        msgType: MessageType.MsgRequestVote, from: 3, to: 1, term: 3, index: 10, logTerm: 3,
        ...(force ? {context: CAMPAIGN_TRANSFER_CTX} : {}),
      }))
      const msgs = readMessages(r)
      if (force) {
        expect([r.term, r.vote]).to.deep.equal([3, 3])
        expect(msgs.map((m) => [m.msgType, m.reject])).to.deep.equal([[MessageType.MsgRequestVoteResponse, false]])
      } else {
        expect([r.term, r.vote, r.lead]).to.deep.equal([2, 0, 2])
        expect(msgs).to.deep.equal([])
      }
    }
  })

  it('with check-quorum a stale leader append is answered so the old leader learns the term', () => {
    const r = newTestRaftPeers(1, [1, 2, 3], {checkQuorum: true})
    r.becomeFollower(5, 3)
    r.step(newMessage({msgType: MessageType.MsgAppend, from: 2, to: 1, term: 4}))
    expect(readMessages(r).map((m) => [m.msgType, m.to, m.term])).to.deep.equal([[MessageType.MsgAppendResponse, 2, 5]])
    const plain = newTestRaftPeers(1, [1, 2, 3])
    plain.becomeFollower(5, 3)
    plain.step(newMessage({msgType: MessageType.MsgAppend, from: 2, to: 1, term: 4}))
    expect(readMessages(plain)).to.deep.equal([])
  })

  it('the leader marks followers inactive at each check and stays active itself', () => {
    const r = cqLeader()
    r.trk.progress.get(2)!.recentActive = true
    r.trk.progress.get(3)!.recentActive = true
    for (let i = 0; i < r.electionTimeout; i++) r.tick()
    expect(r.state).to.equal(Leader)
    expect([1, 2, 3].map((id) => r.trk.progress.get(id)!.recentActive)).to.deep.equal([true, false, false])
  })
})
