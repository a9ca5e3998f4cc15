// Raft thesis §6.4 (processing read-only queries): ReadIndex confirmed by a heartbeat quorum
// ('safe'), lease-based reads (§6.4.1), forwarding from followers, and a new leader waiting for
// an entry of its term. Ported from etcd-io/raft raft_test.go.
import {expect} from 'chai'
import type {ReadOnlyOption} from '../../../src/raft/config.js'
import {MemoryStorage} from '../../../src/raft/memory_storage.js'
import type {Raft} from '../../../src/raft/raft.js'
import {StateRole} from '../../../src/raft/role.js'
import {EMPTY_CONF_STATE, type Message, MessageType, newEntry, newMessage} from '../../../src/raft/types.js'
import {advanceMessagesAfterAppend, localMsg, Network, newTestRaft, newTestRaftPeers, newTestStorage, readMessages} from './network.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

function readIndexMsg(id: number, ctx: string): Message {
  return newMessage({msgType: MessageType.MsgReadIndex, from: id, to: id, entries: [newEntry({term: 0, index: 0, data: enc.encode(ctx)})]})
}

function emptyProp(): Message {
  return newMessage({msgType: MessageType.MsgPropose, from: 1, to: 1, entries: [newEntry({term: 0, index: 0})]})
}

function readTrio(option: ReadOnlyOption, learner = false): {n: Network; rafts: Raft[]} {
  const extra = option === 'lease' ? {readOnlyOption: option, checkQuorum: true} : {readOnlyOption: option}
  const voters = learner ? [1, 3] : [1, 2, 3]
  const learners = learner ? [2] : []
  const rafts = [1, 2, 3].map((id) => newTestRaft(id, 10, 1, newTestStorage(voters, learners), extra))
  const n = new Network(rafts)
  rafts[1].randomizedElectionTimeout = rafts[1].electionTimeout + 1
  for (let i = 0; i < rafts[1].electionTimeout; i++) rafts[1].tick()
  n.send(localMsg(1, MessageType.MsgHup))
  expect(rafts[0].state).to.equal(StateRole.Leader)
  return {n, rafts}
}

function checkReads(n: Network, rafts: Raft[]): void {
  const cases: Array<[number, number, string]> = [
    [1, 11, 'ctx1'], [2, 21, 'ctx2'], [3, 31, 'ctx3'], [1, 41, 'ctx4'], [2, 51, 'ctx5'], [3, 61, 'ctx6'],
  ]
  for (const [id, wIndex, ctx] of cases) {
    for (let j = 0; j < 10; j++) n.send(emptyProp())
    n.send(readIndexMsg(id, ctx))
    const r = rafts[id - 1]
    expect(r.readStates.map((rs) => [rs.index, dec.decode(rs.requestCtx)]), `read at ${id}`).to.deep.equal([[wIndex, ctx]])
    r.readStates = []
  }
}

describe('thesis §6.4 read index', () => {
  it('safe reads: served at the commit index after a heartbeat quorum, also via followers (etcd TestReadOnlyOptionSafe)', () => {
    const {n, rafts} = readTrio('safe')
    checkReads(n, rafts)
  })

  it('safe reads with a learner: the learner forwards, the quorum is of voters (etcd TestReadOnlyWithLearner)', () => {
    const {n, rafts} = readTrio('safe', true)
    checkReads(n, rafts)
  })

  it('lease reads: served at once by the leader, without a heartbeat round (etcd TestReadOnlyOptionLease, §6.4.1)', () => {
    const {n, rafts} = readTrio('lease')
    checkReads(n, rafts)
    n.send(emptyProp())
    const leader = rafts[0]
    leader.step(readIndexMsg(1, 'quick'))
    expect(leader.readStates.map((rs) => rs.index)).to.deep.equal([leader.raftLog.committed])
    expect(readMessages(leader).filter((m) => m.msgType === MessageType.MsgHeartbeat)).to.deep.equal([])
  })

  it('a safe read waits for acknowledgements from a quorum', () => {
    const {n, rafts} = readTrio('safe')
    n.isolate(2)
    n.isolate(3)
    n.send(readIndexMsg(1, 'lonely'))
    expect(rafts[0].readStates).to.deep.equal([])
    expect(rafts[0].readOnly.pendingCount()).to.equal(1)
    n.recover()
    // The next heartbeat carries the pending context; the acknowledgements confirm it.
    n.send(localMsg(1, MessageType.MsgBeat))
    expect(rafts[0].readStates.map((rs) => dec.decode(rs.requestCtx))).to.deep.equal(['lonely'])
  })

  it('a new leader holds reads until it commits an entry of its term (etcd TestReadOnlyForNewLeader)', () => {
    const configs: Array<[number, number, number, number]> = [[1, 1, 1, 0], [2, 2, 2, 2], [3, 2, 2, 2]]
    const rafts = configs.map(([id, committed, applied, compact]) => {
      const s = newTestStorage([1, 2, 3])
      s.append([newEntry({index: 1, term: 1}), newEntry({index: 2, term: 1})])
      s.setHardState({term: 1, vote: 0, commit: committed})
      if (compact !== 0) s.compact(compact)
      return newTestRaft(id, 10, 1, s, {applied})
    })
    const n = new Network(rafts)
    // Keep the leader from committing an entry of its term.
    n.ignore(MessageType.MsgAppend)
    n.send(localMsg(1, MessageType.MsgHup))
    const sm = rafts[0]
    expect(sm.state).to.equal(StateRole.Leader)
    n.send(readIndexMsg(1, 'ctx'))
    expect(sm.readStates).to.deep.equal([])
    expect(sm.pendingReadIndexMessages).to.have.length(1)
    n.recover()
    for (let i = 0; i < sm.heartbeatTimeout; i++) sm.tick()
    n.send(emptyProp())
    expect(sm.raftLog.committed).to.equal(4)
    expect(sm.raftLog.term(sm.raftLog.committed)).to.equal(sm.term)
    // The postponed request was answered after the commit.
    expect(sm.readStates.map((rs) => [rs.index, dec.decode(rs.requestCtx)])).to.deep.equal([[4, 'ctx']])
    n.send(readIndexMsg(1, 'ctx'))
    expect(sm.readStates.map((rs) => rs.index)).to.deep.equal([4, 4])
  })

  it('a single voter answers at once', () => {
    const r = newTestRaftPeers(1, [1])
    r.becomeCandidate()
    r.becomeLeader()
    r.step(readIndexMsg(1, 'solo'))
    expect(r.readStates.map((rs) => [rs.index, dec.decode(rs.requestCtx)])).to.deep.equal([[0, 'solo']])
  })

  it('a leader that is the only voter of both halves of a joint config answers at once', () => {
    const s = MemoryStorage.withConfState({...EMPTY_CONF_STATE, voters: [1], votersOutgoing: [1], learners: [2], autoLeave: false})
    const r = newTestRaft(1, 10, 1, s)
    r.becomeCandidate()
    r.becomeLeader()
    expect(r.trk.isSingleton(), 'not the singleton shortcut').to.equal(false)
    // Commit the leader's empty entry of its term (a single voter commits on its own append).
    advanceMessagesAfterAppend(r)
    expect(r.raftLog.committed).to.equal(1)
    readMessages(r)
    r.step(readIndexMsg(1, 'joint-solo'))
    expect(r.readStates.map((rs) => [rs.index, dec.decode(rs.requestCtx)])).to.deep.equal([[1, 'joint-solo']])
    expect(r.readOnly.pendingCount()).to.equal(0)
    // A follower's forwarded request is answered at once too.
    r.step(newMessage({...readIndexMsg(2, 'from-learner'), to: 1}))
    expect(readMessages(r).filter((m) => m.msgType === MessageType.MsgReadIndexResp).map((m) => [m.to, m.index]))
      .to.deep.equal([[2, 1]])
  })

  it('a follower without a leader and a candidate drop read requests', () => {
    const f = newTestRaftPeers(1, [1, 2, 3])
    f.step(readIndexMsg(1, 'x'))
    expect([f.readStates, readMessages(f)]).to.deep.equal([[], []])
    const c = newTestRaftPeers(1, [1, 2, 3])
    c.becomeCandidate()
    c.step(readIndexMsg(1, 'x'))
    expect(c.readStates).to.deep.equal([])
  })

  it('a follower forwards the request and records the leader answer; malformed answers are ignored', () => {
    const f = newTestRaftPeers(2, [1, 2, 3])
    f.becomeFollower(1, 1)
    f.step(readIndexMsg(2, 'fwd'))
    const msgs = readMessages(f)
    expect(msgs.map((m) => [m.msgType, m.to, m.term])).to.deep.equal([[MessageType.MsgReadIndex, 1, 0]])
    f.step(newMessage({msgType: MessageType.MsgReadIndexResp, from: 1, to: 2, term: 1, index: 7, entries: msgs[0].entries}))
    f.step(newMessage({msgType: MessageType.MsgReadIndexResp, from: 1, to: 2, term: 1, index: 8}))
    expect(f.readStates.map((rs) => [rs.index, dec.decode(rs.requestCtx)])).to.deep.equal([[7, 'fwd']])
  })
})
