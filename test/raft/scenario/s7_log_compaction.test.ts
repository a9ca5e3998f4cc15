// Raft paper §7 (log compaction) and InstallSnapshot, with MsgSnapshot handled exactly as
// DESIGN.md §2 describes. Ported from etcd-io/raft raft_test.go and raft_snap_test.go.
import {expect} from 'chai'
import {UnavailableError} from '../../../src/raft/errors.js'
import {MemoryStorage} from '../../../src/raft/memory_storage.js'
import type {Raft} from '../../../src/raft/raft.js'
import {restore} from '../../../src/raft/raft_handlers.js'
import {SnapshotStatus, StateRole} from '../../../src/raft/role.js'
import {EMPTY_CONF_STATE, type Message, MessageType, newEntry, newMessage, type Snapshot} from '../../../src/raft/types.js'
import {Cluster} from './cluster.js'
import {propose} from './helpers.js'
import {localMsg, Network, newTestRaft, newTestStorage, nextEnts, readMessages} from './network.js'

function snapshot(index: number, term: number, cs: Partial<typeof EMPTY_CONF_STATE>): Snapshot {
  return {data: new Uint8Array(0), metadata: {index, term, confState: {...EMPTY_CONF_STATE, ...cs}}}
}

const testingSnap = snapshot(11, 11, {voters: [1, 2]})

function emptyProp(): Message {
  return newMessage({msgType: MessageType.MsgPropose, from: 1, to: 1, entries: [newEntry({term: 0, index: 0})]})
}

/** A leader restored from testingSnap, with node 2 needing entries from `next`. */
function snapLeader(voters = [1]): Raft {
  const sm = newTestRaft(1, 10, 1, newTestStorage(voters))
  expect(restore(sm, testingSnap)).to.equal(true)
  sm.becomeCandidate()
  sm.becomeLeader()
  return sm
}

describe('§7 log compaction: restoring snapshots', () => {
  it('restores log and configuration from a snapshot, once (etcd TestRestore)', () => {
    const sm = newTestRaft(1, 10, 1, newTestStorage([1, 2]))
    const s = snapshot(11, 11, {voters: [1, 2, 3]})
    expect(restore(sm, s)).to.equal(true)
    expect(sm.raftLog.lastIndex()).to.equal(11)
    expect(sm.raftLog.term(11)).to.equal(11)
    expect(sm.trk.voterNodes()).to.deep.equal([1, 2, 3])
    expect(restore(sm, s)).to.equal(false)
    // It must not campaign before the snapshot is applied.
    for (let i = 0; i < sm.randomizedElectionTimeout; i++) sm.tick()
    expect(sm.state).to.equal(StateRole.Follower)
  })

  it('refuses a ConfState it cannot restore before changing the log or the configuration', () => {
    const sm = newTestRaft(1, 10, 1, newTestStorage([1, 2]))
    // Node 2 both a voter and a learner: no sequence of changes builds it.
    const s = snapshot(11, 11, {voters: [1, 2], learners: [2]})
    expect(() => restore(sm, s)).to.throw()
    expect(sm.raftLog.lastIndex()).to.equal(0)
    expect(sm.raftLog.committed).to.equal(0)
    expect(sm.trk.voterNodes()).to.deep.equal([1, 2])
    expect(sm.trk.learnerNodes()).to.deep.equal([])
  })

  it('restores learners (etcd TestRestoreWithLearner)', () => {
    const s = snapshot(11, 11, {voters: [1, 2], learners: [3]})
    const sm = newTestRaft(3, 8, 2, newTestStorage([1, 2], [3]))
    expect(restore(sm, s)).to.equal(true)
    expect(sm.trk.voterNodes()).to.deep.equal([1, 2])
    expect(sm.trk.learnerNodes()).to.deep.equal([3])
    for (const id of [1, 2]) expect(sm.trk.progress.get(id)!.isLearner).to.equal(false)
    expect(sm.trk.progress.get(3)!.isLearner).to.equal(true)
    expect(restore(sm, s)).to.equal(false)
  })

  it('restores a joint config (etcd TestRestoreWithVotersOutgoing)', () => {
    const s = snapshot(11, 11, {voters: [2, 3, 4], votersOutgoing: [1, 2, 3]})
    const sm = newTestRaft(1, 10, 1, newTestStorage([1, 2]))
    expect(restore(sm, s)).to.equal(true)
    expect(sm.trk.voterNodes()).to.deep.equal([1, 2, 3, 4])
    expect(sm.trk.confState()).to.deep.include({voters: [2, 3, 4], votersOutgoing: [1, 2, 3]})
    for (let i = 0; i < sm.randomizedElectionTimeout; i++) sm.tick()
    expect(sm.state).to.equal(StateRole.Follower)
  })

  it('a voter demoted by a snapshot becomes a learner, a learner promoted a voter (etcd TestRestoreVoterToLearner / LearnerPromotion)', () => {
    const demote = newTestRaft(3, 10, 1, newTestStorage([1, 2, 3]))
    expect(demote.isLearner).to.equal(false)
    expect(restore(demote, snapshot(11, 11, {voters: [1, 2], learners: [3]}))).to.equal(true)
    expect(demote.isLearner).to.equal(true)
    const promote = newTestRaft(3, 10, 1, newTestStorage([1, 2], [3]))
    expect(promote.isLearner).to.equal(true)
    expect(restore(promote, snapshot(11, 11, {voters: [1, 2, 3]}))).to.equal(true)
    expect(promote.isLearner).to.equal(false)
  })

  it('ignores a snapshot not newer than the commit index, fast-forwarding commit when the log matches (etcd TestRestoreIgnoreSnapshot)', () => {
    const sm = newTestRaft(1, 10, 1, newTestStorage([1, 2]))
    sm.raftLog.append([1, 2, 3].map((i) => newEntry({term: 1, index: i})))
    sm.raftLog.commitTo(1)
    expect(restore(sm, snapshot(1, 1, {voters: [1, 2]}))).to.equal(false)
    expect(sm.raftLog.committed).to.equal(1)
    expect(restore(sm, snapshot(2, 1, {voters: [1, 2]}))).to.equal(false)
    expect(sm.raftLog.committed).to.equal(2)
  })

  it('ignores a snapshot whose ConfState does not contain the node', () => {
    const sm = newTestRaft(4, 10, 1, newTestStorage([1, 2, 4]))
    expect(restore(sm, snapshot(11, 11, {voters: [1, 2, 3]}))).to.equal(false)
    expect(sm.raftLog.lastIndex()).to.equal(0)
    const staged = newTestRaft(3, 10, 1, newTestStorage([1, 2, 3]))
    // A node in votersOutgoing and learnersNext (being demoted) is in the ConfState.
    expect(restore(staged, snapshot(11, 11, {voters: [1, 2], votersOutgoing: [1, 2, 3], learnersNext: [3]}))).to.equal(true)
  })
})

describe('§7 MsgSnapshot per role (DESIGN.md §2)', () => {
  it('a follower resets its election timer, records the leader and restores (etcd TestRestoreFromSnapMsg)', () => {
    const sm = newTestRaft(2, 10, 1, newTestStorage([1, 2]))
    sm.electionElapsed = 5
    sm.step(newMessage({msgType: MessageType.MsgSnapshot, from: 1, to: 2, term: 2, snapshot: testingSnap}))
    expect([sm.lead, sm.electionElapsed, sm.raftLog.lastIndex()]).to.deep.equal([1, 0, 11])
    expect(readMessages(sm).map((m) => [m.msgType, m.index])).to.deep.equal([[MessageType.MsgAppendResponse, 11]])
  })

  it('a follower of the same term also resets its election timer and records the sender as leader', () => {
    const sm = newTestRaft(2, 10, 1, newTestStorage([1, 2]))
    sm.becomeFollower(2, 0)
    sm.electionElapsed = 5
    sm.step(newMessage({msgType: MessageType.MsgSnapshot, from: 1, to: 2, term: 2, snapshot: testingSnap}))
    expect([sm.term, sm.lead, sm.electionElapsed, sm.raftLog.lastIndex()]).to.deep.equal([2, 1, 0, 11])
  })

  it('a candidate becomes follower of the sender, then restores', () => {
    const sm = newTestRaft(2, 10, 1, newTestStorage([1, 2, 3]))
    sm.becomeCandidate()
    readMessages(sm)
    sm.step(newMessage({msgType: MessageType.MsgSnapshot, from: 1, to: 2, term: sm.term, snapshot: snapshot(11, 1, {voters: [1, 2, 3]})}))
    expect([sm.state, sm.lead, sm.raftLog.lastIndex()]).to.deep.equal([StateRole.Follower, 1, 11])
  })

  it('a pre-candidate (same term) also becomes follower of the sender, restores and answers with its last index', () => {
    const sm = newTestRaft(2, 10, 1, newTestStorage([1, 2, 3]), {preVote: true})
    sm.becomeFollower(1, 0)
    sm.step(localMsg(2, MessageType.MsgHup))
    expect([sm.state, sm.term]).to.deep.equal([StateRole.PreCandidate, 1])
    readMessages(sm)
    sm.step(newMessage({msgType: MessageType.MsgSnapshot, from: 1, to: 2, term: 1, snapshot: snapshot(11, 1, {voters: [1, 2, 3]})}))
    expect([sm.state, sm.term, sm.lead, sm.raftLog.lastIndex()]).to.deep.equal([StateRole.Follower, 1, 1, 11])
    expect(readMessages(sm).map((m) => [m.to, m.msgType, m.index])).to.deep.equal([[1, MessageType.MsgAppendResponse, 11]])
  })

  it('a leader that receives a MsgSnapshot of a higher term follows its sender and restores (§5.1)', () => {
    const sm = newTestRaft(1, 10, 1, newTestStorage([1, 2]))
    sm.becomeCandidate()
    sm.becomeLeader()
    readMessages(sm)
    sm.step(newMessage({msgType: MessageType.MsgSnapshot, from: 2, to: 1, term: sm.term + 1, snapshot: testingSnap}))
    expect([sm.state, sm.term, sm.lead, sm.raftLog.lastIndex()]).to.deep.equal([StateRole.Follower, 2, 2, 11])
  })

  it('a leader ignores a MsgSnapshot of its own term', () => {
    const sm = newTestRaft(1, 10, 1, newTestStorage([1, 2]))
    sm.becomeCandidate()
    sm.becomeLeader()
    readMessages(sm)
    sm.step(newMessage({msgType: MessageType.MsgSnapshot, from: 2, to: 1, term: sm.term, snapshot: testingSnap}))
    expect([sm.state, sm.raftLog.lastIndex()]).to.deep.equal([StateRole.Leader, 1])
    expect(readMessages(sm)).to.deep.equal([])
  })

  it('an outdated snapshot is answered with the commit index', () => {
    const sm = newTestRaft(2, 10, 1, newTestStorage([1, 2]))
    sm.becomeFollower(5, 1)
    sm.raftLog.append([1, 2, 3].map((i) => newEntry({term: 1, index: i})))
    sm.raftLog.commitTo(3)
    sm.step(newMessage({msgType: MessageType.MsgSnapshot, from: 1, to: 2, term: 5, snapshot: snapshot(2, 1, {voters: [1, 2]})}))
    expect(readMessages(sm).map((m) => [m.msgType, m.index, m.reject])).to.deep.equal([[MessageType.MsgAppendResponse, 3, false]])
  })
})

describe('§7 the leader sends snapshots', () => {
  it('sends a snapshot when the entries a follower needs are compacted (etcd TestProvideSnap)', () => {
    const sm = snapLeader()
    const pr2 = sm.trk.progress.get(2)!
    pr2.next = sm.raftLog.firstIndex()
    sm.step(newMessage({msgType: MessageType.MsgAppendResponse, from: 2, to: 1, index: pr2.next - 1, reject: true}))
    const msgs = readMessages(sm)
    expect(msgs.map((m) => m.msgType)).to.deep.equal([MessageType.MsgSnapshot])
    expect(pr2.state).to.equal('StateSnapshot')
    expect(pr2.pendingSnapshot).to.equal(11)
  })

  it('does not send a snapshot to an inactive follower (etcd TestIgnoreProvidingSnap)', () => {
    const sm = snapLeader()
    const pr2 = sm.trk.progress.get(2)!
    pr2.next = sm.raftLog.firstIndex() - 1
    pr2.recentActive = false
    sm.step(propose(1))
    expect(readMessages(sm)).to.deep.equal([])
  })

  it('a pending snapshot pauses replication (etcd TestPendingSnapshotPauseReplication)', () => {
    const sm = snapLeader([1, 2])
    sm.trk.progress.get(2)!.becomeSnapshot(11)
    sm.step(propose(1))
    expect(readMessages(sm)).to.deep.equal([])
  })

  it('a failed snapshot report moves the follower to probe from match (etcd TestSnapshotFailure)', () => {
    const sm = snapLeader([1, 2])
    const pr2 = sm.trk.progress.get(2)!
    pr2.next = 1
    pr2.becomeSnapshot(11)
    sm.step(newMessage({msgType: MessageType.MsgSnapStatus, from: 2, to: 1, reject: true}))
    expect([pr2.state, pr2.pendingSnapshot, pr2.next, pr2.msgAppFlowPaused]).to.deep.equal(['StateProbe', 0, 1, true])
  })

  it('a successful snapshot report moves the follower to probe after the snapshot (etcd TestSnapshotSucceed)', () => {
    const sm = snapLeader([1, 2])
    const pr2 = sm.trk.progress.get(2)!
    pr2.next = 1
    pr2.becomeSnapshot(11)
    sm.step(newMessage({msgType: MessageType.MsgSnapStatus, from: 2, to: 1, reject: false}))
    expect([pr2.state, pr2.pendingSnapshot, pr2.next, pr2.msgAppFlowPaused]).to.deep.equal(['StateProbe', 0, 12, true])
  })

  it('an append response that catches up ends the snapshot state (etcd TestSnapshotAbort)', () => {
    const sm = snapLeader([1, 2])
    const pr2 = sm.trk.progress.get(2)!
    pr2.next = 1
    pr2.becomeSnapshot(11)
    sm.step(newMessage({msgType: MessageType.MsgAppendResponse, from: 2, to: 1, index: 11}))
    expect(pr2.pendingSnapshot).to.equal(0)
    expect(pr2.state).to.equal('StateReplicate')
    // The leader sent its empty entry 12 at once.
    expect(pr2.next).to.equal(13)
    expect(pr2.inflights.count()).to.equal(1)
  })

  it('a storage that cannot produce a snapshot yet (UnavailableError) is retried, not fatal', () => {
    class SlowSnapStorage extends MemoryStorage {
      ready = false
      override snapshot(requestIndex: number, to: number): Snapshot {
        if (!this.ready) throw new UnavailableError()
        return super.snapshot(requestIndex, to)
      }
    }
    const s = new SlowSnapStorage()
    s.setConfState({...EMPTY_CONF_STATE, voters: [1, 2]}, 0)
    s.append([1, 2, 3].map((i) => newEntry({term: 1, index: i})))
    s.setHardState({term: 1, vote: 1, commit: 3})
    s.createSnapshot(3, undefined, new Uint8Array(0))
    s.compact(3)
    const sm = newTestRaft(1, 10, 1, s)
    sm.becomeCandidate()
    sm.becomeLeader()
    const pr2 = sm.trk.progress.get(2)!
    pr2.recentActive = true
    pr2.next = 2
    sm.sendAppend(2)
    expect(readMessages(sm)).to.deep.equal([])
    expect(pr2.state).to.equal('StateProbe')
    s.ready = true
    sm.sendAppend(2)
    expect(readMessages(sm).map((m) => m.msgType)).to.deep.equal([MessageType.MsgSnapshot])
    expect(pr2.state).to.equal('StateSnapshot')
  })

  it('a storage that cannot read entries yet (UnavailableError) skips the append, not fatal', () => {
    class SlowStorage extends MemoryStorage {
      ready = false
      override entries(lo: number, hi: number, maxSize?: number) {
        if (!this.ready) throw new UnavailableError()
        return super.entries(lo, hi, maxSize)
      }
    }
    const s = new SlowStorage()
    s.setConfState({...EMPTY_CONF_STATE, voters: [1, 2]}, 0)
    s.append([1, 2, 3].map((i) => newEntry({term: 1, index: i})))
    s.setHardState({term: 1, vote: 1, commit: 0})
    const sm = newTestRaft(1, 10, 1, s)
    sm.becomeCandidate()
    sm.becomeLeader()
    sm.trk.progress.get(2)!.next = 1
    expect(sm.maybeSendAppend(2, true)).to.equal(false)
    s.ready = true
    expect(sm.maybeSendAppend(2, true)).to.equal(true)
  })

  it('a follower isolated past compaction catches up via snapshot (etcd TestSlowNodeRestore)', () => {
    const n = new Network([null, null, null])
    n.send(localMsg(1, MessageType.MsgHup))
    n.isolate(3)
    for (let j = 0; j <= 100; j++) n.send(emptyProp())
    const lead = n.raft(1)
    nextEnts(lead, n.storage.get(1)!)
    n.storage.get(1)!.createSnapshot(lead.raftLog.applied, lead.trk.confState(), new Uint8Array(0))
    n.storage.get(1)!.compact(lead.raftLog.applied)
    n.recover()
    while (!lead.trk.progress.get(3)!.recentActive) n.send(localMsg(1, MessageType.MsgBeat))
    n.send(emptyProp())
    const follower = n.raft(3)
    n.send(emptyProp())
    expect(follower.raftLog.committed).to.equal(lead.raftLog.committed)
  })

  it('a learner receives the snapshot and the log (etcd TestLearnerReceiveSnapshot)', () => {
    const s = snapshot(11, 11, {voters: [1], learners: [2]})
    const store = newTestStorage([1], [2])
    const n1 = newTestRaft(1, 10, 1, store)
    const n2 = newTestRaft(2, 10, 1, newTestStorage([1], [2]))
    restore(n1, s)
    const snap = n1.raftLog.nextUnstableSnapshot()!
    store.applySnapshot(snap)
    n1.onPersisted(0, 0, snap.metadata.index)
    const n = new Network([n1, n2])
    n1.randomizedElectionTimeout = n1.electionTimeout
    for (let i = 0; i < n1.electionTimeout; i++) n1.tick()
    n.send(localMsg(1, MessageType.MsgBeat))
    expect(n2.raftLog.committed).to.equal(n1.raftLog.committed)
    expect(n2.raftLog.committed).to.be.greaterThan(11)
  })
})

describe('§7 snapshots end to end through RawNode', () => {
  it('a slow follower behind compaction is caught up by snapshot and reportSnapshot', () => {
    const c = new Cluster([1, 2, 3])
    c.campaign(1)
    c.isolate(3)
    for (let i = 0; i < 20; i++) c.propose(1, `v${i}`)
    c.compact(1)
    c.compact(2)
    c.heal()
    // Hold back node 3's acknowledgements so that the leader relies on reportSnapshot.
    c.msgHook = (m) => !(m.from === 3 && m.msgType === MessageType.MsgAppendResponse && !m.reject)
    c.tick(3)
    const snaps = c.deliveredOf(MessageType.MsgSnapshot)
    expect(snaps.map((m) => m.to)).to.deep.equal([3])
    expect(c.rn(1).status().progress?.get(3)?.state).to.equal('StateSnapshot')
    expect(c.node(3).applied).to.deep.equal(c.node(1).applied)
    c.rn(1).reportSnapshot(3, SnapshotStatus.Finish)
    expect(c.rn(1).status().progress?.get(3)).to.deep.include({state: 'StateProbe', pendingSnapshot: 0})
    c.msgHook = undefined
    c.tick(2)
    expect(c.node(3).applied).to.have.length(20)
    expect(c.rn(1).status().progress?.get(3)?.state).to.equal('StateReplicate')
    c.propose(1, 'after')
    expect(c.node(3).applied[20]).to.equal('after')
  })

  it('a failed snapshot send is retried after a heartbeat', () => {
    const c = new Cluster([1, 2, 3])
    c.campaign(1)
    c.isolate(3)
    for (let i = 0; i < 5; i++) c.propose(1, `v${i}`)
    c.compact(1)
    c.heal()
    // Lose every snapshot message for a while.
    c.msgHook = (m) => m.msgType !== MessageType.MsgSnapshot
    c.tick(2)
    expect(c.rn(1).status().progress?.get(3)?.state).to.equal('StateSnapshot')
    c.rn(1).reportSnapshot(3, SnapshotStatus.Failure)
    expect(c.rn(1).status().progress?.get(3)?.state).to.equal('StateProbe')
    c.msgHook = undefined
    c.tick(3)
    c.rn(1).reportSnapshot(3, SnapshotStatus.Finish)
    c.tick(3)
    expect(c.node(3).applied).to.deep.equal(c.node(1).applied)
  })
})
