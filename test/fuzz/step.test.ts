// Fuzzing what a peer message can do to a node once it passed the transport's checks: messages
// generated around the target's state (terms, indexes and commits near its own, entries that are
// contiguous or not, any type a peer may send) are encoded as a PeerBatch, checked by the
// receiver (src/transport/check.ts) and stepped into a leader or a follower of a 3-node cluster.
// Each one is refused (by the transport, or by the core with a typed RaftError) or stepped; a
// stepped message may change the node only as Raft allows: the term and commit never go down,
// the vote never changes within a term, the commit never passes the log, and no committed entry
// is ever rewritten.
import {status} from '@grpc/grpc-js'
import {expect} from 'chai'
import fc from 'fast-check'
import {RaftError, RaftInvariantError} from '../../src/raft/errors.js'
import {type ConfState, type Entry, EntryType, type Message, MessageType, newEntry, newMessage} from '../../src/raft/types.js'
import {encodeMessage} from '../../src/raftpb/codec.js'
import {checkBatch, type ReceiverIdentity} from '../../src/transport/check.js'
import {PeerRefusal} from '../../src/transport/errors.js'
import {encodeBatch, encodeHeaderField, isLocalOnly} from '../../src/transport/wire.js'
import {FUZZ_TITLE, fuzzParams, fuzzTimeout, typedOutcome} from './fuzz.js'
import {brokenRule, buildTarget, type Observed, observe, type StepTarget, type TargetRole} from './step_target.js'

const RUNS = 150
const CLUSTER = 7

const peerTypes = Object.values(MessageType)
  .filter((v): v is MessageType => typeof v === 'number' && !isLocalOnly(v))

/** Node ids of a ConfState: sometimes repeated, sometimes in two lists at once. */
const ids = fc.array(fc.integer({min: 0, max: 4}), {maxLength: 3})

/** A message described relative to the target's state, materialized by `build`. */
const spec = fc.record({
  /** Most messages get the shape a raftctl node gives them (shape.ts), so the core sees them. */
  wellShaped: fc.constantFrom(true, true, true, false),
  msgType: fc.constantFrom(...peerTypes),
  from: fc.constantFrom(1, 2, 3, 3, 9),
  dTerm: fc.integer({min: -2, max: 2}),
  dIndex: fc.integer({min: -4, max: 3}),
  dLogTerm: fc.integer({min: -2, max: 1}),
  dCommit: fc.integer({min: -4, max: 4}),
  entries: fc.array(fc.record({
    dIndex: fc.integer({min: -1, max: 2}), dTerm: fc.integer({min: -1, max: 1}),
    entryType: fc.constantFrom(EntryType.EntryNormal, EntryType.EntryNormal, EntryType.EntryConfChange, EntryType.EntryConfChangeV2),
    data: fc.uint8Array({maxLength: 6}),
  }), {maxLength: 4}),
  snapshot: fc.option(fc.record({dIndex: fc.integer({min: -3, max: 4}), dTerm: fc.integer({min: -1, max: 1}),
    confState: fc.oneof(
      fc.record({voters: fc.uniqueArray(fc.integer({min: 1, max: 4}), {maxLength: 3})}),
      fc.record({voters: ids, learners: ids, votersOutgoing: ids, learnersNext: ids, autoLeave: fc.boolean()}))}), {nil: undefined}),
  reject: fc.boolean(),
  dHint: fc.integer({min: -3, max: 3}),
  context: fc.uint8Array({maxLength: 4}),
})

type Spec = typeof spec extends fc.Arbitrary<infer T> ? T : never

const nat = (n: number): number => Math.max(0, n)
const TERMLESS = new Set([MessageType.MsgPropose, MessageType.MsgReadIndex])

/** The entries of `s`: as they come, or (well-shaped) as its message type carries them. */
function buildEntries(s: Spec, index: number, logTerm: number, term: number): Entry[] {
  let prevIndex = index
  let prevTerm = logTerm
  const raw = s.entries.map((e) => {
    prevIndex = s.wellShaped ? prevIndex + 1 : nat(prevIndex + 1 + e.dIndex)
    prevTerm = s.wellShaped ? Math.min(term, Math.max(1, prevTerm + Math.abs(e.dTerm))) : nat(term + e.dTerm)
    return newEntry({index: prevIndex, term: prevTerm, entryType: e.entryType, data: e.data})
  })
  if (!s.wellShaped || s.msgType === MessageType.MsgAppend) return raw
  const request = raw.length > 0 ? raw : [newEntry({index: 0, term: 0, data: s.context})]
  if (s.msgType === MessageType.MsgPropose) return request.map((e) => ({...e, index: 0, term: 0}))
  if (s.msgType === MessageType.MsgReadIndex || s.msgType === MessageType.MsgReadIndexResp) return request.slice(0, 1)
  return []
}

/** Builds the message `s` describes for the target's current state. */
function build(t: StepTarget, s: Spec): Message {
  const st = t.rn.status()
  const last = t.storage.lastIndex()
  const shapedTerm = TERMLESS.has(s.msgType) ? 0 : Math.max(1, st.term + s.dTerm)
  const term = s.wellShaped ? shapedTerm : nat(st.term + s.dTerm)
  const logTerm = s.wellShaped ? Math.min(term, nat(st.term + s.dLogTerm)) : nat(st.term + s.dLogTerm)
  const index = nat(last + s.dIndex)
  const withSnapshot = s.wellShaped ? s.msgType === MessageType.MsgSnapshot : s.snapshot !== undefined
  const snap = s.snapshot ?? {dIndex: 1, dTerm: 0, confState: {voters: [1, 2, 3]}}
  return newMessage({
    msgType: s.msgType, from: s.from, to: t.id, term, index, entries: buildEntries(s, index, logTerm, term),
    logTerm, commit: nat(st.commit + s.dCommit), reject: s.reject, rejectHint: nat(last + s.dHint), context: s.context,
    ...(withSnapshot ? {snapshot: {data: new Uint8Array(), metadata: {
      index: s.wellShaped ? Math.max(1, st.commit + snap.dIndex) : nat(st.commit + snap.dIndex),
      term: s.wellShaped ? Math.min(term, nat(st.term + snap.dTerm)) : nat(term + snap.dTerm),
      confState: {learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false, ...snap.confState},
    }}} : {}),
  })
}

/** What reaches the core: the message as the receiver decodes and checks it, or undefined. */
function throughTransport(t: StepTarget, m: Message): Message | undefined {
  const self: ReceiverIdentity = {clusterId: CLUSTER, nodeId: t.id, isKnownPeer: (id) => id !== t.id && id >= 1 && id <= 3}
  const bytes = encodeBatch(encodeHeaderField({clusterId: CLUSTER, from: m.from, to: m.to}), [encodeMessage(m)])
  const batch = typedOutcome(() => checkBatch(self, bytes), [PeerRefusal], 'the receiver checking a batch')
  return batch?.messages[0]
}

/**
 * The one invariant error a well-shaped message may raise: a heartbeat whose commit index is
 * beyond the receiver's log. The leader only sends what the follower acknowledged, so the
 * receiver's log was lost or truncated; etcd-io/raft and raft-rs panic here on purpose, and the
 * node stops (issue 11 §2) before anything of the step is persisted.
 */
const LOST_LOG = /^raft: tocommit\(\d+\) is out of range \[lastIndex\(\d+\)\]/

/** True for an error the core may answer a peer message with: a typed refusal or LOST_LOG. */
function acceptedRefusal(m: Message, err: unknown): boolean {
  if (err instanceof RaftInvariantError) return m.msgType === MessageType.MsgHeartbeat && LOST_LOG.test(err.message)
  return err instanceof RaftError
}

function stepAll(role: TargetRole, specs: Spec[]): void {
  const t = buildTarget(role)
  for (const s of specs) {
    const m = throughTransport(t, build(t, s))
    if (m === undefined) continue
    const before = observe(t)
    let refused = false
    try {
      t.rn.step(m)
    } catch (err) {
      if (!acceptedRefusal(m, err)) {
        throw new Error(`stepping ${show(m)} into the ${role} threw ${(err as Error).name}: ${(err as Error).message}`)
      }
      // After an invariant error the node stops (nothing of the step is persisted); after a
      // refusal it goes on, so whatever the refused step left in memory is persisted below.
      if (err instanceof RaftInvariantError) return
      refused = true
    }
    t.drain()
    const after = observe(t)
    const broken = refused ? changed(before, after) : brokenRule(t, before, after)
    if (broken !== undefined) throw new Error(`${refused ? 'the refused ' : ''}${show(m)} broke a rule in the ${role}: ${broken}`)
  }
}

const show = (m: Message): string =>
  `${MessageType[m.msgType]} ${JSON.stringify({...m, entries: m.entries.length, context: undefined})}`

/** A refused message changes nothing durable: hard state and log bounds are as they were. */
function changed(before: Observed, after: Observed): string | undefined {
  const b = JSON.stringify([before.hardState, before.lastIndex])
  const a = JSON.stringify([after.hardState, after.lastIndex])
  return a === b ? undefined : `hard state and last index went from ${b} to ${a}`
}

describe(`fuzz: peer messages stepped into a node ${FUZZ_TITLE}`, function () {
  this.timeout(fuzzTimeout(RUNS, 10))

  for (const role of ['leader', 'follower'] as const) {
    it(`a ${role} refuses or safely steps every checked message`, () => {
      fc.assert(fc.property(fc.array(spec, {minLength: 1, maxLength: 6}), (specs) => stepAll(role, specs)), fuzzParams(RUNS))
    })
  }
})

/**
 * Messages this fuzzer found that the core mishandles when they reach it, each kept with what
 * it did before the receiver refused it (src/transport/shape.ts).
 */
const FOUND: Array<{what: string, role: TargetRole, make: (t: StepTarget) => Message, refusal: RegExp}> = [
  {what: 'an empty forwarded MsgPropose (the leader threw RaftInvariantError "stepped empty MsgPropose")',
    role: 'leader', make: (t) => newMessage({msgType: MessageType.MsgPropose, from: 2, to: t.id}),
    refusal: /malformed MsgPropose: it carries no entry to propose/},
  {what: 'a MsgRequestVote of term 0 (the vote answer threw RaftInvariantError "term should be set")',
    role: 'follower', make: (t) => newMessage({msgType: MessageType.MsgRequestVote, from: 1, to: t.id, index: t.storage.lastIndex() + 1, logTerm: 1}),
    refusal: /malformed MsgRequestVote: it carries term 0/},
  {what: 'a MsgReadIndex without its context entry (the leader threw TypeError)',
    role: 'leader', make: (t) => newMessage({msgType: MessageType.MsgReadIndex, from: 2, to: t.id}),
    refusal: /malformed MsgReadIndex: it carries 0 entries, but a read carries exactly one/},
  {what: 'a MsgAppend with a gap between its entries (the follower threw RaftInvariantError "applying(12) is out of range")',
    role: 'follower', make: (t) => {
      const last = t.storage.lastIndex()
      const term = t.rn.status().term
      return newMessage({msgType: MessageType.MsgAppend, from: 1, to: t.id, term, index: last, logTerm: term, commit: last + 3,
        entries: [newEntry({index: last + 1, term}), newEntry({index: last + 5, term})]})
    },
    refusal: /malformed MsgAppend: entry 2 has index \d+, but it follows index \d+/},
  {what: 'a MsgSnapshot of term 0 (stepped as a local message, the follower installed it whatever its term)',
    role: 'follower', make: (t) => newMessage({msgType: MessageType.MsgSnapshot, from: 1, to: t.id, snapshot: {data: new Uint8Array(),
      metadata: {index: t.storage.lastIndex() + 2, term: 1, confState: {voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false}}}}),
    refusal: /malformed MsgSnapshot: it carries term 0/},
  {what: 'a MsgSnapshot whose ConfState the core cannot restore (the follower installed the log and hard state, then threw ConfChangeError)',
    role: 'follower', make: (t) => snapshotWith(t, {voters: [], votersOutgoing: [2]}),
    refusal: /does not decode: ConfState voters=\(\)&&\(2\) is not a valid configuration: removed all voters/},
  {what: 'a MsgSnapshot whose ConfState names a voter twice (the follower threw RaftInvariantError "ConfStates not equivalent")',
    role: 'follower', make: (t) => snapshotWith(t, {voters: [1, 2, 2]}),
    refusal: /does not decode: ConfState\.voters names node 2 twice/},
]

/** A MsgSnapshot from the leader for the target, two entries past its log, with `cs`. */
function snapshotWith(t: StepTarget, cs: Partial<ConfState>): Message {
  const term = t.rn.status().term
  return newMessage({msgType: MessageType.MsgSnapshot, from: 1, to: t.id, term, snapshot: {data: new Uint8Array(), metadata: {
    index: t.storage.lastIndex() + 2, term, confState: {voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false, ...cs}}}})
}

describe('fuzz regressions: peer messages the core mishandled are refused by the receiver', () => {
  for (const f of FOUND) {
    it(`refuses ${f.what}`, () => {
      const t = buildTarget(f.role)
      const self: ReceiverIdentity = {clusterId: CLUSTER, nodeId: t.id, isKnownPeer: (id) => id !== t.id && id >= 1 && id <= 3}
      const m = f.make(t)
      const bytes = encodeBatch(encodeHeaderField({clusterId: CLUSTER, from: m.from, to: m.to}), [encodeMessage(m)])
      let refusal: unknown
      try {
        checkBatch(self, bytes)
      } catch (err) {
        refusal = err
      }
      expect(refusal).to.be.instanceOf(PeerRefusal)
      expect((refusal as PeerRefusal).grpcCode).to.equal(status.INVALID_ARGUMENT)
      expect((refusal as PeerRefusal).message).to.match(f.refusal)
    })
  }
})
