// Raft paper §5.3 (log replication). Ported from etcd-io/raft raft_paper_test.go and
// raft_test.go.
import {expect} from 'chai'
import {MemoryStorage} from '../../../src/raft/memory_storage.js'
import {handleAppendEntries} from '../../../src/raft/raft_handlers.js'
import {StateRole} from '../../../src/raft/role.js'
import {type Entry, MessageType, newEntry, newMessage} from '../../../src/raft/types.js'
import {acceptAndReply, commitNoopEntry, msgView, propose, termsFrom, view} from './helpers.js'
import {
  advanceMessagesAfterAppend, localMsg, Network, newTestRaft, newTestStorage, nextEnts, readMessages,
} from './network.js'

const enc = new TextEncoder()

function leader3(): {r: ReturnType<typeof newTestRaft>; s: MemoryStorage} {
  const s = newTestStorage([1, 2, 3])
  const r = newTestRaft(1, 10, 1, s)
  r.becomeCandidate()
  r.becomeLeader()
  commitNoopEntry(r, s)
  return {r, s}
}

describe('§5.3 log replication', () => {
  it('the leader appends a proposal and sends it to every follower (etcd TestLeaderStartReplication)', () => {
    const {r} = leader3()
    const li = r.raftLog.lastIndex()
    r.step(propose(1, 'some data'))
    expect(r.raftLog.lastIndex()).to.equal(li + 1)
    expect(r.raftLog.committed).to.equal(li)
    const wents: Array<[number, number, string]> = [[li + 1, 1, 'some data']]
    const common = {type: 'MsgAppend', from: 1, term: 1, logTerm: 1, index: li, commit: li, reject: false, rejectHint: 0, entries: wents}
    expect(msgView(readMessages(r))).to.deep.equal([{...common, to: 2}, {...common, to: 3}])
    expect(view(r.raftLog.nextUnstableEnts())).to.deep.equal(wents)
  })

  it('an entry replicated on a majority is committed and the commit index is broadcast (etcd TestLeaderCommitEntry)', () => {
    const {r} = leader3()
    const li = r.raftLog.lastIndex()
    r.step(propose(1, 'some data'))
    for (const m of readMessages(r)) r.step(acceptAndReply(m))
    expect(r.raftLog.committed).to.equal(li + 1)
    expect(view(r.raftLog.nextCommittedEnts(true))).to.deep.equal([[li + 1, 1, 'some data']])
    const msgs = readMessages(r).sort((a, b) => a.to - b.to)
    expect(msgs.map((m) => [m.to, MessageType[m.msgType], m.commit])).to.deep.equal([[2, 'MsgAppend', li + 1], [3, 'MsgAppend', li + 1]])
  })

  it('the leader commits once a majority (itself included) acknowledged (etcd TestLeaderAcknowledgeCommit)', () => {
    const cases: Array<[number, number[], boolean]> = [
      [1, [], true], [3, [], false], [3, [2], true], [3, [2, 3], true], [5, [], false], [5, [2], false],
      [5, [2, 3], true], [5, [2, 3, 4], true], [5, [2, 3, 4, 5], true],
    ]
    for (const [size, acceptors, wack] of cases) {
      const s = newTestStorage(Array.from({length: size}, (_, i) => i + 1))
      const r = newTestRaft(1, 10, 1, s)
      r.becomeCandidate()
      r.becomeLeader()
      commitNoopEntry(r, s)
      const li = r.raftLog.lastIndex()
      r.step(propose(1, 'some data'))
      advanceMessagesAfterAppend(r)
      for (const m of r.msgs) if (acceptors.includes(m.to)) r.step(acceptAndReply(m))
      expect(r.raftLog.committed > li, `${size} ${acceptors}`).to.equal(wack)
    }
  })

  it('committing an entry of the current term commits all preceding entries (etcd TestLeaderCommitPrecedingEntries, §5.3/§5.4.2)', () => {
    const cases: Entry[][] = [[], termsFrom(1, 2), termsFrom(1, 1, 2), termsFrom(1, 1)]
    for (const tt of cases) {
      const s = newTestStorage([1, 2, 3])
      s.append(tt)
      s.setHardState({term: 2, vote: 0, commit: 0})
      const r = newTestRaft(1, 10, 1, s)
      r.becomeCandidate()
      r.becomeLeader()
      r.step(propose(1, 'some data'))
      for (const m of readMessages(r)) r.step(acceptAndReply(m))
      const li = tt.length
      expect(view(r.raftLog.nextCommittedEnts(true))).to.deep.equal([
        ...view(tt), [li + 1, 3, ''], [li + 2, 3, 'some data'],
      ])
    }
  })

  it('a follower commits up to the leader commit index it learns (etcd TestFollowerCommitEntry)', () => {
    const e = (i: number, d: string) => newEntry({term: 1, index: i, data: enc.encode(d)})
    const cases: Array<[Entry[], number]> = [
      [[e(1, 'some data')], 1],
      [[e(1, 'some data'), e(2, 'some data2')], 2],
      [[e(1, 'some data2'), e(2, 'some data')], 2],
      [[e(1, 'some data'), e(2, 'some data2')], 1],
    ]
    for (const [ents, commit] of cases) {
      const r = newTestRaft(1, 10, 1, newTestStorage([1, 2, 3]))
      r.becomeFollower(1, 2)
      r.step(newMessage({msgType: MessageType.MsgAppend, from: 2, to: 1, term: 1, entries: ents, commit}))
      expect(r.raftLog.committed).to.equal(commit)
      expect(view(r.raftLog.nextCommittedEnts(true))).to.deep.equal(view(ents.slice(0, commit)))
    }
  })

  it('a follower rejects an append whose preceding entry it lacks, with a hint (etcd TestFollowerCheckMsgApp)', () => {
    // [logTerm, index, want index, reject, hint, hint term]
    const cases: Array<[number, number, number, boolean, number, number]> = [
      [0, 0, 1, false, 0, 0], // before the committed entry: answer with committed
      [1, 1, 1, false, 0, 0],
      [2, 2, 2, false, 0, 0],
      [1, 2, 2, true, 1, 1], // mismatch with an existing entry
      [3, 3, 3, true, 2, 2], // entry does not exist
    ]
    for (const [logTerm, index, wIndex, wReject, wHint, wLogTerm] of cases) {
      const s = newTestStorage([1, 2, 3])
      s.append(termsFrom(1, 1, 2))
      s.setHardState({term: 0, vote: 0, commit: 1})
      const r = newTestRaft(1, 10, 1, s)
      r.becomeFollower(2, 2)
      r.step(newMessage({msgType: MessageType.MsgAppend, from: 2, to: 1, term: 2, logTerm, index}))
      expect(msgView(readMessages(r))).to.deep.equal([{
        type: 'MsgAppendResponse', from: 1, to: 2, term: 2, logTerm: wLogTerm, index: wIndex, commit: 0,
        reject: wReject, rejectHint: wHint, entries: [],
      }])
    }
  })

  it('a follower deletes conflicting entries and appends new ones (etcd TestFollowerAppendEntries)', () => {
    const cases: Array<[number, number, Entry[], Array<[number, number]>, Array<[number, number]>]> = [
      [2, 2, termsFrom(3, 3), [[1, 1], [2, 2], [3, 3]], [[3, 3]]],
      [1, 1, termsFrom(2, 3, 4), [[1, 1], [2, 3], [3, 4]], [[2, 3], [3, 4]]],
      [0, 0, termsFrom(1, 1), [[1, 1], [2, 2]], []],
      [0, 0, termsFrom(1, 3), [[1, 3]], [[1, 3]]],
    ]
    for (const [index, logTerm, ents, wEnts, wUnstable] of cases) {
      const s = newTestStorage([1, 2, 3])
      s.append(termsFrom(1, 1, 2))
      const r = newTestRaft(1, 10, 1, s)
      r.becomeFollower(2, 2)
      r.step(newMessage({msgType: MessageType.MsgAppend, from: 2, to: 1, term: 2, logTerm, index, entries: ents}))
      expect(r.raftLog.allEntries().map((e) => [e.index, e.term])).to.deep.equal(wEnts)
      expect(r.raftLog.nextUnstableEnts().map((e) => [e.index, e.term])).to.deep.equal(wUnstable)
    }
  })

  it("the leader brings every follower's log in line with its own (Figure 7; etcd TestLeaderSyncFollowerLog)", () => {
    const leaderTerms = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6]
    const term = 8
    const followers = [
      [1, 1, 1, 4, 4, 5, 5, 6, 6],
      [1, 1, 1, 4],
      [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
      [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
      [1, 1, 1, 4, 4, 4, 4],
      [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
    ]
    for (const ft of followers) {
      const ls = newTestStorage([1, 2, 3])
      ls.append(termsFrom(1, ...leaderTerms))
      ls.setHardState({term, vote: 0, commit: leaderTerms.length})
      const lead = newTestRaft(1, 10, 1, ls)
      const fs = newTestStorage([1, 2, 3])
      fs.append(termsFrom(1, ...ft))
      fs.setHardState({term: term - 1, vote: 0, commit: 0})
      const follower = newTestRaft(2, 10, 1, fs)
      // A third node is needed: the follower may have a longer log and refuse its vote.
      const n = new Network([lead, follower, 'blackhole'])
      n.send(localMsg(1, MessageType.MsgHup))
      n.send(newMessage({msgType: MessageType.MsgRequestVoteResponse, from: 3, to: 1, term: term + 1}))
      n.send({...propose(1), entries: [newEntry({term: 0, index: 0})]})
      expect(view(follower.raftLog.allEntries()), `follower ${ft}`).to.deep.equal(view(lead.raftLog.allEntries()))
      expect(follower.raftLog.committed).to.equal(lead.raftLog.committed)
    }
  })

  it('handles appends: consistency check, truncation and commit (etcd TestHandleMsgApp)', () => {
    // [term, logTerm, index, commit, entries, want last index, want commit, reject]
    const cases: Array<[number, number, number, number, Entry[], number, number, boolean]> = [
      [2, 3, 2, 3, [], 2, 0, true], // previous log mismatch
      [2, 3, 3, 3, [], 2, 0, true], // previous log does not exist
      [2, 1, 1, 1, [], 2, 1, false],
      [2, 0, 0, 1, termsFrom(1, 2), 1, 1, false],
      [2, 2, 2, 3, termsFrom(3, 2, 2), 4, 3, false],
      [2, 2, 2, 4, termsFrom(3, 2), 3, 3, false],
      [2, 1, 1, 4, termsFrom(2, 2), 2, 2, false],
      [1, 1, 1, 3, [], 2, 1, false], // commit up to the last new entry (1)
      [1, 1, 1, 3, termsFrom(2, 2), 2, 2, false],
      [2, 2, 2, 3, [], 2, 2, false],
      [2, 2, 2, 4, [], 2, 2, false], // commit up to the last index
    ]
    for (const [term, logTerm, index, commit, entries, wIndex, wCommit, wReject] of cases) {
      const s = newTestStorage([1])
      s.append(termsFrom(1, 1, 2))
      const r = newTestRaft(1, 10, 1, s)
      r.becomeFollower(2, 0)
      // Called directly, as etcd does: the term check of step() is not under test here.
      handleAppendEntries(r, newMessage({msgType: MessageType.MsgAppend, from: 2, to: 1, term, logTerm, index, commit, entries}))
      expect([r.raftLog.lastIndex(), r.raftLog.committed]).to.deep.equal([wIndex, wCommit])
      const msgs = readMessages(r)
      expect(msgs).to.have.length(1)
      expect(msgs[0].reject).to.equal(wReject)
    }
  })

  it('heartbeats commit (never backwards) and are answered (etcd TestHandleHeartbeat)', () => {
    for (const [commit, wCommit] of [[3, 3], [1, 2]]) {
      const s = newTestStorage([1, 2])
      s.append(termsFrom(1, 1, 2, 3))
      const r = newTestRaft(1, 5, 1, s)
      r.becomeFollower(2, 2)
      r.raftLog.commitTo(2)
      r.step(newMessage({msgType: MessageType.MsgHeartbeat, from: 2, to: 1, term: 2, commit}))
      expect(r.raftLog.committed).to.equal(wCommit)
      const msgs = readMessages(r)
      expect(msgs.map((m) => m.msgType)).to.deep.equal([MessageType.MsgHeartbeatResponse])
    }
  })

  it('heartbeat responses from a lagging follower trigger appends until it catches up (etcd TestHandleHeartbeatResp)', () => {
    const s = newTestStorage([1, 2])
    s.append(termsFrom(1, 1, 2, 3))
    const r = newTestRaft(1, 5, 1, s)
    r.becomeCandidate()
    r.becomeLeader()
    r.raftLog.commitTo(r.raftLog.lastIndex())
    r.step(newMessage({msgType: MessageType.MsgHeartbeatResponse, from: 2}))
    let msgs = readMessages(r)
    expect(msgs.map((m) => m.msgType)).to.deep.equal([MessageType.MsgAppend])
    r.step(newMessage({msgType: MessageType.MsgHeartbeatResponse, from: 2}))
    msgs = readMessages(r)
    expect(msgs.map((m) => m.msgType)).to.deep.equal([MessageType.MsgAppend])
    r.step(newMessage({msgType: MessageType.MsgAppendResponse, from: 2, index: msgs[0].index + msgs[0].entries.length}))
    readMessages(r)
    r.step(newMessage({msgType: MessageType.MsgHeartbeatResponse, from: 2}))
    expect(readMessages(r)).to.deep.equal([])
  })

  it('replicates proposals to every node, across leader changes (etcd TestLogReplication)', () => {
    const cases: Array<[Array<[number, number, string]>, number]> = [
      [[[1, MessageType.MsgPropose, 'somedata']], 2],
      [[[1, MessageType.MsgPropose, 'somedata'], [2, MessageType.MsgHup, ''], [2, MessageType.MsgPropose, 'somedata']], 4],
    ]
    for (const [steps, wCommitted] of cases) {
      const n = new Network([null, null, null])
      n.send(localMsg(1, MessageType.MsgHup))
      for (const [to, type, data] of steps) n.send(type === MessageType.MsgHup ? localMsg(to, type) : propose(to, data))
      for (const id of [1, 2, 3]) {
        const r = n.raft(id)
        expect(r.raftLog.committed).to.equal(wCommitted)
        const data = nextEnts(r, n.storage.get(id)!).filter((e) => e.data.length > 0)
        expect(view(data).map((v) => v[2])).to.deep.equal(steps.filter((s) => s[1] === MessageType.MsgPropose).map((s) => s[2]))
      }
    }
  })

  it('a single node commits its own proposals (etcd TestSingleNodeCommit)', () => {
    const n = new Network([null])
    n.send(localMsg(1, MessageType.MsgHup))
    n.send(propose(1, 'some data'))
    n.send(propose(1, 'some data'))
    expect(n.raft(1).raftLog.committed).to.equal(3)
  })

  for (const [desc, peers, success] of [
    ['all up', [null, null, null], true],
    ['one down', [null, null, 'blackhole'], true],
    ['two down', [null, 'blackhole', 'blackhole'], false],
    ['two of four down', [null, 'blackhole', 'blackhole', null], false],
    ['two of five down', [null, 'blackhole', 'blackhole', null, null], true],
  ] as const) {
    it(`a proposal commits only with a quorum: ${desc} (etcd TestProposal)`, () => {
      const n = new Network([...peers])
      n.send(localMsg(1, MessageType.MsgHup))
      n.send(propose(1, 'somedata'))
      const want = success ? [[1, 1, ''], [2, 1, 'somedata']] : []
      for (const [id, p] of n.peers) {
        if (p === 'blackhole') continue
        expect(view(p.raftLog.allEntries()), `node ${id}`).to.deep.equal(want)
        expect(p.raftLog.committed).to.equal(success ? 2 : 0)
      }
      expect(n.raft(1).term).to.equal(1)
    })
  }

  it('a follower forwards proposals to the leader (etcd TestProposalByProxy)', () => {
    for (const peers of [[null, null, null], [null, null, 'blackhole']] as const) {
      const n = new Network([...peers])
      n.send(localMsg(1, MessageType.MsgHup))
      n.send(propose(2, 'somedata'))
      for (const [, p] of n.peers) {
        if (p === 'blackhole') continue
        expect(view(p.raftLog.allEntries())).to.deep.equal([[1, 1, ''], [2, 1, 'somedata']])
        expect(p.raftLog.committed).to.equal(2)
      }
      expect(n.raft(1).term).to.equal(1)
    }
  })

  describe('fast back-off: the follower hints where logs may match, the leader skips terms (etcd TestFastLogRejection)', () => {
    const cases: Array<{leader: number[]; follower: number[]; compact?: number; hintTerm: number; hintIndex: number; nextTerm: number; nextIndex: number}> = [
      {leader: [1, 2, 2, 4, 4, 4, 4], follower: [1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3], hintTerm: 3, hintIndex: 7, nextTerm: 2, nextIndex: 3},
      {leader: [1, 2, 2, 3, 4, 4, 4, 5], follower: [1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3], hintTerm: 3, hintIndex: 8, nextTerm: 3, nextIndex: 4},
      {leader: [1, 1, 1, 1], follower: [1, 2, 2, 4], hintTerm: 1, hintIndex: 1, nextTerm: 1, nextIndex: 1},
      {leader: [1, 1, 1, 1, 1, 1], follower: [1, 2, 2, 4], hintTerm: 1, hintIndex: 1, nextTerm: 1, nextIndex: 1},
      {leader: [1, 1, 1, 1], follower: [1, 2, 2, 4, 4, 4], hintTerm: 1, hintIndex: 1, nextTerm: 1, nextIndex: 1},
      {leader: [1, 1, 1, 4, 5], follower: [1, 1, 1, 4], hintTerm: 4, hintIndex: 4, nextTerm: 4, nextIndex: 4},
      {leader: [2, 5, 5, 5, 5, 5, 5, 5, 5], follower: [2, 4, 4, 4, 4, 4], hintTerm: 4, hintIndex: 6, nextTerm: 2, nextIndex: 1},
      {leader: [2, 2, 2, 2, 2], follower: [2, 4, 4, 4, 4, 4, 4, 4], hintTerm: 2, hintIndex: 1, nextTerm: 2, nextIndex: 1},
      // A stale append reaches a follower that compacted beyond it: hint term 0.
      {leader: [1, 1, 3], follower: [1, 1, 3, 3, 3], compact: 5, hintTerm: 0, hintIndex: 3, nextTerm: 1, nextIndex: 2},
    ]
    cases.forEach((tc, i) => {
      it(`case ${i}: leader ${tc.leader} follower ${tc.follower}`, () => {
        const lastTerm = tc.leader[tc.leader.length - 1]
        const s1 = newTestStorage([1, 2, 3])
        s1.append(termsFrom(1, ...tc.leader))
        s1.setHardState({term: lastTerm - 1, vote: 0, commit: tc.leader.length})
        const n1 = newTestRaft(1, 10, 1, s1)
        n1.becomeCandidate()
        n1.becomeLeader()
        const s2 = newTestStorage([1, 2, 3])
        s2.append(termsFrom(1, ...tc.follower))
        s2.setHardState({term: lastTerm, vote: 1, commit: 0})
        const n2 = newTestRaft(2, 10, 1, s2)
        if (tc.compact !== undefined) s2.compact(tc.compact)

        n2.step(newMessage({msgType: MessageType.MsgHeartbeat, from: 1, to: 2}))
        let msgs = readMessages(n2)
        expect(msgs.map((m) => m.msgType)).to.deep.equal([MessageType.MsgHeartbeatResponse])
        n1.step(msgs[0])
        msgs = readMessages(n1)
        expect(msgs.map((m) => m.msgType)).to.deep.equal([MessageType.MsgAppend])
        n2.step(msgs[0])
        msgs = readMessages(n2)
        expect(msgs).to.have.length(1)
        expect(msgs[0].reject).to.equal(true)
        expect([msgs[0].logTerm, msgs[0].rejectHint]).to.deep.equal([tc.hintTerm, tc.hintIndex])
        n1.step(msgs[0])
        msgs = readMessages(n1)
        expect([msgs[0].logTerm, msgs[0].index]).to.deep.equal([tc.nextTerm, tc.nextIndex])
      })
    })
  })

  it('a rejected append is answered by a new probe; a stale rejection is ignored', () => {
    const {r} = leader3()
    const li = r.raftLog.lastIndex()
    r.step(newMessage({msgType: MessageType.MsgAppendResponse, from: 2, to: 1, term: 1, index: li}))
    r.step(propose(1))
    readMessages(r)
    // A rejection for an index below match is stale.
    r.step(newMessage({msgType: MessageType.MsgAppendResponse, from: 2, to: 1, term: 1, index: li - 1, reject: true, rejectHint: 0}))
    expect(readMessages(r)).to.deep.equal([])
    expect(r.trk.progress.get(2)!.match).to.equal(li)
  })

  it('a leader does not start with followers in Replicate; an acknowledgement moves them there', () => {
    const s = newTestStorage([1, 2, 3])
    const r = newTestRaft(1, 10, 1, s)
    r.becomeCandidate()
    r.becomeLeader()
    expect(r.trk.progress.get(2)!.state).to.equal('StateProbe')
    expect(r.trk.progress.get(1)!.state).to.equal('StateReplicate')
    r.bcastAppend()
    for (const m of readMessages(r)) r.step(acceptAndReply(m))
    expect(r.trk.progress.get(2)!.state).to.equal('StateReplicate')
    expect(r.state).to.equal(StateRole.Leader)
  })
})
