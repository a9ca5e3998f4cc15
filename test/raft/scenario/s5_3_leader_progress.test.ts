// Raft paper §5.3: how the leader drives each follower's progress — heartbeats (and the commit
// index they may carry), append responses, and what it sends in each progress state. Ported from
// etcd-io/raft raft_test.go (TestBcastBeat, TestRecvMsgBeat, TestLeaderAppResp,
// TestLeaderIncreaseNext, TestSendAppendForProgress{Probe,Replicate,Snapshot}).
import {expect} from 'chai'
import {MemoryStorage} from '../../../src/raft/memory_storage.js'
import type {Raft} from '../../../src/raft/raft.js'
import {StateRole} from '../../../src/raft/role.js'
import {ProgressState} from '../../../src/raft/tracker/index.js'
import {EMPTY_BYTES, EMPTY_CONF_STATE, type Message, MessageType, newEntry, newMessage} from '../../../src/raft/types.js'
import {propose} from './helpers.js'
import {localMsg, newTestRaft, newTestRaftPeers, newTestStorage, readMessages} from './network.js'

const enc = new TextEncoder()

function leaderOf(r: Raft): Raft {
  r.becomeCandidate()
  r.becomeLeader()
  return r
}

function appendData(r: Raft, n: number): void {
  for (let i = 0; i < n; i++) r.appendEntry([newEntry({term: 0, index: 0, data: enc.encode('somedata')})])
}

function brief(msgs: readonly Message[]): Array<Record<string, unknown>> {
  return [...msgs].sort((a, b) => a.to - b.to).map((m) => ({
    to: m.to, type: MessageType[m.msgType], index: m.index, logTerm: m.logTerm, commit: m.commit, entries: m.entries.length,
  }))
}

describe('§5.3 heartbeats', () => {
  it('a heartbeat carries min(match, commit): a follower is never told to commit what it may not hold (etcd TestBcastBeat)', () => {
    const s = new MemoryStorage()
    s.applySnapshot({data: EMPTY_BYTES, metadata: {index: 1000, term: 1, confState: {...EMPTY_CONF_STATE, voters: [1, 2, 3]}}})
    const r = newTestRaft(1, 10, 1, s)
    r.term = 1
    leaderOf(r)
    appendData(r, 10)
    readMessages(r)
    expect([r.raftLog.committed, r.raftLog.lastIndex()]).to.deep.equal([1000, 1011])
    // A slow follower that holds up to 5, and one that holds everything.
    r.trk.progress.get(2)!.match = 5
    r.trk.progress.get(2)!.next = 6
    r.trk.progress.get(3)!.match = 1011
    r.trk.progress.get(3)!.next = 1012
    r.step(localMsg(1, MessageType.MsgBeat))
    expect(brief(readMessages(r))).to.deep.equal([
      {to: 2, type: 'MsgHeartbeat', index: 0, logTerm: 0, commit: 5, entries: 0},
      {to: 3, type: 'MsgHeartbeat', index: 0, logTerm: 0, commit: 1000, entries: 0},
    ])
  })

  for (const [state, want] of [[StateRole.Leader, 2], [StateRole.Candidate, 0], [StateRole.Follower, 0]] as const) {
    it(`MsgBeat makes a leader send heartbeats and is ignored otherwise: ${state} sends ${want} (etcd TestRecvMsgBeat)`, () => {
      const r = newTestRaftPeers(1, [1, 2, 3])
      if (state === StateRole.Leader) leaderOf(r)
      if (state === StateRole.Candidate) r.becomeCandidate()
      if (state === StateRole.Follower) r.becomeFollower(1, 2)
      readMessages(r)
      r.step(localMsg(1, MessageType.MsgBeat))
      const msgs = readMessages(r)
      expect(msgs).to.have.length(want)
      expect(msgs.every((m) => m.msgType === MessageType.MsgHeartbeat)).to.equal(true)
    })
  }
})

describe('§5.3 append responses at the leader (etcd TestLeaderAppResp)', () => {
  /**
   * Leader 1 at term 2 over the log [1:1 2:1 3:1 4:2] (4 is its empty entry); follower 2 starts
   * probing with match 0, next 4.
   */
  function setup(): Raft {
    const s = newTestStorage([1, 2, 3])
    s.append([1, 2, 3].map((i) => newEntry({index: i, term: 1})))
    s.setHardState({term: 1, vote: 0, commit: 0})
    const r = leaderOf(newTestRaft(1, 10, 1, s))
    readMessages(r)
    expect([r.term, r.raftLog.lastIndex(), r.trk.progress.get(2)!.next]).to.deep.equal([2, 4, 4])
    return r
  }
  const resp = (r: Raft, index: number, reject: boolean): Message =>
    newMessage({msgType: MessageType.MsgAppendResponse, from: 2, to: 1, term: r.term, index, reject, rejectHint: reject ? 1 : 0})

  it('a stale rejection (not for next - 1) changes nothing and sends nothing', () => {
    const r = setup()
    r.step(resp(r, 2, true))
    const pr = r.trk.progress.get(2)!
    expect([pr.match, pr.next, readMessages(r)]).to.deep.equal([0, 4, []])
  })

  it('a rejection backs next off to the hint and sends one probe; nothing commits', () => {
    const r = setup()
    r.step(resp(r, 3, true))
    const pr = r.trk.progress.get(2)!
    expect([pr.match, pr.next, pr.state]).to.deep.equal([0, 2, ProgressState.Probe])
    expect(brief(readMessages(r))).to.deep.equal([{to: 2, type: 'MsgAppend', index: 1, logTerm: 1, commit: 0, entries: 3}])
    expect(pr.msgAppFlowPaused).to.equal(true)
  })

  it('an acceptance of the new entry commits it and broadcasts the commit index', () => {
    const r = setup()
    r.step(resp(r, 4, false))
    const pr = r.trk.progress.get(2)!
    expect([pr.match, pr.next, pr.state]).to.deep.equal([4, 5, ProgressState.Replicate])
    expect(r.raftLog.committed).to.equal(4)
    expect(brief(readMessages(r))).to.deep.equal([
      {to: 2, type: 'MsgAppend', index: 4, logTerm: 2, commit: 4, entries: 0},
      {to: 3, type: 'MsgAppend', index: 3, logTerm: 1, commit: 4, entries: 1},
    ])
  })

  it('an acceptance at the match index moves a probing follower to replicate and fills its pipeline', () => {
    const r = setup()
    r.step(resp(r, 0, false))
    const pr = r.trk.progress.get(2)!
    expect([pr.match, pr.next, pr.state]).to.deep.equal([0, 5, ProgressState.Replicate])
    expect(r.raftLog.committed).to.equal(0)
    expect(brief(readMessages(r))).to.deep.equal([{to: 2, type: 'MsgAppend', index: 0, logTerm: 0, commit: 0, entries: 4}])
  })
})

describe('§5.3 what the leader sends in each progress state', () => {
  for (const [state, want] of [[ProgressState.Replicate, 6], [ProgressState.Probe, 2]] as const) {
    it(`a proposal moves next optimistically only in replicate: ${state} -> next ${want} (etcd TestLeaderIncreaseNext)`, () => {
      const s = newTestStorage([1, 2])
      s.append([1, 2, 3].map((i) => newEntry({index: i, term: i})))
      s.setHardState({term: 3, vote: 0, commit: 0})
      const r = leaderOf(newTestRaft(1, 10, 1, s))
      const pr = r.trk.progress.get(2)!
      pr.state = state
      pr.next = 2
      r.step(propose(1))
      // Replicate: previous entries + empty entry + proposal + 1; probe: unchanged.
      expect(pr.next).to.equal(want)
    })
  }

  it('probe: one append, then nothing until a heartbeat response (etcd TestSendAppendForProgressProbe)', () => {
    const r = leaderOf(newTestRaftPeers(1, [1, 2]))
    readMessages(r)
    const pr = r.trk.progress.get(2)!
    pr.becomeProbe()
    appendData(r, 1)
    r.sendAppend(2)
    expect(brief(readMessages(r))).to.deep.equal([{to: 2, type: 'MsgAppend', index: 0, logTerm: 0, commit: 0, entries: 2}])
    for (let round = 0; round < 3; round++) {
      expect(pr.msgAppFlowPaused).to.equal(true)
      for (let j = 0; j < 10; j++) {
        appendData(r, 1)
        r.sendAppend(2)
        expect(readMessages(r)).to.deep.equal([])
      }
      // A heartbeat still goes out to a paused follower, and does not unpause it.
      r.step(localMsg(1, MessageType.MsgBeat))
      expect(pr.msgAppFlowPaused).to.equal(true)
      expect(readMessages(r).map((m) => m.msgType)).to.deep.equal([MessageType.MsgHeartbeat])
    }
    r.step(newMessage({msgType: MessageType.MsgHeartbeatResponse, from: 2, to: 1, term: r.term}))
    const msgs = readMessages(r)
    expect(msgs.map((m) => [MessageType[m.msgType], m.index])).to.deep.equal([['MsgAppend', 0]])
    expect(pr.msgAppFlowPaused).to.equal(true)
  })

  it('replicate: every append is sent at once (etcd TestSendAppendForProgressReplicate)', () => {
    const r = leaderOf(newTestRaftPeers(1, [1, 2]))
    readMessages(r)
    r.trk.progress.get(2)!.becomeReplicate()
    for (let i = 0; i < 10; i++) {
      appendData(r, 1)
      r.sendAppend(2)
      expect(readMessages(r), `append ${i}`).to.have.length(1)
    }
  })

  it('snapshot: no append is sent while a snapshot is in flight (etcd TestSendAppendForProgressSnapshot)', () => {
    const r = leaderOf(newTestRaftPeers(1, [1, 2]))
    readMessages(r)
    r.trk.progress.get(2)!.becomeSnapshot(10)
    for (let i = 0; i < 10; i++) {
      appendData(r, 1)
      r.sendAppend(2)
      expect(readMessages(r), `append ${i}`).to.deep.equal([])
    }
  })
})
