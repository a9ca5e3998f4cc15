// The RawNode contract: Ready contents, the ready()/advance() protocol and its misuse errors,
// restarts, local-message and peer checks. Modelled on etcd-io/raft rawnode_test.go.
import {expect} from 'chai'
import {encodeConfChange} from '../../../src/raft/conf_change.js'
import {
  ConfChangeError, ConfigInvalidError, InvalidInputError, ProposalDroppedError, RawNodeMisuseError,
  StepLocalMsgError, StepPeerNotFoundError,
} from '../../../src/raft/errors.js'
import {MemoryStorage} from '../../../src/raft/memory_storage.js'
import {type Ready, RawNode} from '../../../src/raft/raw_node.js'
import {SnapshotStatus, StateRole} from '../../../src/raft/role.js'
import {
  type ConfChange, ConfChangeTransition, ConfChangeType, EMPTY_CONF_STATE, EntryType, MessageType, newEntry,
  newMessage,
} from '../../../src/raft/types.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

function storageWith(voters: number[]): MemoryStorage {
  return MemoryStorage.withConfState({voters})
}

function node(s: MemoryStorage, extra = {}): RawNode {
  return new RawNode({id: 1, electionTick: 10, heartbeatTick: 1, ...extra}, s)
}

/** Persists a Ready into `s` and advances. */
function handle(rn: RawNode, s: MemoryStorage, rd: Ready = rn.ready()): Ready {
  if (rd.snapshot) s.applySnapshot(rd.snapshot)
  s.append(rd.entries)
  if (rd.hardState) s.setHardState(rd.hardState)
  rn.advance(rd)
  return rd
}

/** A single-node leader with its empty entry committed and applied. */
function singleLeader(): {rn: RawNode; s: MemoryStorage} {
  const s = storageWith([1])
  const rn = node(s)
  rn.campaign()
  while (rn.hasReady()) handle(rn, s)
  expect(rn.status().role).to.equal(StateRole.Leader)
  return {rn, s}
}

function view(rd: Ready) {
  return {
    softState: rd.softState,
    hardState: rd.hardState,
    entries: rd.entries.map((e) => [e.index, e.term, dec.decode(e.data)]),
    committed: rd.committedEntries.map((e) => [e.index, e.term, dec.decode(e.data)]),
    messages: rd.messages.length,
    mustSync: rd.mustSync,
  }
}

describe('RawNode', () => {
  it('starts a bootstrapped single node: campaign, become leader, commit, apply (etcd TestRawNodeStart)', () => {
    const s = new MemoryStorage()
    s.applySnapshot({data: new Uint8Array(0), metadata: {index: 1, term: 0, confState: {...EMPTY_CONF_STATE, voters: [1]}}})
    const rn = node(s)
    expect(rn.hasReady()).to.equal(false)
    rn.campaign()
    // Ready 1: the vote is persisted before it counts.
    expect(view(handle(rn, s))).to.deep.equal({
      softState: {leaderId: 0, role: StateRole.Candidate}, hardState: {term: 1, vote: 1, commit: 1},
      entries: [], committed: [], messages: 0, mustSync: true,
    })
    // Ready 2: leader, with its empty entry to persist.
    expect(view(handle(rn, s))).to.deep.equal({
      softState: {leaderId: 1, role: StateRole.Leader}, hardState: undefined,
      entries: [[2, 1, '']], committed: [], messages: 0, mustSync: true,
    })
    rn.propose(enc.encode('foo'))
    // Ready 3: the empty entry committed (self-acknowledged on advance), foo to persist.
    expect(view(handle(rn, s))).to.deep.equal({
      softState: undefined, hardState: {term: 1, vote: 1, commit: 2},
      entries: [[3, 1, 'foo']], committed: [[2, 1, '']], messages: 0, mustSync: true,
    })
    // Ready 4: foo committed; nothing to persist but the hard state.
    expect(view(handle(rn, s))).to.deep.equal({
      softState: undefined, hardState: {term: 1, vote: 1, commit: 3},
      entries: [], committed: [[3, 1, 'foo']], messages: 0, mustSync: false,
    })
    expect(rn.hasReady()).to.equal(false)
    expect(rn.status()).to.deep.include({id: 1, term: 1, vote: 1, commit: 3, applied: 3, role: StateRole.Leader, leaderId: 1})
  })

  it('restarts from storage and hands out committed entries not yet applied (etcd TestRawNodeRestart)', () => {
    const s = storageWith([1])
    s.setHardState({term: 1, vote: 0, commit: 1})
    s.append([newEntry({term: 1, index: 1}), newEntry({term: 1, index: 2, data: enc.encode('foo')})])
    const rn = node(s)
    const rd = rn.ready()
    expect(view(rd)).to.deep.equal({
      softState: undefined, hardState: undefined, entries: [], committed: [[1, 1, '']], messages: 0, mustSync: false,
    })
    rn.advance(rd)
    expect(rn.hasReady()).to.equal(false)
  })

  it('restarts from a snapshot and applies the entries after it (etcd TestRawNodeRestartFromSnapshot)', () => {
    const s = new MemoryStorage()
    s.setHardState({term: 1, vote: 0, commit: 3})
    s.applySnapshot({data: new Uint8Array(0), metadata: {index: 2, term: 1, confState: {...EMPTY_CONF_STATE, voters: [1, 2]}}})
    s.append([newEntry({term: 1, index: 3, data: enc.encode('foo')})])
    const rn = node(s)
    const rd = rn.ready()
    expect(view(rd).committed).to.deep.equal([[3, 1, 'foo']])
    expect(rd.hardState).to.equal(undefined)
    rn.advance(rd)
    expect(rn.hasReady()).to.equal(false)
    expect(rn.status().confState.voters).to.deep.equal([1, 2])
  })

  it('config.applied skips entries already applied, and must lie within [snapshot, commit]', () => {
    const s = storageWith([1])
    s.setHardState({term: 1, vote: 0, commit: 3})
    s.append([1, 2, 3].map((i) => newEntry({term: 1, index: i, data: enc.encode(`e${i}`)})))
    expect(view(node(s, {applied: 2}).ready()).committed).to.deep.equal([[3, 1, 'e3']])
    expect(() => node(s, {applied: 4})).to.throw(ConfigInvalidError, /config\.applied/)
  })

  it('refuses every input between ready() and advance() (raft-rs contract)', () => {
    const {rn, s} = singleLeader()
    rn.propose(enc.encode('x'))
    const rd = rn.ready()
    const calls: Array<[string, () => void]> = [
      ['tick', () => rn.tick()],
      ['campaign', () => rn.campaign()],
      ['propose', () => rn.propose(enc.encode('y'))],
      ['proposeConfChange', () => rn.proposeConfChange({kind: 'v1', id: 0, type: ConfChangeType.AddNode, nodeId: 2, context: new Uint8Array(0)})],
      ['step', () => rn.step(newMessage({msgType: MessageType.MsgHeartbeat, from: 2, to: 1, term: 1}))],
      ['readIndex', () => rn.readIndex(enc.encode('r'))],
      ['transferLeader', () => rn.transferLeader(2)],
      ['reportUnreachable', () => rn.reportUnreachable(2)],
      ['reportSnapshot', () => rn.reportSnapshot(2, SnapshotStatus.Finish)],
      ['ready', () => rn.ready()],
    ]
    for (const [name, call] of calls) {
      expect(call, name).to.throw(RawNodeMisuseError, new RegExp(`${name}\\(\\) called between ready\\(\\) and advance\\(\\).*DO NOT call`))
    }
    // Allowed while a Ready is outstanding:
    expect(() => rn.hasReady()).to.not.throw()
    expect(rn.status().role).to.equal(StateRole.Leader)
    handle(rn, s, rd)
    expect(() => rn.tick()).to.not.throw()
  })

  it('advance() needs the outstanding Ready', () => {
    const {rn} = singleLeader()
    expect(() => rn.advance(rn.ready())).to.not.throw()
    expect(() => rn.advance({} as Ready)).to.throw(RawNodeMisuseError, /without an outstanding Ready/)
    rn.propose(enc.encode('x'))
    const rd = rn.ready()
    expect(() => rn.advance({...rd})).to.throw(RawNodeMisuseError, /returned by the last ready/)
    rn.advance(rd)
  })

  it('applyConfChange is allowed while a Ready is outstanding', () => {
    const {rn, s} = singleLeader()
    rn.proposeConfChange({kind: 'v1', id: 1, type: ConfChangeType.AddNode, nodeId: 2, context: new Uint8Array(0)})
    handle(rn, s)
    const rd = rn.ready()
    const cc = rd.committedEntries.find((e) => e.entryType === EntryType.EntryConfChange)
    expect(cc).to.not.equal(undefined)
    const cs = rn.applyConfChange({kind: 'v1', id: 1, type: ConfChangeType.AddNode, nodeId: 2, context: new Uint8Array(0)})
    expect(cs.voters).to.deep.equal([1, 2])
    handle(rn, s, rd)
    // The leader probes the new node at once.
    const msgs = rn.ready().messages
    expect(msgs.map((m) => [m.to, m.msgType])).to.deep.equal([[2, MessageType.MsgAppend]])
  })

  it('refuses local message types from the network (StepLocalMsgError)', () => {
    const rn = node(storageWith([1, 2]))
    for (const t of [MessageType.MsgHup, MessageType.MsgBeat, MessageType.MsgUnreachable, MessageType.MsgSnapStatus, MessageType.MsgCheckQuorum]) {
      expect(() => rn.step(newMessage({msgType: t, from: 2, to: 1})), MessageType[t]).to.throw(StepLocalMsgError)
    }
  })

  it('refuses responses from unknown peers (StepPeerNotFoundError)', () => {
    const rn = node(storageWith([1, 2]))
    for (const t of [MessageType.MsgAppendResponse, MessageType.MsgRequestVoteResponse, MessageType.MsgHeartbeatResponse,
      MessageType.MsgRequestPreVoteResponse, MessageType.MsgReadIndexResp]) {
      expect(() => rn.step(newMessage({msgType: t, from: 9, to: 1, term: 1})), MessageType[t]).to.throw(StepPeerNotFoundError)
    }
    expect(() => rn.step(newMessage({msgType: MessageType.MsgHeartbeat, from: 9, to: 1, term: 1}))).to.not.throw()
  })

  it('refuses message fields that are not safe integers', () => {
    const rn = node(storageWith([1, 2]))
    expect(() => rn.step(newMessage({msgType: MessageType.MsgHeartbeat, from: 2, to: 1, term: 2 ** 53})))
      .to.throw(InvalidInputError, /term/)
    expect(() => rn.step(newMessage({msgType: MessageType.MsgAppend, from: 2, to: 1, term: 1, index: -1})))
      .to.throw(InvalidInputError, /index/)
    expect(() => rn.transferLeader(0)).to.throw(InvalidInputError)
    expect(() => rn.reportUnreachable(1.5)).to.throw(InvalidInputError)
  })

  it('refuses payloads that are not byte arrays and unknown snapshot statuses', () => {
    const {rn} = singleLeader()
    expect(() => rn.propose('text' as never)).to.throw(InvalidInputError, /propose data must be a Uint8Array, got string/)
    expect(() => rn.propose(enc.encode('x'), null as never)).to.throw(InvalidInputError, /propose context must be a Uint8Array, got null/)
    expect(() => rn.readIndex(undefined as never)).to.throw(InvalidInputError, /readIndex context must be a Uint8Array/)
    expect(() => rn.reportSnapshot(1, 'ok' as never)).to.throw(InvalidInputError, /snapshot status ok is neither/)
    expect(rn.hasReady()).to.equal(false)
  })

  it('a proposal without a leader is dropped with reason no-leader', () => {
    const rn = node(storageWith([1, 2, 3]))
    let err: unknown
    try {
      rn.propose(enc.encode('x'))
    } catch (e) {
      err = e
    }
    expect(err).to.be.instanceOf(ProposalDroppedError)
    expect((err as ProposalDroppedError).reason).to.equal('no-leader')
    expect((err as ProposalDroppedError).code).to.equal('PROPOSAL_DROPPED')
  })

  it('bounds the uncommitted log: excess proposals are dropped, empty ones never (etcd TestRawNodeBoundedLogGrowthWithPartition)', () => {
    const maxEntries = 16
    const data = enc.encode('testdata')
    const s = storageWith([1])
    const rn = node(s, {maxUncommittedSize: maxEntries * data.length})
    rn.campaign()
    while (rn.hasReady()) handle(rn, s)
    let dropped = 0
    for (let i = 0; i < 1024; i++) {
      try {
        rn.propose(data)
      } catch (err) {
        expect(err).to.be.instanceOf(ProposalDroppedError)
        expect((err as ProposalDroppedError).reason).to.equal('too-many-uncommitted-bytes')
        dropped++
      }
    }
    expect(dropped).to.equal(1024 - maxEntries)
    expect(rn.raft.uncommittedSize).to.equal(maxEntries * data.length)
    // An empty proposal is always accepted.
    rn.propose(new Uint8Array(0))
    let rd = handle(rn, s)
    expect(rd.entries).to.have.length(maxEntries + 1)
    expect(rn.raft.uncommittedSize).to.equal(maxEntries * data.length)
    rd = handle(rn, s)
    expect(rd.committedEntries).to.have.length(maxEntries + 1)
    expect(rn.raft.uncommittedSize).to.equal(0)
  })

  it('readIndex on a single-node leader yields a ReadState at once (etcd TestRawNodeReadIndex)', () => {
    const {rn, s} = singleLeader()
    rn.readIndex(enc.encode('somedata'))
    const rd = handle(rn, s)
    expect(rd.readStates.map((r) => [r.index, dec.decode(r.requestCtx)])).to.deep.equal([[rn.status().commit, 'somedata']])
    expect(rn.hasReady()).to.equal(false)
  })

  it('status shows progress only on the leader', () => {
    const {rn} = singleLeader()
    const st = rn.status()
    expect(st.progress?.get(1)).to.deep.include({match: 1, next: 2, state: 'StateReplicate'})
    expect(st.confState.voters).to.deep.equal([1])
    expect(node(storageWith([1, 2])).status().progress).to.equal(undefined)
  })

  it('proposeConfChange: a second change while one is pending is refused with a reason', () => {
    const {rn, s} = singleLeader()
    const add = (id: number): ConfChange => ({kind: 'v1', id: 0, type: ConfChangeType.AddNode, nodeId: id, context: new Uint8Array(0)})
    rn.proposeConfChange(add(2))
    let err: unknown
    try {
      rn.proposeConfChange(add(3))
    } catch (e) {
      err = e
    }
    expect(err).to.be.instanceOf(ProposalDroppedError)
    expect((err as ProposalDroppedError).reason).to.equal('conf-change-refused')
    expect((err as Error).message).to.match(/possible unapplied conf change at index 2 \(applied to 1\)/)
    // Nothing was appended for the refused change.
    expect(handle(rn, s).entries.map((e) => e.entryType)).to.deep.equal([EntryType.EntryConfChange])
  })

  it('proposeConfChange refuses invalid changes and leaving a non-joint config', () => {
    const {rn} = singleLeader()
    const leave = {kind: 'v2', transition: ConfChangeTransition.Auto, changes: [], context: new Uint8Array(0)} as const
    expect(() => rn.proposeConfChange(leave)).to.throw(ProposalDroppedError, /not in joint state/)
    const removeAll = {kind: 'v1', id: 0, type: ConfChangeType.RemoveNode, nodeId: 1, context: new Uint8Array(0)} as const
    expect(() => rn.proposeConfChange(removeAll)).to.throw(ProposalDroppedError, /removed all voters/)
    const two = {
      kind: 'v2', transition: ConfChangeTransition.Auto, context: new Uint8Array(0),
      changes: [{type: ConfChangeType.RemoveNode, nodeId: 1}, {type: ConfChangeType.AddNode, nodeId: 2}],
    } as const
    // A joint change from a single voter to another is fine.
    expect(() => rn.proposeConfChange(two)).to.not.throw()
  })

  it('a proposed entry with undecodable conf-change bytes throws ConfChangeError', () => {
    const {rn} = singleLeader()
    const bad = newEntry({term: 0, index: 0, entryType: EntryType.EntryConfChangeV2, data: new Uint8Array([0xff, 0xff])})
    expect(() => rn.raft.step(newMessage({msgType: MessageType.MsgPropose, from: 1, to: 1, entries: [bad]}))).to.throw(ConfChangeError)
    expect(encodeConfChange({kind: 'v1', id: 0, type: ConfChangeType.AddNode, nodeId: 2, context: new Uint8Array(0)}).length).to.be.greaterThan(0)
  })

  it('Ready reports soft state only when it changes, and mustSync only for entries, term or vote', () => {
    const s = storageWith([1, 2, 3])
    const rn = node(s)
    rn.campaign()
    const rd = handle(rn, s)
    expect(rd.softState).to.deep.equal({leaderId: 0, role: StateRole.Candidate})
    expect(rd.mustSync).to.equal(true)
    expect(rd.messages.map((m) => [m.to, m.msgType])).to.deep.equal([[2, MessageType.MsgRequestVote], [3, MessageType.MsgRequestVote]])
    rn.step(newMessage({msgType: MessageType.MsgRequestVoteResponse, from: 2, to: 1, term: 1}))
    const rd2 = handle(rn, s)
    expect(rd2.softState).to.deep.equal({leaderId: 1, role: StateRole.Leader})
    expect(rd2.entries.map((e) => e.index)).to.deep.equal([1])
    expect(rd2.messages.map((m) => [m.to, m.msgType])).to.deep.equal([[2, MessageType.MsgAppend], [3, MessageType.MsgAppend]])
    rn.step(newMessage({msgType: MessageType.MsgAppendResponse, from: 2, to: 1, term: 1, index: 1}))
    const rd3 = handle(rn, s)
    expect(rd3.softState).to.equal(undefined)
    expect(rd3.hardState).to.deep.equal({term: 1, vote: 1, commit: 1})
    expect(rd3.mustSync).to.equal(false)
    expect(rd3.committedEntries.map((e) => e.index)).to.deep.equal([1])
  })

  it('reportUnreachable moves a replicating follower to probe; reportSnapshot is ignored unless in snapshot state', () => {
    const s = storageWith([1, 2])
    const rn = node(s)
    rn.campaign()
    handle(rn, s)
    rn.step(newMessage({msgType: MessageType.MsgRequestVoteResponse, from: 2, to: 1, term: 1}))
    handle(rn, s)
    rn.step(newMessage({msgType: MessageType.MsgAppendResponse, from: 2, to: 1, term: 1, index: 1}))
    handle(rn, s)
    expect(rn.status().progress?.get(2)?.state).to.equal('StateReplicate')
    rn.reportSnapshot(2, SnapshotStatus.Finish)
    expect(rn.status().progress?.get(2)?.state).to.equal('StateReplicate')
    rn.reportUnreachable(2)
    expect(rn.status().progress?.get(2)?.state).to.equal('StateProbe')
  })
})
