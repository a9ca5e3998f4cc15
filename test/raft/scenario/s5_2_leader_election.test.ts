// Raft paper §5.1 (terms) and §5.2 (leader election). Ported from etcd-io/raft
// raft_paper_test.go and raft_test.go.
import {expect} from 'chai'
import {RaftInvariantError} from '../../../src/raft/errors.js'
import type {Raft} from '../../../src/raft/raft.js'
import {StateRole} from '../../../src/raft/role.js'
import {type Message, MessageType, newEntry, newMessage} from '../../../src/raft/types.js'
import {
  advanceMessagesAfterAppend, entsRaft, localMsg, Network, newTestRaft, newTestRaftPeers, newTestStorage,
  readMessages, votedRaft,
} from './network.js'

const {Follower, Candidate, PreCandidate, Leader} = StateRole

/** Puts a 3-voter node 1 into `state` (term 1 for follower/candidate/leader). */
function raftIn(state: StateRole, voters = [1, 2, 3]): Raft {
  const r = newTestRaftPeers(1, voters)
  if (state === Follower) r.becomeFollower(1, 2)
  if (state === PreCandidate) r.becomePreCandidate()
  if (state === Candidate) r.becomeCandidate()
  if (state === Leader) {
    r.becomeCandidate()
    r.becomeLeader()
  }
  return r
}

function brief(msgs: Message[]): Array<Partial<Message>> {
  return msgs
    .map((m) => ({from: m.from, to: m.to, term: m.term, msgType: m.msgType, reject: m.reject}))
    .sort((a, b) => a.to - b.to || a.msgType - b.msgType)
}

describe('§5.1 terms', () => {
  for (const state of [Follower, Candidate, Leader]) {
    it(`a ${state} that sees a higher term updates its term and becomes follower (§5.1)`, () => {
      const r = raftIn(state)
      r.step(newMessage({msgType: MessageType.MsgAppend, from: 2, to: 1, term: 2}))
      expect(r.term).to.equal(2)
      expect(r.state).to.equal(Follower)
    })
  }

  it('a message with a stale term is ignored (§5.1)', () => {
    const s = newTestStorage([1, 2, 3])
    s.setHardState({term: 2, vote: 0, commit: 0})
    const r = newTestRaft(1, 10, 1, s)
    r.step(newMessage({msgType: MessageType.MsgAppend, from: 2, to: 1, term: 1, entries: [newEntry({index: 1, term: 1})]}))
    expect(readMessages(r)).to.deep.equal([])
    expect(r.raftLog.lastIndex()).to.equal(0)
    expect(r.term).to.equal(2)
  })

  it('every server steps down to follower on a higher-term vote or append (etcd TestAllServerStepdown)', () => {
    const cases: Array<[StateRole, number]> = [[Follower, 0], [PreCandidate, 0], [Candidate, 0], [Leader, 1]]
    for (const [state, wIndex] of cases) {
      for (const msgType of [MessageType.MsgRequestVote, MessageType.MsgAppend]) {
        const r = raftIn(state)
        r.step(newMessage({msgType, from: 2, to: 1, term: 3, logTerm: 3}))
        expect(r.state).to.equal(Follower)
        expect(r.term).to.equal(3)
        expect(r.raftLog.lastIndex()).to.equal(wIndex)
        expect(r.lead).to.equal(msgType === MessageType.MsgAppend ? 2 : 0)
      }
    }
  })
})

describe('§5.2 leader election', () => {
  it('a server starts as follower', () => {
    expect(newTestRaftPeers(1, [1, 2, 3]).state).to.equal(Follower)
  })

  it('the leader sends heartbeats every heartbeat interval (§5.2)', () => {
    const r = raftIn(Leader)
    for (let i = 0; i < 10; i++) r.appendEntry([newEntry({term: 0, index: 0})])
    r.tick()
    expect(brief(readMessages(r))).to.deep.equal([
      {from: 1, to: 2, term: 1, msgType: MessageType.MsgHeartbeat, reject: false},
      {from: 1, to: 3, term: 1, msgType: MessageType.MsgHeartbeat, reject: false},
    ])
  })

  for (const state of [Follower, Candidate]) {
    it(`a ${state} that hears nothing for an election timeout starts an election (§5.2)`, () => {
      const r = raftIn(state)
      for (let i = 1; i < 2 * 10; i++) r.tick()
      advanceMessagesAfterAppend(r)
      expect(r.term).to.equal(2)
      expect(r.state).to.equal(Candidate)
      expect(r.trk.votes.get(1)).to.equal(true)
      expect(brief(readMessages(r))).to.deep.equal([
        {from: 1, to: 2, term: 2, msgType: MessageType.MsgRequestVote, reject: false},
        {from: 1, to: 3, term: 2, msgType: MessageType.MsgRequestVote, reject: false},
      ])
    })

    it(`the election timeout of a ${state} is randomized in [et, 2et) (§5.2)`, () => {
      const et = 10
      const r = newTestRaftPeers(1, [1, 2, 3], {}, et)
      const seen = new Set<number>()
      for (let round = 0; round < 50 * et; round++) {
        if (state === Follower) r.becomeFollower(r.term + 1, 2)
        else r.becomeCandidate()
        let time = 0
        while (readMessages(r).length === 0) {
          r.tick()
          time++
        }
        seen.add(time)
      }
      for (let d = et + 1; d < 2 * et; d++) expect(seen.has(d), `timeout ${d}`).to.equal(true)
      expect(Math.min(...seen)).to.be.at.least(et)
      expect(Math.max(...seen)).to.be.below(2 * et)
    })
  }

  it('a candidate wins, loses or waits depending on the votes of one round (§5.2)', () => {
    const cases: Array<[number, Record<number, boolean>, StateRole]> = [
      [1, {}, Leader],
      [3, {2: true, 3: true}, Leader],
      [3, {2: true}, Leader],
      [5, {2: true, 3: true, 4: true, 5: true}, Leader],
      [5, {2: true, 3: true, 4: true}, Leader],
      [5, {2: true, 3: true}, Leader],
      [3, {2: false, 3: false}, Follower],
      [5, {2: false, 3: false, 4: false, 5: false}, Follower],
      [5, {2: true, 3: false, 4: false, 5: false}, Follower],
      [3, {}, Candidate],
      [5, {2: true}, Candidate],
      [5, {2: false, 3: false}, Candidate],
      [5, {}, Candidate],
    ]
    for (const [size, votes, want] of cases) {
      const r = newTestRaftPeers(1, Array.from({length: size}, (_, i) => i + 1))
      r.step(localMsg(1, MessageType.MsgHup))
      advanceMessagesAfterAppend(r)
      for (const [id, granted] of Object.entries(votes)) {
        r.step(newMessage({msgType: MessageType.MsgRequestVoteResponse, from: Number(id), to: 1, term: r.term, reject: !granted}))
      }
      expect(r.state, `${size} ${JSON.stringify(votes)}`).to.equal(want)
      expect(r.term).to.equal(1)
    }
  })

  it('a follower votes for at most one candidate per term, first come first served (§5.2)', () => {
    const cases: Array<[number, number, boolean]> = [[0, 2, false], [0, 3, false], [2, 2, false], [3, 3, false], [2, 3, true], [3, 2, true]]
    for (const [vote, candidate, wReject] of cases) {
      const s = newTestStorage([1, 2, 3])
      s.setHardState({term: 1, vote, commit: 0})
      const r = newTestRaft(1, 10, 1, s)
      r.step(newMessage({msgType: MessageType.MsgRequestVote, from: candidate, to: 1, term: 1}))
      expect(brief(readMessages(r))).to.deep.equal([
        {from: 1, to: candidate, term: 1, msgType: MessageType.MsgRequestVoteResponse, reject: wReject},
      ])
    }
  })

  it('a candidate that hears from a leader of its term or later becomes follower (§5.2)', () => {
    for (const term of [1, 2]) {
      const r = newTestRaftPeers(1, [1, 2, 3])
      r.step(localMsg(1, MessageType.MsgHup))
      expect(r.state).to.equal(Candidate)
      r.step(newMessage({msgType: MessageType.MsgAppend, from: 2, to: 1, term}))
      expect(r.state).to.equal(Follower)
      expect(r.term).to.equal(term)
    }
  })

  for (const preVote of [false, true]) {
    const candState = preVote ? PreCandidate : Candidate
    const candTerm = preVote ? 0 : 1
    it(`elections succeed only with a quorum of reachable voters${preVote ? ' (pre-vote)' : ''} (etcd TestLeaderElection)`, () => {
      const cfg = {preVote}
      const cases: Array<[Network, StateRole, number]> = [
        [new Network([null, null, null], () => cfg), Leader, 1],
        [new Network([null, null, 'blackhole'], () => cfg), Leader, 1],
        [new Network([null, 'blackhole', 'blackhole'], () => cfg), candState, candTerm],
        [new Network([null, 'blackhole', 'blackhole', null], () => cfg), candState, candTerm],
        [new Network([null, 'blackhole', 'blackhole', null, null], () => cfg), Leader, 1],
        // Three logs further along than 0, in the same term: rejections are returned.
        [new Network([null, entsRaft([1], cfg), entsRaft([1], cfg), entsRaft([1, 1], cfg), null], () => cfg), Follower, 1],
      ]
      cases.forEach(([n, state, term], i) => {
        n.send(localMsg(1, MessageType.MsgHup))
        expect(n.raft(1).state, `case ${i}`).to.equal(state)
        expect(n.raft(1).term, `case ${i}`).to.equal(term)
      })
    })

    it(`each node can become leader in turn${preVote ? ' (pre-vote)' : ''} (etcd TestLeaderCycle)`, () => {
      const n = new Network([null, null, null], () => ({preVote}))
      for (let campaigner = 1; campaigner <= 3; campaigner++) {
        n.send(localMsg(campaigner, MessageType.MsgHup))
        for (const id of [1, 2, 3]) {
          expect(n.raft(id).state).to.equal(id === campaigner ? Leader : Follower)
        }
      }
    })

    it(`a single-node cluster elects itself${preVote ? ' (pre-vote)' : ''}`, () => {
      const n = new Network([null], () => ({preVote}))
      n.send(localMsg(1, MessageType.MsgHup))
      expect(n.raft(1).state).to.equal(Leader)
    })

    it(`campaigning while leader changes nothing${preVote ? ' (pre-vote)' : ''} (etcd TestCampaignWhileLeader)`, () => {
      const r = newTestRaft(1, 5, 1, newTestStorage([1]), {preVote})
      r.step(localMsg(1, MessageType.MsgHup))
      advanceMessagesAfterAppend(r)
      expect(r.state).to.equal(Leader)
      const term = r.term
      r.step(localMsg(1, MessageType.MsgHup))
      advanceMessagesAfterAppend(r)
      expect(r.state).to.equal(Leader)
      expect(r.term).to.equal(term)
    })
  }

  it('a stale candidacy cannot win; the winner log overwrites newer uncommitted entries (etcd TestLeaderElectionOverwriteNewerLogs)', () => {
    for (const preVote of [false, true]) {
      const cfg = {preVote}
      // Node 1 won term 1 and replicated to node 2; node 3 won term 2 (votes of 4 and 5) but
      // replicated nothing.
      const n = new Network([entsRaft([1], cfg), entsRaft([1], cfg), entsRaft([2], cfg), votedRaft(3, 2, cfg), votedRaft(3, 2, cfg)])
      n.send(localMsg(1, MessageType.MsgHup))
      expect(n.raft(1).state).to.equal(Follower)
      expect(n.raft(1).term).to.equal(2)
      n.send(localMsg(1, MessageType.MsgHup))
      expect(n.raft(1).state).to.equal(Leader)
      expect(n.raft(1).term).to.equal(3)
      for (const id of [1, 2, 3, 4, 5]) {
        expect(n.raft(id).raftLog.allEntries().map((e) => e.term), `node ${id}`).to.deep.equal([1, 3])
      }
    }
  })

  it('dueling candidates: the one with a quorum wins, the other concedes (etcd TestDuelingCandidates)', () => {
    const n = new Network([null, null, null])
    n.cut(1, 3)
    n.send(localMsg(1, MessageType.MsgHup))
    n.send(localMsg(3, MessageType.MsgHup))
    expect(n.raft(1).state).to.equal(Leader)
    expect(n.raft(3).state).to.equal(Candidate)
    n.recover()
    // 3 disrupts the leader with a higher term but cannot win: its log is too short.
    n.send(localMsg(3, MessageType.MsgHup))
    const want: Array<[number, StateRole, number, number]> = [[1, Follower, 2, 1], [2, Follower, 2, 1], [3, Follower, 2, 0]]
    for (const [id, state, term, last] of want) {
      expect(n.raft(id).state).to.equal(state)
      expect(n.raft(id).term).to.equal(term)
      expect(n.raft(id).raftLog.lastIndex()).to.equal(last)
    }
    expect(n.raft(1).raftLog.committed).to.equal(1)
  })

  it('dueling pre-candidates: the stale one stays follower without disrupting (etcd TestDuelingPreCandidates)', () => {
    const n = new Network([null, null, null], () => ({preVote: true}))
    n.cut(1, 3)
    n.send(localMsg(1, MessageType.MsgHup))
    n.send(localMsg(3, MessageType.MsgHup))
    expect(n.raft(1).state).to.equal(Leader)
    expect(n.raft(3).state).to.equal(Follower)
    n.recover()
    n.send(localMsg(3, MessageType.MsgHup))
    expect([n.raft(1).state, n.raft(1).term]).to.deep.equal([Leader, 1])
    expect([n.raft(2).state, n.raft(2).term]).to.deep.equal([Follower, 1])
    expect([n.raft(3).state, n.raft(3).term]).to.deep.equal([Follower, 1])
  })

  it('a candidate concedes to a leader of its term and catches up (etcd TestCandidateConcede)', () => {
    const n = new Network([null, null, null])
    n.isolate(1)
    n.send(localMsg(1, MessageType.MsgHup))
    n.send(localMsg(3, MessageType.MsgHup))
    n.recover()
    n.send(localMsg(3, MessageType.MsgBeat))
    n.send({...localMsg(3, MessageType.MsgPropose), entries: [newEntry({term: 0, index: 0, data: new TextEncoder().encode('force follower')})]})
    n.send(localMsg(3, MessageType.MsgBeat))
    expect(n.raft(1).state).to.equal(Follower)
    expect(n.raft(1).term).to.equal(1)
    for (const id of [1, 2, 3]) {
      const r = n.raft(id)
      expect(r.raftLog.allEntries().map((e) => [e.index, e.term])).to.deep.equal([[1, 1], [2, 1]])
      expect(r.raftLog.committed).to.equal(2)
    }
  })

  it('(pre-)vote requests of a higher term are granted from any state (etcd TestVoteFromAnyState)', () => {
    for (const vt of [MessageType.MsgRequestVote, MessageType.MsgRequestPreVote]) {
      for (const st of [Follower, PreCandidate, Candidate, Leader]) {
        const s = newTestStorage([1, 2, 3])
        s.setHardState({term: 1, vote: 0, commit: 0})
        const r = newTestRaft(1, 10, 1, s)
        if (st === Follower) r.becomeFollower(r.term, 3)
        if (st === PreCandidate) r.becomePreCandidate()
        if (st === Candidate) r.becomeCandidate()
        if (st === Leader) {
          r.becomeCandidate()
          r.becomeLeader()
        }
        const origTerm = r.term
        const newTerm = r.term + 1
        r.step(newMessage({msgType: vt, from: 2, to: 1, term: newTerm, logTerm: newTerm, index: 42}))
        const msgs = readMessages(r)
        expect(brief(msgs), `${MessageType[vt]} ${st}`).to.deep.equal([
          {from: 1, to: 2, term: newTerm, msgType: vt + 1, reject: false},
        ])
        if (vt === MessageType.MsgRequestVote) {
          expect([r.state, r.term, r.vote]).to.deep.equal([Follower, newTerm, 2])
        } else {
          // A pre-vote changes nothing.
          expect([r.state, r.term]).to.deep.equal([st, origTerm])
          expect([0, 1]).to.include(r.vote)
        }
      }
    }
  })

  it('vote requests are granted only to up-to-date logs and unvoted terms (etcd TestRecvMsgVote, §5.2/§5.4.1)', () => {
    // The voter's log is (1,2) (2,2).
    const cases: Array<[number, number, number, boolean]> = [
      [0, 0, 0, true], [0, 1, 0, true], [0, 2, 0, true], [0, 3, 0, false],
      [1, 0, 0, true], [1, 1, 0, true], [1, 2, 0, true], [1, 3, 0, false],
      [2, 0, 0, true], [2, 1, 0, true], [2, 2, 0, false], [2, 3, 0, false],
      [3, 0, 0, true], [3, 1, 0, true], [3, 2, 0, false], [3, 3, 0, false],
      [3, 2, 2, false], [3, 2, 1, true],
    ]
    for (const msgType of [MessageType.MsgRequestVote, MessageType.MsgRequestPreVote]) {
      for (const [index, logTerm, voteFor, wReject] of cases) {
        const term = Math.max(2, logTerm)
        const s = newTestStorage([1])
        s.append([newEntry({index: 1, term: 2}), newEntry({index: 2, term: 2})])
        s.setHardState({term, vote: voteFor, commit: 0})
        const r = newTestRaft(1, 10, 1, s)
        r.step(newMessage({msgType, term, from: 2, to: 1, index, logTerm}))
        const msgs = readMessages(r)
        expect(msgs).to.have.length(1)
        expect(msgs[0].msgType).to.equal(msgType + 1)
        expect(msgs[0].reject, `${MessageType[msgType]} ${index}/${logTerm}/${voteFor}`).to.equal(wReject)
      }
    }
  })

  it('leaders and candidates reject votes for other nodes in their term', () => {
    for (const st of [Leader, Candidate]) {
      const r = newTestRaftPeers(1, [1, 2, 3])
      r.becomeCandidate()
      if (st === Leader) r.becomeLeader()
      readMessages(r)
      r.step(newMessage({msgType: MessageType.MsgRequestVote, from: 2, to: 1, term: r.term, index: 5, logTerm: 5}))
      const msgs = readMessages(r)
      expect(brief(msgs)).to.deep.equal([
        {from: 1, to: 2, term: r.term, msgType: MessageType.MsgRequestVoteResponse, reject: true},
      ])
    }
  })

  it('refuses invalid role transitions (etcd TestStateTransition)', () => {
    const cases: Array<[StateRole, StateRole, boolean]> = [
      [Follower, Follower, true], [Follower, PreCandidate, true], [Follower, Candidate, true], [Follower, Leader, false],
      [PreCandidate, Follower, true], [PreCandidate, PreCandidate, true], [PreCandidate, Candidate, true], [PreCandidate, Leader, true],
      [Candidate, Follower, true], [Candidate, PreCandidate, true], [Candidate, Candidate, true], [Candidate, Leader, true],
      [Leader, Follower, true], [Leader, PreCandidate, false], [Leader, Candidate, false], [Leader, Leader, true],
    ]
    for (const [from, to, allowed] of cases) {
      const r = newTestRaftPeers(1, [1])
      r.state = from
      const go = (): void => {
        if (to === Follower) r.becomeFollower(1, 0)
        if (to === PreCandidate) r.becomePreCandidate()
        if (to === Candidate) r.becomeCandidate()
        if (to === Leader) r.becomeLeader()
      }
      if (allowed) expect(go, `${from} -> ${to}`).to.not.throw()
      else expect(go, `${from} -> ${to}`).to.throw(RaftInvariantError, /invalid transition/)
    }
  })

  it('a candidate with unapplied committed conf changes does not campaign', () => {
    const n = new Network([null, null, null])
    n.send(localMsg(1, MessageType.MsgHup))
    const r2 = n.raft(2)
    // Give node 2 a committed but unapplied conf change entry.
    r2.becomeFollower(r2.term, 1)
    r2.raftLog.append([newEntry({index: 2, term: 1, entryType: 2})])
    r2.raftLog.commitTo(2)
    r2.step(localMsg(2, MessageType.MsgHup))
    expect(r2.state).to.equal(Follower)
  })
})
