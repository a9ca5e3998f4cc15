/**
 * Byte encodings of the MVCC state machine (docs/storage-layout.md): the KV meta record
 * (v/meta), the latest value of a live key (k/), a history record (R/), a key-history index
 * entry (h/), and the InternalRaftRequest carried by normal log entries. Decoders check every
 * integer; they throw WireDecodeError (requests) or return a problem string (records read from
 * disk, which the caller reports as StorageCorruptError naming the record).
 */
import {KeyValue} from '../generated/etcd/mvccpb/kv.js'
import {InternalRaftRequest} from '../generated/raftctl/v1/internal.js'
import {decodeWith, WireDecodeError} from '../raftpb/checked.js'
import {concat, readU64be, u64be} from '../storage/keys.js'
import {type Decoded, tryDecode} from '../storage/records.js'

/** The KV meta record. */
export interface KvMeta {
  /** The store revision: the main revision of the latest write (1 for an empty store, as etcd). */
  readonly revision: number
  /** Reads and watches below it fail as compacted (0: nothing compacted yet). */
  readonly compactRevision: number
  /** The history below this revision has been physically deleted (<= compactRevision). */
  readonly physicalRevision: number
  /** The number of live keys at `revision`. */
  readonly keyCount: number
}

/** The meta of a store that never applied a write: revision 1, as a new etcd. */
export const INITIAL_META: KvMeta = {revision: 1, compactRevision: 0, physicalRevision: 0, keyCount: 0}

/** The v/meta format of this raftctl; version 1 was the store without history. */
export const META_VERSION = 2
const META_BYTES = 1 + 4 * 8

/** v/meta: version (1 byte) | revision | compact revision | physical revision | key count (u64 BE each). */
export function encodeMeta(m: KvMeta): Uint8Array {
  return concat(Uint8Array.of(META_VERSION), u64be(m.revision), u64be(m.compactRevision), u64be(m.physicalRevision), u64be(m.keyCount))
}

export function decodeMeta(b: Uint8Array): Decoded<KvMeta> {
  if (b.length < 1 || b[0] !== META_VERSION) return {ok: false, problem: `unknown KV meta version ${b[0]} (this raftctl reads version ${META_VERSION})`}
  if (b.length !== META_BYTES) return {ok: false, problem: `expected ${META_BYTES} bytes, found ${b.length}`}
  const [revision, compactRevision, physicalRevision, keyCount] = [1, 9, 17, 25].map((at) => readU64be(b, at))
  if (revision === undefined || compactRevision === undefined || physicalRevision === undefined || keyCount === undefined) {
    return {ok: false, problem: 'a revision or the key count is above 2^53-1'}
  }
  if (revision < 1) return {ok: false, problem: 'the revision is 0'}
  if (compactRevision > revision || physicalRevision > compactRevision) {
    return {ok: false, problem: `revisions out of order: physical ${physicalRevision} <= compact ${compactRevision} <= current ${revision} does not hold`}
  }
  return {ok: true, value: {revision, compactRevision, physicalRevision, keyCount}}
}

/** Checks the invariants of a stored KeyValue; returns a problem sentence or undefined. */
export function kvProblem(kv: KeyValue, maxRevision?: number): string | undefined {
  const {createRevision: c, modRevision: m, version: v} = kv
  for (const [name, n] of [['create_revision', c], ['mod_revision', m], ['version', v]] as const) {
    if (!Number.isSafeInteger(n) || n < 1) return `${name} ${n} is not an integer >= 1`
  }
  if (m < c) return `mod_revision ${m} is below create_revision ${c}`
  if (maxRevision !== undefined && m > maxRevision) return `mod_revision ${m} is above the store revision ${maxRevision}`
  return undefined
}

/** k/ value: the key's latest mvccpb.KeyValue without its key (the key is the RocksDB key). */
export function encodeStoredKv(kv: KeyValue): Uint8Array {
  return KeyValue.encode({...kv, key: new Uint8Array(0)}).finish()
}

/** Decodes the k/ value of user key `key`, checking its revisions and version. */
export function decodeStoredKv(key: Uint8Array, b: Uint8Array): Decoded<KeyValue> {
  const d = tryDecode(() => decodeWith('mvccpb.KeyValue', () => KeyValue.decode(b)))
  if (!d.ok) return d
  if (d.value.key.length !== 0) return {ok: false, problem: 'a stored value must not repeat its key'}
  const problem = kvProblem(d.value)
  return problem === undefined ? {ok: true, value: {...d.value, key}} : {ok: false, problem}
}

/** What a history record (and an h/ entry) says happened to the key at its revision. */
export type RecordKind = 'put' | 'delete'
const KIND_BYTE: Record<RecordKind, number> = {put: 1, delete: 2}

/**
 * One R/ record: a put with the key's full KeyValue after it, or a delete (a tombstone) whose
 * KeyValue holds only the key and mod_revision = the delete's main revision.
 */
export interface HistoryRecord {
  readonly kind: RecordKind
  readonly kv: KeyValue
}

/** R/ value: kind (1 byte: 1 put, 2 delete) | mvccpb.KeyValue. */
export function encodeRecord(r: HistoryRecord): Uint8Array {
  return concat(Uint8Array.of(KIND_BYTE[r.kind]), KeyValue.encode(r.kv).finish())
}

/** Decodes an R/ value written at main revision `main`; checks kind, key and revisions. */
export function decodeRecord(b: Uint8Array, main: number): Decoded<HistoryRecord> {
  const kind = decodeKind(b.subarray(0, 1))
  if (!kind.ok) return kind
  const d = tryDecode(() => decodeWith('mvccpb.KeyValue', () => KeyValue.decode(b.subarray(1))))
  if (!d.ok) return d
  const kv = d.value
  if (kv.key.length === 0) return {ok: false, problem: 'the record has no key'}
  if (kv.modRevision !== main) return {ok: false, problem: `mod_revision ${kv.modRevision} differs from the record's revision ${main}`}
  if (kind.value === 'put') {
    const problem = kvProblem(kv)
    if (problem !== undefined) return {ok: false, problem}
  }
  return {ok: true, value: {kind: kind.value, kv}}
}

/** h/ value: the kind byte of the record at that revision. */
export const encodeKind = (kind: RecordKind): Uint8Array => Uint8Array.of(KIND_BYTE[kind])

export function decodeKind(b: Uint8Array): Decoded<RecordKind> {
  if (b.length === 1 && b[0] === KIND_BYTE.put) return {ok: true, value: 'put'}
  if (b.length === 1 && b[0] === KIND_BYTE.delete) return {ok: true, value: 'delete'}
  return {ok: false, problem: `unknown record kind ${b.length === 0 ? '(none)' : b[0]}`}
}

export function encodeInternalRequest(r: InternalRaftRequest): Uint8Array {
  return InternalRaftRequest.encode(r).finish()
}

/** Decodes the data of a normal log entry; throws WireDecodeError naming the problem. */
export function decodeInternalRequest(b: Uint8Array): InternalRaftRequest {
  const r = decodeWith('raftctl.v1.InternalRaftRequest', () => InternalRaftRequest.decode(b))
  const kinds = [r.put, r.deleteRange, r.txn, r.compaction, r.leaseGrant, r.leaseRevoke, r.leaseCheckpoint].filter((x) => x !== undefined).length
  if (kinds !== 1) {
    throw new WireDecodeError('raftctl.v1.InternalRaftRequest must carry exactly one of put, delete_range, txn, compaction, ' +
      'lease_grant, lease_revoke, lease_checkpoint')
  }
  if (r.id < 0) throw new WireDecodeError(`InternalRaftRequest.id ${r.id} is negative`)
  return r
}
