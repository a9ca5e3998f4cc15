/**
 * Byte encodings of the state machine: stored values (k/ records), the KV meta record (v/meta)
 * and the InternalRequest carried by normal log entries. Decoders check every integer; they
 * throw WireDecodeError (requests) or return a problem string (records read from disk).
 */
import {InternalRequest, KeyValue} from '../generated/raftctl/v1/kv.js'
import {decodeWith, WireDecodeError} from '../raftpb/checked.js'
import {concat, readU64be, u64be} from '../storage/keys.js'
import {type Decoded, tryDecode} from '../storage/records.js'

/** The KV meta record: the store's revision and number of keys. */
export interface KvMeta {
  readonly revision: number
  readonly keyCount: number
}

const META_VERSION = 1

/** v/meta: version (1 byte) | revision (u64 BE) | key count (u64 BE) = 17 bytes. */
export function encodeMeta(m: KvMeta): Uint8Array {
  return concat(Uint8Array.of(META_VERSION), u64be(m.revision), u64be(m.keyCount))
}

export function decodeMeta(b: Uint8Array): Decoded<KvMeta> {
  if (b.length !== 17) return {ok: false, problem: `expected 17 bytes, found ${b.length}`}
  if (b[0] !== META_VERSION) return {ok: false, problem: `unknown KV meta version ${b[0]}`}
  const revision = readU64be(b, 1)
  const keyCount = readU64be(b, 9)
  if (revision === undefined || keyCount === undefined) return {ok: false, problem: 'revision or key count is above 2^53-1'}
  return {ok: true, value: {revision, keyCount}}
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

/** Stored value of user key k: a KeyValue without its key (the key is the RocksDB key). */
export function encodeStoredKv(kv: KeyValue): Uint8Array {
  return KeyValue.encode({...kv, key: new Uint8Array(0)}).finish()
}

/** Decodes a stored value of user key `key`, checking its revisions and version. */
export function decodeStoredKv(key: Uint8Array, b: Uint8Array): Decoded<KeyValue> {
  const d = tryDecode(() => decodeWith('raftctl.v1.KeyValue', () => KeyValue.decode(b)))
  if (!d.ok) return d
  if (d.value.key.length !== 0) return {ok: false, problem: 'a stored value must not repeat its key'}
  const problem = kvProblem(d.value)
  return problem === undefined ? {ok: true, value: {...d.value, key}} : {ok: false, problem}
}

export function encodeInternalRequest(r: InternalRequest): Uint8Array {
  return InternalRequest.encode(r).finish()
}

/** Decodes the data of a normal log entry; throws WireDecodeError naming the problem. */
export function decodeInternalRequest(b: Uint8Array): InternalRequest {
  const r = decodeWith('raftctl.v1.InternalRequest', () => InternalRequest.decode(b))
  const kinds = [r.put, r.deleteRange, r.txn].filter((x) => x !== undefined).length
  if (kinds !== 1) throw new WireDecodeError('raftctl.v1.InternalRequest must carry exactly one of put, delete_range, txn')
  if (r.id < 0) throw new WireDecodeError(`InternalRequest.id ${r.id} is negative`)
  return r
}
