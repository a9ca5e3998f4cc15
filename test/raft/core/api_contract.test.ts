// The public contract of the Raft core named by issue 3: what src/raft/index.ts exports, the
// message type names (raft-rs) and their eraftpb values, the stable codes of the typed errors,
// Status, and conf-change entries whose bytes are eraftpb and whose context survives the log
// (DESIGN.md §2: member metadata travels in the conf-change context and is applied with it).
import {expect} from 'chai'
import * as wire from '../../../src/generated/eraftpb.js'
import * as api from '../../../src/raft/index.js'
import {
  type AnyConfChange, ConfChangeError, ConfChangeTransition, ConfChangeType, ConfigInvalidError, CompactedError,
  decodeConfChange, EntryType, InvalidInputError, MemoryStorage, MessageType, ProposalDroppedError, RaftError,
  RaftInvariantError, RawNode, RawNodeMisuseError, type Ready, SnapshotOutOfDateError, StateRole,
  StepLocalMsgError, StepPeerNotFoundError, UnavailableError,
} from '../../../src/raft/index.js'

const enc = new TextEncoder()

function handle(rn: RawNode, s: MemoryStorage, onApply: (rd: Ready) => void = () => {}): Ready {
  const rd = rn.ready()
  if (rd.snapshot) s.applySnapshot(rd.snapshot)
  s.append(rd.entries)
  if (rd.hardState) s.setHardState(rd.hardState)
  onApply(rd)
  rn.advance(rd)
  return rd
}

function singleLeader(): {rn: RawNode; s: MemoryStorage} {
  const s = MemoryStorage.withConfState({voters: [1]})
  const rn = new RawNode({id: 1, electionTick: 10, heartbeatTick: 1}, s)
  rn.campaign()
  while (rn.hasReady()) handle(rn, s)
  return {rn, s}
}

describe('public API of the Raft core (issue 3)', () => {
  it('src/raft/index.ts exports every name the issue lists', () => {
    const names = [
      'RawNode', 'MemoryStorage', 'encodeConfChange', 'decodeConfChange', 'validateConfig', 'CONFIG_DEFAULTS',
      'MessageType', 'EntryType', 'ConfChangeType', 'ConfChangeTransition', 'StateRole', 'SnapshotStatus',
      'RaftError', 'ProposalDroppedError', 'CompactedError', 'UnavailableError', 'SnapshotOutOfDateError',
      'ConfChangeError', 'StepLocalMsgError', 'StepPeerNotFoundError', 'ConfigInvalidError', 'CodedError', 'withCode',
    ]
    const exported = api as unknown as Record<string, unknown>
    expect(names.filter((n) => exported[n] === undefined)).to.deep.equal([])
    const methods = [
      'tick', 'campaign', 'propose', 'proposeConfChange', 'step', 'hasReady', 'ready', 'advance',
      'applyConfChange', 'readIndex', 'transferLeader', 'reportUnreachable', 'reportSnapshot', 'status',
      'lastIndex',
    ]
    const proto = RawNode.prototype as unknown as Record<string, unknown>
    expect(methods.filter((m) => typeof proto[m] !== 'function')).to.deep.equal([])
    const storageMethods = [
      'initialState', 'entries', 'term', 'firstIndex', 'lastIndex', 'snapshot', 'append', 'setHardState',
      'applySnapshot', 'createSnapshot', 'compact',
    ]
    const sp = MemoryStorage.prototype as unknown as Record<string, unknown>
    expect(storageMethods.filter((m) => typeof sp[m] !== 'function')).to.deep.equal([])
  })

  it('message types have raft-rs names and the numeric values of eraftpb.MessageType', () => {
    const names = [
      'MsgHup', 'MsgBeat', 'MsgPropose', 'MsgAppend', 'MsgAppendResponse', 'MsgRequestVote',
      'MsgRequestVoteResponse', 'MsgSnapshot', 'MsgHeartbeat', 'MsgHeartbeatResponse', 'MsgUnreachable',
      'MsgSnapStatus', 'MsgCheckQuorum', 'MsgTransferLeader', 'MsgTimeoutNow', 'MsgReadIndex',
      'MsgReadIndexResp', 'MsgRequestPreVote', 'MsgRequestPreVoteResponse',
    ]
    const core = MessageType as unknown as Record<string, number>
    const w = wire.MessageType as unknown as Record<string, number>
    const coreNames = Object.keys(MessageType).filter((k) => Number.isNaN(Number(k)))
    expect(coreNames).to.deep.equal(names)
    for (const n of names) expect(core[n], n).to.equal(w[n])
  })

  it('every typed error has a stable code, its class name and one-line message', () => {
    const cases: Array<[RaftError, string]> = [
      [new ProposalDroppedError('no-leader', 'no leader at term 3'), 'PROPOSAL_DROPPED'],
      [new CompactedError(), 'COMPACTED'],
      [new UnavailableError(), 'UNAVAILABLE'],
      [new SnapshotOutOfDateError(), 'SNAPSHOT_OUT_OF_DATE'],
      [new ConfChangeError('removed all voters'), 'CONF_CHANGE'],
      [new StepLocalMsgError(), 'STEP_LOCAL_MSG'],
      [new StepPeerNotFoundError(), 'STEP_PEER_NOT_FOUND'],
      [new ConfigInvalidError('config.id cannot be 0'), 'CONFIG_INVALID'],
      [new RawNodeMisuseError('step() called between ready() and advance()'), 'RAWNODE_MISUSE'],
      [new RaftInvariantError('broken'), 'INVARIANT_VIOLATED'],
      [new InvalidInputError('bad id'), 'INVALID_INPUT'],
    ]
    for (const [err, code] of cases) {
      expect(err, code).to.be.instanceOf(RaftError).and.instanceOf(api.CodedError).and.instanceOf(Error)
      expect(err.code).to.equal(code)
      expect(err.name).to.equal(err.constructor.name)
      expect(err.message).to.match(/^[^\n]+$/)
    }
    expect(new Set(cases.map(([, c]) => c)).size).to.equal(cases.length)
    const dropped = new ProposalDroppedError('conf-change-refused', 'another conf change is pending')
    expect([dropped.reason, dropped.message]).to.deep.equal(['conf-change-refused', 'proposal dropped: another conf change is pending'])
  })

  it('errors raised by the core carry their codes', () => {
    const caught = (f: () => void): string => {
      try {
        f()
      } catch (err) {
        return (err as RaftError).code
      }
      return 'nothing thrown'
    }
    const s = MemoryStorage.withConfState({voters: [1, 2]})
    const rn = new RawNode({id: 1}, s)
    expect(caught(() => rn.propose(enc.encode('x')))).to.equal('PROPOSAL_DROPPED')
    expect(caught(() => rn.step(api.newMessage({msgType: MessageType.MsgHup, from: 2, to: 1})))).to.equal('STEP_LOCAL_MSG')
    expect(caught(() => rn.step(api.newMessage({msgType: MessageType.MsgHeartbeatResponse, from: 9, to: 1})))).to.equal('STEP_PEER_NOT_FOUND')
    expect(caught(() => new RawNode({id: 0}, s))).to.equal('CONFIG_INVALID')
    expect(caught(() => s.term(-1))).to.equal('COMPACTED')
    expect(caught(() => s.term(5))).to.equal('UNAVAILABLE')
    expect(caught(() => s.applySnapshot({data: new Uint8Array(), metadata: {index: 0, term: 0, confState: api.EMPTY_CONF_STATE}})))
      .to.equal('SNAPSHOT_OUT_OF_DATE')
    expect(caught(() => decodeConfChange({entryType: EntryType.EntryNormal, data: new Uint8Array(), index: 1}))).to.equal('CONF_CHANGE')
    rn.campaign()
    rn.ready()
    expect(caught(() => rn.tick())).to.equal('RAWNODE_MISUSE')
  })

  it('status reports id, term, vote, commit, applied, role, leader, progress (leader only) and ConfState', () => {
    const {rn, s} = singleLeader()
    const st = rn.status()
    expect(st).to.deep.include({id: 1, term: 1, vote: 1, commit: 1, applied: 1, role: StateRole.Leader, leaderId: 1, leadTransferee: 0})
    expect(st.confState).to.deep.equal({...api.EMPTY_CONF_STATE, voters: [1]})
    expect([...st.progress!.keys()]).to.deep.equal([1])
    // A Status is a copy: it does not follow the node.
    rn.propose(enc.encode('later'))
    while (rn.hasReady()) handle(rn, s)
    expect(rn.status()).to.deep.include({commit: 2, applied: 2})
    expect(rn.status().progress!.get(1)!.match).to.equal(2)
    expect([st.commit, st.applied, st.progress!.get(1)!.match]).to.deep.equal([1, 1, 1])
    const f = new RawNode({id: 2}, MemoryStorage.withConfState({voters: [1, 2, 3], learners: [4]})).status()
    expect(f).to.deep.include({id: 2, term: 0, vote: 0, commit: 0, applied: 0, role: StateRole.Follower, leaderId: 0})
    expect(f.progress).to.equal(undefined)
    expect(f.confState.learners).to.deep.equal([4])
  })

  it('a Ready hands out at most config.maxCommittedSizePerReady bytes of committed entries, at least one', () => {
    expect(api.CONFIG_DEFAULTS.maxCommittedSizePerReady).to.equal(1024 * 1024)
    const s = MemoryStorage.withConfState({voters: [1]})
    s.append([1, 2, 3, 4].map((index) => api.newEntry({index, term: 1, data: enc.encode('0123456789')})))
    s.setHardState({term: 1, vote: 1, commit: 4})
    const rn = new RawNode({id: 1, maxCommittedSizePerReady: 25}, s)
    const pages: number[][] = []
    for (let i = 0; i < 10 && rn.hasReady(); i++) pages.push(handle(rn, s).committedEntries.map((e) => e.index))
    expect(pages).to.deep.equal([[1, 2], [3, 4]])
  })
})

describe('RawNode.lastIndex (what the server reads instead of the internal raft log)', () => {
  it('is the index a proposal got on the leader, counts unpersisted entries, and is allowed during a Ready', () => {
    const {rn, s} = singleLeader()
    expect(rn.lastIndex()).to.equal(1)
    rn.propose(enc.encode('a'))
    expect(rn.lastIndex(), 'the leader appends its proposal at once').to.equal(2)
    rn.proposeConfChange({kind: 'v2', transition: ConfChangeTransition.Auto, changes: [{type: ConfChangeType.AddLearnerNode, nodeId: 2}], context: new Uint8Array()})
    expect(rn.lastIndex()).to.equal(3)
    expect(s.lastIndex(), 'not yet persisted').to.equal(1)
    const rd = rn.ready()
    expect(rn.lastIndex(), 'allowed between ready() and advance()').to.equal(3)
    s.append(rd.entries)
    if (rd.hardState) s.setHardState(rd.hardState)
    rn.advance(rd)
    expect(rn.lastIndex()).to.equal(s.lastIndex())
  })

  it('on a follower is its own last index, whatever the leader has', () => {
    const f = new RawNode({id: 2}, MemoryStorage.withConfState({voters: [1, 2]}))
    expect(f.lastIndex()).to.equal(0)
  })
})

describe('conf-change entries in the log (DESIGN.md §2: member metadata in the context)', () => {
  const ctx = enc.encode('{"name":"n2","peerUrl":"http://127.0.0.1:2380"}')
  const cases: Array<[string, AnyConfChange, EntryType]> = [
    ['V1', {kind: 'v1', id: 7, type: ConfChangeType.AddLearnerNode, nodeId: 2, context: ctx}, EntryType.EntryConfChange],
    ['V2 joint', {
      kind: 'v2', transition: ConfChangeTransition.Explicit, context: ctx,
      changes: [{type: ConfChangeType.AddNode, nodeId: 2}, {type: ConfChangeType.AddNode, nodeId: 3}],
    }, EntryType.EntryConfChangeV2],
  ]
  for (const [what, cc, entryType] of cases) {
    it(`a ${what} change is committed as eraftpb bytes and decodes, context included, before it is applied`, () => {
      const {rn, s} = singleLeader()
      rn.proposeConfChange(cc)
      let applied: api.ConfState | undefined
      const committed: api.Entry[] = []
      while (rn.hasReady()) {
        handle(rn, s, (r) => {
          for (const e of r.committedEntries) {
            committed.push(e)
            expect(e.entryType).to.equal(entryType)
            const decoded = decodeConfChange(e)
            expect(decoded).to.deep.equal(cc)
            applied = rn.applyConfChange(decoded)
          }
        })
      }
      expect(committed).to.have.length(1)
      const e = committed[0]
      const w = entryType === EntryType.EntryConfChange ? wire.ConfChange.decode(e.data) : wire.ConfChangeV2.decode(e.data)
      expect(new TextDecoder().decode(w.context)).to.equal(new TextDecoder().decode(ctx))
      if (cc.kind === 'v1') {
        expect(applied).to.deep.include({voters: [1], learners: [2]})
      } else {
        expect(applied).to.deep.include({voters: [1, 2, 3], votersOutgoing: [1], autoLeave: false})
      }
      expect(rn.status().confState).to.deep.equal(applied)
    })
  }
})
