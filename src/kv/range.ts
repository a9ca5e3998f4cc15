/**
 * etcd's key-range semantics. A request names `key` and `range_end`:
 * - empty range_end: the single key `key`;
 * - range_end "\0" (one zero byte): every key >= key (key "\0" too: every key);
 * - otherwise the half-open range [key, range_end); a range_end <= key selects nothing.
 * The range of all keys with prefix p is [p, prefixEnd(p)).
 *
 * Also the shaping of a Range answer from the matching keys (filters, sort, limit), shared by
 * Range, read-only txns and the ranges inside write txns.
 */
import {
  type RangeRequest, type RangeResponse, RangeRequest_SortOrder as SortOrder,
  RangeRequest_SortTarget as SortTarget,
} from '../generated/etcd/etcdserverpb/kv.js'
import type {ResponseHeader} from '../generated/etcd/etcdserverpb/header.js'
import type {KeyValue} from '../generated/etcd/mvccpb/kv.js'
import {isAllFrom, prefixEnd} from '../raftpb/key_range.js'
import {
  compareBytes, HISTORY_PREFIX, historyKeyBounds, historyKeyFloor, prefixRangeEnd, USER_PREFIX, userKey,
} from '../storage/keys.js'

export {prefixEnd}

export interface KeyRange {
  readonly key: Uint8Array
  /** Exclusive end; undefined = no upper bound. Ignored when `single`. */
  readonly end: Uint8Array | undefined
  readonly single: boolean
}

export function toRange(key: Uint8Array, rangeEnd: Uint8Array): KeyRange {
  if (rangeEnd.length === 0) return {key, end: undefined, single: true}
  if (isAllFrom(rangeEnd)) return {key, end: undefined, single: false}
  return {key, end: rangeEnd, single: false}
}

/** True when `k` is in the range. */
export function inRange(r: KeyRange, k: Uint8Array): boolean {
  if (r.single) return compareBytes(k, r.key) === 0
  return compareBytes(k, r.key) >= 0 && (r.end === undefined || compareBytes(k, r.end) < 0)
}

/** True when the range can hold no key. */
export function isEmptyRange(r: KeyRange): boolean {
  return !r.single && r.end !== undefined && compareBytes(r.end, r.key) <= 0
}

/** RocksDB bounds of the k/ records (latest values) of the keys in the range. */
export function dbBounds(r: KeyRange): {gte: Uint8Array, lt: Uint8Array} | {gte: Uint8Array, lte: Uint8Array} {
  if (r.single) return {gte: userKey(r.key), lte: userKey(r.key)}
  return {gte: userKey(r.key), lt: r.end === undefined ? prefixRangeEnd(USER_PREFIX) : userKey(r.end)}
}

/** RocksDB bounds of the h/ index entries (every revision) of the keys in the range. */
export function historyBounds(r: KeyRange): {gte: Uint8Array, lt: Uint8Array} {
  if (r.single) return historyKeyBounds(r.key)
  return {gte: historyKeyFloor(r.key), lt: r.end === undefined ? prefixRangeEnd(HISTORY_PREFIX) : historyKeyFloor(r.end)}
}

/** A key as a string whose code units are its bytes, so string order equals byte order. */
export const keyString = (k: Uint8Array): string => Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('latin1')
export const keyFromString = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'))

const EMPTY = new Uint8Array(0)

const SORT_KEYS: Record<number, (a: KeyValue, b: KeyValue) => number> = {
  [SortTarget.KEY]: (a, b) => compareBytes(a.key, b.key),
  [SortTarget.VERSION]: (a, b) => a.version - b.version,
  [SortTarget.CREATE]: (a, b) => a.createRevision - b.createRevision,
  [SortTarget.MOD]: (a, b) => a.modRevision - b.modRevision,
  [SortTarget.VALUE]: (a, b) => compareBytes(a.value, b.value),
}

/**
 * Shapes a Range answer as etcd 3.4's apply does, from every key of the range in key order at
 * the read revision: `count` is the number of keys in the range before any filter; the
 * min/max mod and create revision filters (0 = unset) drop keys; a sort target other than KEY
 * with order NONE sorts ascending; then `limit` (> 0) cuts the list and sets `more`;
 * keys_only empties the values; count_only returns no keys. Ties keep key order (etcd's sort is
 * not stable; any order is etcd's).
 *
 * etcd's quirk, kept: with order NONE and no filter, etcd reads only the first limit + 1 keys
 * (in key order) before sorting them by a non-KEY target, so such an answer is the sorted head
 * of the range, not the head of the sorted range.
 */
export function shapeRange(all: readonly KeyValue[], req: RangeRequest, header: ResponseHeader): RangeResponse {
  if (req.countOnly) return {header, kvs: [], more: false, count: all.length}
  const filtered = req.maxModRevision !== 0 || req.minModRevision !== 0 || req.maxCreateRevision !== 0 || req.minCreateRevision !== 0
  const keep = (kv: KeyValue): boolean =>
    (req.maxModRevision === 0 || kv.modRevision <= req.maxModRevision) &&
    (req.minModRevision === 0 || kv.modRevision >= req.minModRevision) &&
    (req.maxCreateRevision === 0 || kv.createRevision <= req.maxCreateRevision) &&
    (req.minCreateRevision === 0 || kv.createRevision >= req.minCreateRevision)
  const head = req.limit > 0 && req.sortOrder === SortOrder.NONE && !filtered ? all.slice(0, req.limit + 1) : all
  let kvs = head.filter(keep)
  let order = req.sortOrder
  if (req.sortTarget !== SortTarget.KEY && order === SortOrder.NONE) order = SortOrder.ASCEND
  const cmp = SORT_KEYS[req.sortTarget]
  if (order === SortOrder.ASCEND && req.sortTarget !== SortTarget.KEY) kvs = [...kvs].sort(cmp)
  if (order === SortOrder.DESCEND) kvs = [...kvs].sort((a, b) => cmp(b, a) || compareBytes(a.key, b.key))
  let more = false
  if (req.limit > 0 && kvs.length > req.limit) {
    kvs = kvs.slice(0, req.limit)
    more = true
  }
  if (req.keysOnly) kvs = kvs.map((kv) => ({...kv, value: EMPTY}))
  return {header, kvs, more, count: all.length}
}
