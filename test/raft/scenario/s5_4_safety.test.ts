// Raft paper §5.4 (safety): the election restriction (§5.4.1) and committing entries from
// previous terms (§5.4.2). Ported from etcd-io/raft raft_paper_test.go and raft_test.go.
import {expect} from 'chai'
import {applyConfChange} from '../../../src/raft/raft_apply_conf.js'
import {StateRole} from '../../../src/raft/role.js'
import {ConfChangeType, type Entry, MessageType, newEntry, newMessage} from '../../../src/raft/types.js'
import {propose, termsFrom, view} from './helpers.js'
import {advanceMessagesAfterAppend, localMsg, Network, newTestRaft, newTestStorage, readMessages} from './network.js'

describe('§5.4.1 election restriction', () => {
  it('a voter denies its vote to a candidate whose log is less up-to-date (etcd TestVoter)', () => {
    const cases: Array<[Entry[], number, number, boolean]> = [
      // same last term: the longer log wins
      [termsFrom(1, 1), 1, 1, false],
      [termsFrom(1, 1), 1, 2, false],
      [termsFrom(1, 1, 1), 1, 1, true],
      // candidate has the higher last term
      [termsFrom(1, 1), 2, 1, false],
      [termsFrom(1, 1), 2, 2, false],
      [termsFrom(1, 1, 1), 2, 1, false],
      // voter has the higher last term
      [termsFrom(1, 2), 1, 1, true],
      [termsFrom(1, 2), 1, 2, true],
      [termsFrom(1, 2, 1), 1, 1, true],
    ]
    for (const [ents, logTerm, index, wReject] of cases) {
      const s = newTestStorage([1, 2])
      s.append(ents)
      const r = newTestRaft(1, 10, 1, s)
      r.step(newMessage({msgType: MessageType.MsgRequestVote, from: 2, to: 1, term: 3, logTerm, index}))
      const msgs = readMessages(r)
      expect(msgs.map((m) => [m.msgType, m.reject])).to.deep.equal([[MessageType.MsgRequestVoteResponse, wReject]])
    }
  })

  it('a vote request carries the index and term of the candidate\'s last entry (etcd TestVoteRequest)', () => {
    const cases: Array<[Entry[], number]> = [[termsFrom(1, 1), 2], [termsFrom(1, 1, 2), 3]]
    for (const [ents, wterm] of cases) {
      const r = newTestRaft(1, 10, 1, newTestStorage([1, 2, 3]))
      r.step(newMessage({msgType: MessageType.MsgAppend, from: 2, to: 1, term: wterm - 1, index: 0, logTerm: 0, entries: ents}))
      readMessages(r)
      for (let i = 1; i < 2 * r.electionTimeout; i++) r.tick()
      const last = ents[ents.length - 1]
      expect(readMessages(r).sort((a, b) => a.to - b.to).map((m) => [m.msgType, m.to, m.term, m.index, m.logTerm]))
        .to.deep.equal([2, 3].map((to) => [MessageType.MsgRequestVote, to, wterm, last.index, last.term]))
    }
  })

  it('only a node holding all committed entries can be elected (leader completeness)', () => {
    const n = new Network([null, null, null])
    n.send(localMsg(1, MessageType.MsgHup))
    n.isolate(3)
    n.send(propose(1, 'committed'))
    expect(n.raft(1).raftLog.committed).to.equal(2)
    n.recover()
    n.isolate(1)
    // Node 3 lacks entry 2: node 2 refuses its vote, so it cannot win.
    n.send(localMsg(3, MessageType.MsgHup))
    expect(n.raft(3).state).to.equal(StateRole.Candidate)
    n.send(localMsg(2, MessageType.MsgHup))
    expect(n.raft(2).state).to.equal(StateRole.Leader)
    expect(view(n.raft(2).raftLog.allEntries()).map((v) => v[2])).to.include('committed')
  })
})

describe('§5.4.2 committing entries from previous terms', () => {
  it('the leader commits by counting replicas only entries of its current term (etcd TestLeaderOnlyCommitsLogFromCurrentTerm)', () => {
    for (const [index, wCommit] of [[1, 0], [2, 0], [3, 3]]) {
      const s = newTestStorage([1, 2])
      s.append(termsFrom(1, 1, 2))
      s.setHardState({term: 2, vote: 0, commit: 0})
      const r = newTestRaft(1, 10, 1, s)
      r.becomeCandidate()
      r.becomeLeader()
      readMessages(r)
      r.step({...propose(1), entries: [newEntry({term: 0, index: 0})]})
      r.step(newMessage({msgType: MessageType.MsgAppendResponse, from: 2, to: 1, term: r.term, index}))
      advanceMessagesAfterAppend(r)
      expect(r.raftLog.committed, `ack ${index}`).to.equal(wCommit)
    }
  })

  it('commits the quorum index only when it is of the current term (etcd TestCommit)', () => {
    const cases: Array<[number[], Entry[], number, number]> = [
      [[1], termsFrom(1, 1), 1, 1],
      [[1], termsFrom(1, 1), 2, 0],
      [[2], termsFrom(1, 1, 2), 2, 2],
      [[1], termsFrom(1, 2), 2, 1],
      [[2, 1, 1], termsFrom(1, 1, 2), 1, 1],
      [[2, 1, 1], termsFrom(1, 1, 1), 2, 0],
      [[2, 1, 2], termsFrom(1, 1, 2), 2, 2],
      [[2, 1, 2], termsFrom(1, 1, 1), 2, 0],
      [[2, 1, 1, 1], termsFrom(1, 1, 2), 1, 1],
      [[2, 1, 1, 1], termsFrom(1, 1, 1), 2, 0],
      [[2, 1, 1, 2], termsFrom(1, 1, 2), 1, 1],
      [[2, 1, 1, 2], termsFrom(1, 1, 1), 2, 0],
      [[2, 1, 2, 2], termsFrom(1, 1, 2), 2, 2],
      [[2, 1, 2, 2], termsFrom(1, 1, 1), 2, 0],
    ]
    for (const [matches, logs, term, want] of cases) {
      const s = newTestStorage([1])
      s.append(logs)
      s.setHardState({term, vote: 0, commit: 0})
      const r = newTestRaft(1, 10, 2, s)
      matches.forEach((match, j) => {
        const id = j + 1
        if (id > 1) applyConfChange(r, {kind: 'v1', id: 0, type: ConfChangeType.AddNode, nodeId: id, context: new Uint8Array(0)})
        const pr = r.trk.progress.get(id)!
        pr.match = match
        pr.next = match + 1
      })
      r.maybeCommit()
      expect(r.raftLog.committed, `${matches} term ${term}`).to.equal(want)
    }
  })

  it('a new leader cannot commit old-term entries until an entry of its term commits (etcd TestCannotCommitWithoutNewTermEntry)', () => {
    const n = new Network([null, null, null, null, null])
    n.send(localMsg(1, MessageType.MsgHup))
    n.cut(1, 3)
    n.cut(1, 4)
    n.cut(1, 5)
    n.send(propose(1, 'some data'))
    n.send(propose(1, 'some data'))
    expect(n.raft(1).raftLog.committed).to.equal(1)
    n.recover()
    // Keep the new leader's empty entry from being replicated.
    n.ignore(MessageType.MsgAppend)
    n.send(localMsg(2, MessageType.MsgHup))
    expect(n.raft(2).raftLog.committed).to.equal(1)
    n.recover()
    n.send(localMsg(2, MessageType.MsgBeat))
    n.send(propose(2, 'some data'))
    expect(n.raft(2).raftLog.committed).to.equal(5)
  })

  it("the new leader's empty entry commits all previous entries (etcd TestCommitWithoutNewTermEntry)", () => {
    const n = new Network([null, null, null, null, null])
    n.send(localMsg(1, MessageType.MsgHup))
    n.cut(1, 3)
    n.cut(1, 4)
    n.cut(1, 5)
    n.send(propose(1, 'some data'))
    n.send(propose(1, 'some data'))
    expect(n.raft(1).raftLog.committed).to.equal(1)
    n.recover()
    n.send(localMsg(2, MessageType.MsgHup))
    expect(n.raft(1).raftLog.committed).to.equal(4)
  })

  it('messages of an old leader are ignored (etcd TestOldMessages)', () => {
    const n = new Network([null, null, null])
    n.send(localMsg(1, MessageType.MsgHup))
    n.send(localMsg(2, MessageType.MsgHup))
    n.send(localMsg(1, MessageType.MsgHup))
    // An old leader of term 2 tries to append; ignored.
    n.send(newMessage({msgType: MessageType.MsgAppend, from: 2, to: 1, term: 2, entries: [newEntry({index: 3, term: 2})]}))
    n.send(propose(1, 'somedata'))
    for (const id of [1, 2, 3]) {
      expect(view(n.raft(id).raftLog.allEntries())).to.deep.equal([[1, 1, ''], [2, 2, ''], [3, 3, ''], [4, 3, 'somedata']])
      expect(n.raft(id).raftLog.committed).to.equal(4)
    }
  })

  it('a follower never truncates committed entries: it answers a stale append with its commit index', () => {
    const s = newTestStorage([1, 2, 3])
    s.append(termsFrom(1, 1, 1, 1))
    s.setHardState({term: 1, vote: 0, commit: 3})
    const r = newTestRaft(2, 10, 1, s)
    r.step(newMessage({msgType: MessageType.MsgAppend, from: 1, to: 2, term: 1, index: 1, logTerm: 1, entries: termsFrom(2, 1)}))
    const msgs = readMessages(r)
    expect(msgs.map((m) => [m.msgType, m.index, m.reject])).to.deep.equal([[MessageType.MsgAppendResponse, 3, false]])
    expect(r.raftLog.lastIndex()).to.equal(3)
  })

  it("a leader's self-acknowledgement persisted after it lost leadership is ignored (etcd TestLeaderMsgAppSelfAckAfterTermChange)", () => {
    const r = newTestRaft(1, 10, 1, newTestStorage([1, 2, 3]))
    r.becomeCandidate()
    r.becomeLeader()
    r.step(propose(1, ''))
    const selfAcks = r.msgsAfterAppend.filter((m) => m.to === 1)
    expect(selfAcks.map((m) => [m.msgType, m.term, m.index])).to.deep.equal([[MessageType.MsgAppendResponse, 1, 1], [MessageType.MsgAppendResponse, 1, 2]])
    r.msgsAfterAppend = []
    r.msgs = []
    // Node 2 leads term 2 now.
    r.step(newMessage({msgType: MessageType.MsgHeartbeat, from: 2, to: 1, term: 2}))
    expect([r.state, r.term, r.lead]).to.deep.equal([StateRole.Follower, 2, 2])
    for (const m of selfAcks) r.step(m)
    expect([r.state, r.term, r.lead]).to.deep.equal([StateRole.Follower, 2, 2])
    expect(readMessages(r).map((m) => MessageType[m.msgType])).to.deep.equal(['MsgHeartbeatResponse'])
  })
})
