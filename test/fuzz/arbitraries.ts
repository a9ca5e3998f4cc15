/**
 * Arbitraries of valid raftctl values (core types, members, snapshot file contents), whose
 * encodings are the seeds the fuzz tests mutate.
 */
import fc from 'fast-check'
import {
  type ConfState, type Entry, EntryType, type HardState, type Message, MessageType, type Snapshot,
  type SnapshotMetadata,
} from '../../src/raft/types.js'
import {
  type Compare, Compare_CompareResult as Result, Compare_CompareTarget as Target, type RequestOp, type TxnRequest,
} from '../../src/generated/etcd/etcdserverpb/kv.js'
import type {InternalRaftRequest} from '../../src/generated/raftctl/v1/internal.js'
import type {MemberInfo} from '../../src/storage/records.js'

/** Small numbers most of the time, any safe integer sometimes. */
export const uint = fc.oneof({arbitrary: fc.integer({min: 0, max: 50}), weight: 4}, {arbitrary: fc.maxSafeNat(), weight: 1})
export const nodeId = fc.integer({min: 1, max: 7})
const ids = fc.uniqueArray(nodeId, {maxLength: 5}).map((a) => a.sort((x, y) => x - y))
const payload = fc.uint8Array({maxLength: 24})

export const entry: fc.Arbitrary<Entry> = fc.record({
  entryType: fc.constantFrom(EntryType.EntryNormal, EntryType.EntryConfChange, EntryType.EntryConfChangeV2),
  term: uint, index: uint, data: payload, context: payload,
})

/** Any lists of ids: mostly configurations the core refuses. */
export const anyConfState: fc.Arbitrary<ConfState> = fc.record({
  voters: ids, learners: ids, votersOutgoing: ids, learnersNext: ids, autoLeave: fc.boolean(),
})

const sorted = (a: Iterable<number>): number[] => [...a].sort((x, y) => x - y)

/**
 * A configuration the core can hold: voters, learners that are no voters, and when joint an
 * outgoing half (non-empty) whose members demoted in the incoming half wait in learners_next.
 */
export const validConfState: fc.Arbitrary<ConfState> = fc.record({
  voters: fc.uniqueArray(nodeId, {minLength: 1, maxLength: 4}), learners: ids,
  outgoing: fc.uniqueArray(nodeId, {maxLength: 4}), demote: fc.boolean(), autoLeave: fc.boolean(),
}).map(({voters, learners, outgoing, demote, autoLeave}) => {
  const joint = outgoing.length > 0
  const learnersNext = demote ? outgoing.filter((id) => !voters.includes(id)) : []
  const plain = learners.filter((id) => !voters.includes(id) && !outgoing.includes(id))
  return {
    voters: sorted(voters), learners: sorted(plain), votersOutgoing: sorted(outgoing),
    learnersNext: sorted(learnersNext), autoLeave: joint && autoLeave,
  }
})

export const confState: fc.Arbitrary<ConfState> = fc.oneof({arbitrary: validConfState, weight: 4}, {arbitrary: anyConfState, weight: 1})

export const snapshotMetadata: fc.Arbitrary<SnapshotMetadata> = fc.record({confState, index: uint, term: uint})
export const snapshot: fc.Arbitrary<Snapshot> = fc.record({data: payload, metadata: snapshotMetadata})
export const hardState: fc.Arbitrary<HardState> = fc.record({term: uint, vote: uint, commit: uint})

const messageTypes = Object.values(MessageType).filter((v): v is MessageType => typeof v === 'number')

export const message: fc.Arbitrary<Message> = fc.record({
  msgType: fc.constantFrom(...messageTypes),
  to: nodeId, from: nodeId, term: uint, logTerm: uint, index: uint,
  entries: fc.array(entry, {maxLength: 3}),
  commit: uint, commitTerm: uint,
  snapshot: fc.option(snapshot, {nil: undefined}),
  requestSnapshot: uint, reject: fc.boolean(), rejectHint: uint, context: payload,
  priority: fc.integer({min: -5, max: 5}),
}, {requiredKeys: ['msgType', 'to', 'from', 'term', 'logTerm', 'index', 'entries', 'commit', 'commitTerm',
  'requestSnapshot', 'reject', 'rejectHint', 'context', 'priority']})

/**
 * A message with the shape a raftctl node gives it (src/transport/shape.ts), so that receivers'
 * checks let it through and the fuzz reaches what lies behind them.
 */
export const shapedMessage: fc.Arbitrary<Message> = fc.tuple(message, fc.integer({min: 1, max: 50}), fc.uint8Array({maxLength: 8}))
  .map(([m, term, ctx]): Message => {
    const base = {...m, snapshot: undefined, entries: []}
    switch (m.msgType) {
      case MessageType.MsgPropose: return {...base, term: 0, entries: [{...entryOf(ctx), index: 0, term: 0}]}
      case MessageType.MsgReadIndex: return {...base, term: 0, entries: [entryOf(ctx)]}
      case MessageType.MsgReadIndexResp: return {...base, term, entries: [entryOf(ctx)]}
      case MessageType.MsgAppend: return {...base, term, logTerm: Math.min(term, m.logTerm),
        entries: m.entries.map((e, i) => ({...e, index: m.index + 1 + i, term}))}
      case MessageType.MsgSnapshot: return {...base, term, snapshot: {data: ctx, metadata: {
        index: Math.max(1, m.index), term: Math.min(term, m.logTerm), confState: {voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false}}}}
      default: return {...base, term}
    }
  })

function entryOf(data: Uint8Array): Entry {
  return {entryType: EntryType.EntryNormal, term: 0, index: 0, data, context: new Uint8Array()}
}

const endpoint = fc.tuple(fc.constantFrom('127.0.0.1', 'node-a.example', '[::1]'), fc.integer({min: 1, max: 65535}))
  .map(([h, p]) => `${h}:${p}`)

export const member: fc.Arbitrary<MemberInfo> = fc.record({
  id: fc.integer({min: 1, max: 1000}), name: fc.string({maxLength: 12}),
  peerUrls: fc.array(endpoint, {maxLength: 2}), clientUrls: fc.array(endpoint, {maxLength: 2}),
})

// ---- KV requests (the data of normal log entries) ----

const userKey = fc.oneof(fc.constantFrom('a', 'b', 'k/1', 'k/2', 'z').map((k) => new TextEncoder().encode(k)), fc.uint8Array({maxLength: 4}))
const rangeEnd = fc.oneof(fc.constant(new Uint8Array()), fc.constant(Uint8Array.of(0)), userKey)
const small = fc.integer({min: -1, max: 6})

const compare: fc.Arbitrary<Compare> = fc.record({
  result: fc.constantFrom(Result.EQUAL, Result.GREATER, Result.LESS, Result.NOT_EQUAL, 7 as Result),
  target: fc.constantFrom(Target.VERSION, Target.CREATE, Target.MOD, Target.VALUE, Target.LEASE, 9 as Target),
  key: userKey, rangeEnd,
  n: small.map(BigInt), value: fc.uint8Array({maxLength: 3}), extra: fc.boolean(),
}).map(({result, target, key, rangeEnd: end, n, value, extra}) => {
  const union = [{version: n}, {createRevision: n}, {modRevision: n}, {value}, {lease: n}][target] ?? {}
  return {result, target, key, rangeEnd: end, ...union, ...(extra ? {version: n} : {})}
})

const requestOp: fc.Arbitrary<RequestOp> = fc.letrec<{op: RequestOp, txn: TxnRequest}>((tie) => ({
  op: fc.oneof({depthSize: 'small'},
    fc.record({
      key: userKey, rangeEnd, limit: small, revision: small, sortOrder: fc.integer({min: 0, max: 3}), sortTarget: fc.integer({min: 0, max: 5}),
      serializable: fc.boolean(), keysOnly: fc.boolean(), countOnly: fc.boolean(),
      minModRevision: small, maxModRevision: small, minCreateRevision: small, maxCreateRevision: small,
    }).map((requestRange) => ({requestRange})),
    fc.record({
      key: userKey, value: fc.uint8Array({maxLength: 4}), lease: fc.constantFrom(0n, 0n, 3n), prevKv: fc.boolean(),
      ignoreValue: fc.boolean(), ignoreLease: fc.boolean(),
    }).map((requestPut) => ({requestPut})),
    fc.record({key: userKey, rangeEnd, prevKv: fc.boolean()}).map((requestDeleteRange) => ({requestDeleteRange})),
    tie('txn').map((requestTxn) => ({requestTxn: requestTxn as TxnRequest}))),
  txn: fc.record({
    compare: fc.array(compare, {maxLength: 2}),
    success: fc.array(tie('op'), {maxLength: 3}) as fc.Arbitrary<RequestOp[]>,
    failure: fc.array(tie('op'), {maxLength: 2}) as fc.Arbitrary<RequestOp[]>,
  }),
})).op

/** A KV request as a client could send it: put, delete range, txn (nested, with compares) or compaction. */
export const internalRequest: fc.Arbitrary<InternalRaftRequest> = fc.tuple(
  fc.nat(), requestOp, fc.array(requestOp, {maxLength: 3}), fc.array(compare, {maxLength: 2}), fc.option(small, {nil: undefined}),
).map(([id, op, ops, compares, compact]) => {
  if (compact !== undefined) return {id, compaction: {revision: compact, physical: false}}
  if (op.requestPut !== undefined) return {id, put: op.requestPut}
  if (op.requestDeleteRange !== undefined) return {id, deleteRange: op.requestDeleteRange}
  return {id, txn: op.requestTxn ?? {compare: compares, success: ops, failure: []}}
})
