// Flow control of log replication (Raft paper §5.3 optimizations as in etcd-io/raft):
// probe/replicate states, inflight windows by count and bytes, maxSizePerMsg batching and
// maxUncommittedSize. Ported from etcd-io/raft raft_flow_control_test.go and raft_test.go.
import {expect} from 'chai'
import {ProposalDroppedError} from '../../../src/raft/errors.js'
import type {Raft} from '../../../src/raft/raft.js'
import {type Entry, MessageType, newEntry, newMessage} from '../../../src/raft/types.js'
import {propose} from './helpers.js'
import {advanceMessagesAfterAppend, newTestRaft, newTestStorage, readMessages} from './network.js'

const enc = new TextEncoder()

function leaderOf(voters: number[], extra = {}): Raft {
  const r = newTestRaft(1, 5, 1, newTestStorage(voters), extra)
  r.becomeCandidate()
  r.becomeLeader()
  return r
}

function appResp(from: number, index: number) {
  return newMessage({msgType: MessageType.MsgAppendResponse, from, to: 1, index})
}

describe('§5.3 replication flow control (etcd raft_flow_control_test.go)', () => {
  it('a full inflight window pauses appends to a replicating follower (TestMsgAppFlowControlFull)', () => {
    const r = leaderOf([1, 2])
    const pr2 = r.trk.progress.get(2)!
    pr2.becomeReplicate()
    for (let i = 0; i < r.trk.maxInflight; i++) {
      r.step(propose(1))
      const ms = readMessages(r)
      expect(ms.map((m) => m.msgType), `proposal ${i}`).to.deep.equal([MessageType.MsgAppend])
    }
    expect(pr2.isPaused()).to.equal(true)
    for (let i = 0; i < 10; i++) {
      r.step(propose(1))
      expect(readMessages(r)).to.deep.equal([])
    }
  })

  it('acknowledgements move the window forward; stale ones do not (TestMsgAppFlowControlMoveForward)', () => {
    const r = leaderOf([1, 2])
    const pr2 = r.trk.progress.get(2)!
    pr2.becomeReplicate()
    for (let i = 0; i < r.trk.maxInflight; i++) {
      r.step(propose(1))
      readMessages(r)
    }
    // Entry 1 is the empty entry, 2 the first proposal.
    for (let tt = 2; tt < r.trk.maxInflight; tt++) {
      r.step(appResp(2, tt))
      readMessages(r)
      r.step(propose(1))
      const ms = readMessages(r)
      expect(ms.map((m) => m.msgType)).to.deep.equal([MessageType.MsgAppend])
      expect(pr2.isPaused()).to.equal(true)
      for (let i = 0; i < tt; i++) {
        r.step(appResp(2, i))
        expect(pr2.isPaused()).to.equal(true)
      }
    }
  })

  it('a heartbeat response lets a paused follower get one empty append (TestMsgAppFlowControlRecvHeartbeat)', () => {
    const r = leaderOf([1, 2])
    const pr2 = r.trk.progress.get(2)!
    pr2.becomeReplicate()
    for (let i = 0; i < r.trk.maxInflight; i++) {
      r.step(propose(1))
      readMessages(r)
    }
    for (let tt = 1; tt < 5; tt++) {
      for (let i = 0; i < tt; i++) {
        expect(pr2.isPaused()).to.equal(true)
        r.step(newMessage({msgType: MessageType.MsgHeartbeatResponse, from: 2, to: 1}))
        const ms = readMessages(r)
        expect(ms.map((m) => [m.msgType, m.entries.length])).to.deep.equal([[MessageType.MsgAppend, 0]])
      }
      for (let i = 0; i < 10; i++) {
        expect(pr2.isPaused()).to.equal(true)
        r.step(propose(1))
        expect(readMessages(r)).to.deep.equal([])
      }
      r.step(newMessage({msgType: MessageType.MsgHeartbeatResponse, from: 2, to: 1}))
      readMessages(r)
    }
  })

  it("the leader's own progress advances once its entries are persisted (TestProgressLeader)", () => {
    const r = leaderOf([1, 2])
    r.trk.progress.get(2)!.becomeReplicate()
    for (let i = 0; i < 5; i++) r.step(propose(1, 'foo'))
    expect(r.trk.progress.get(1)!.match).to.equal(0)
    const ents = r.raftLog.nextUnstableEnts()
    expect(ents.map((e) => new TextDecoder().decode(e.data))).to.deep.equal(['', 'foo', 'foo', 'foo', 'foo', 'foo'])
    advanceMessagesAfterAppend(r)
    expect([r.trk.progress.get(1)!.match, r.trk.progress.get(1)!.next]).to.deep.equal([6, 7])
  })

  it('a probing follower gets one append until it answers (TestProgressPaused)', () => {
    const r = leaderOf([1, 2])
    r.step(propose(1))
    r.step(propose(1))
    r.step(propose(1))
    expect(readMessages(r)).to.have.length(1)
  })

  it('batches by maxSizePerMsg and limits inflight count and bytes (TestProgressFlowControl)', () => {
    const r = leaderOf([1, 2], {maxInflightMsgs: 3, maxSizePerMsg: 2048, maxInflightBytes: 9000})
    readMessages(r)
    r.trk.progress.get(2)!.becomeProbe()
    const blob = 'a'.repeat(1000)
    const large = 'b'.repeat(5000)
    for (let i = 0; i < 22; i++) r.step(propose(1, i >= 10 && i < 16 ? large : blob))
    let ms = readMessages(r)
    // The empty entry and the first proposal; one message only in probe state.
    expect(ms.map((m) => m.entries.map((e) => e.data.length))).to.deep.equal([[0, 1000]])
    const ackAndVerify = (index: number, ...expEntries: number[]): number => {
      r.step(appResp(2, index))
      ms = readMessages(r)
      expect(ms.map((m) => m.msgType)).to.deep.equal(expEntries.map(() => MessageType.MsgAppend))
      expect(ms.map((m) => m.entries.length)).to.deep.equal(expEntries)
      const last = ms[ms.length - 1].entries
      return last.length === 0 ? index : last[last.length - 1].index
    }
    // Acked: replicate state, several messages at once.
    let index = ackAndVerify(ms[0].entries[1].index, 2, 2, 2)
    // The third message now has a single large entry.
    index = ackAndVerify(index, 2, 1, 1)
    // Large entries: capped at 2 messages by maxInflightBytes.
    index = ackAndVerify(index, 1, 1)
    index = ackAndVerify(index, 1, 1)
    index = ackAndVerify(index, 1, 2, 2)
    ackAndVerify(index, 2)
  })

  it('maxUncommittedSize drops proposals beyond the limit but always accepts empty entries (TestUncommittedEntryLimit)', () => {
    const maxEntries = 1024
    const data = enc.encode('testdata')
    const r = leaderOf([1, 2, 3], {maxUncommittedSize: maxEntries * data.length, maxInflightMsgs: 2 * 1024})
    expect(r.uncommittedSize).to.equal(0)
    r.trk.progress.get(2)!.becomeReplicate()
    r.trk.progress.get(3)!.becomeReplicate()
    const prop = (n: number): ReturnType<typeof propose> => ({
      ...propose(1), entries: Array.from({length: n}, (): Entry => newEntry({term: 0, index: 0, data})),
    })
    for (let i = 0; i < maxEntries; i++) r.step(prop(1))
    expect(() => r.step(prop(1))).to.throw(ProposalDroppedError, /maxUncommittedSize/)
    expect(readMessages(r)).to.have.length(maxEntries * 2)
    r.reduceUncommittedSize(maxEntries * data.length)
    expect(r.uncommittedSize).to.equal(0)
    // A large proposal is accepted when nothing is uncommitted.
    r.step(prop(2 * maxEntries))
    expect(() => r.step(prop(1))).to.throw(ProposalDroppedError)
    // An empty entry is always accepted.
    r.step({...propose(1), entries: [newEntry({term: 0, index: 0})]})
    expect(readMessages(r)).to.have.length(4)
    r.reduceUncommittedSize(2 * maxEntries * data.length)
    expect(r.uncommittedSize).to.equal(0)
  })

  it('reportUnreachable (MsgUnreachable) moves a replicating follower back to probe', () => {
    const r = leaderOf([1, 2])
    r.trk.progress.get(2)!.becomeReplicate()
    r.step(newMessage({msgType: MessageType.MsgUnreachable, from: 2, to: 1}))
    expect(r.trk.progress.get(2)!.state).to.equal('StateProbe')
  })

  it('a rejection in replicate state moves the follower to probe and resends from match + 1', () => {
    const r = leaderOf([1, 2])
    r.bcastAppend()
    readMessages(r)
    r.step(appResp(2, 1))
    r.step(propose(1))
    r.step(propose(1))
    readMessages(r)
    const pr2 = r.trk.progress.get(2)!
    expect(pr2.state).to.equal('StateReplicate')
    r.step(newMessage({msgType: MessageType.MsgAppendResponse, from: 2, to: 1, index: 3, reject: true, rejectHint: 1, logTerm: 1}))
    expect(pr2.state).to.equal('StateProbe')
    const ms = readMessages(r)
    expect(ms.map((m) => [m.msgType, m.index, m.entries.map((e) => e.index)])).to.deep.equal([[MessageType.MsgAppend, 1, [2, 3]]])
  })
})
