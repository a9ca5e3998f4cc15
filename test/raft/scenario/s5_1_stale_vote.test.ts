// Raft paper §5.1 and Figure 2: "If a server receives a request with a stale term number, it
// rejects the request", and RequestVote returns currentTerm "for candidate to update itself".
// etcd-io/raft and raft-rs answer only a stale MsgRequestPreVote and ignore a stale
// MsgRequestVote; this core answers both (Raft.stepLowerTerm), which the property test showed is
// needed for liveness without pre-vote (test/raft/property/regressions/stale_voter_livelock.json).
import {expect} from 'chai'
import {StateRole} from '../../../src/raft/role.js'
import {MessageType, newMessage} from '../../../src/raft/types.js'
import {newTestRaftPeers, readMessages} from './network.js'

describe('§5.1 a vote request of a stale term', () => {
  for (const [what, checkQuorum] of [['a follower', false], ['a follower in a leader lease', true]] as const) {
    it(`${what} rejects it with its current term and changes nothing`, () => {
      const r = newTestRaftPeers(1, [1, 2, 3], {checkQuorum})
      r.becomeFollower(4, checkQuorum ? 3 : 0)
      r.step(newMessage({msgType: MessageType.MsgRequestVote, from: 2, to: 1, term: 3, index: 9, logTerm: 3}))
      expect(readMessages(r).map((m) => [m.to, m.msgType, m.term, m.reject])).to.deep.equal([[2, MessageType.MsgRequestVoteResponse, 4, true]])
      expect([r.term, r.vote, r.state, r.lead]).to.deep.equal([4, 0, StateRole.Follower, checkQuorum ? 3 : 0])
    })
  }

  it('a leader rejects it too and stays leader', () => {
    const r = newTestRaftPeers(1, [1, 2, 3])
    r.becomeFollower(4, 0)
    r.becomeCandidate()
    r.becomeLeader()
    readMessages(r)
    r.step(newMessage({msgType: MessageType.MsgRequestVote, from: 3, to: 1, term: 2}))
    expect(readMessages(r).map((m) => [m.to, m.msgType, m.term, m.reject])).to.deep.equal([[3, MessageType.MsgRequestVoteResponse, 5, true]])
    expect([r.state, r.term]).to.deep.equal([StateRole.Leader, 5])
  })

  it('the stale candidate that receives the rejection becomes a follower at the newer term', () => {
    const c = newTestRaftPeers(2, [1, 2, 3])
    c.becomeCandidate()
    c.becomeCandidate()
    c.becomeCandidate()
    expect(c.term).to.equal(3)
    c.step(newMessage({msgType: MessageType.MsgRequestVoteResponse, from: 1, to: 2, term: 4, reject: true}))
    expect([c.state, c.term, c.vote, c.lead]).to.deep.equal([StateRole.Follower, 4, 0, 0])
    // Its next campaign is for term 5, which a voter at term 4 can grant.
  })
})
