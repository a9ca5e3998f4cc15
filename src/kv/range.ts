/**
 * etcd's key-range semantics. A request names `key` and `range_end`:
 * - empty range_end: the single key `key`;
 * - range_end "\0" (one zero byte): every key >= key;
 * - otherwise the half-open range [key, range_end); a range_end <= key selects nothing.
 * The range of all keys with prefix p is [p, prefixEnd(p)).
 */
import {isAllFrom, prefixEnd} from '../raftpb/key_range.js'
import {compareBytes, prefixRangeEnd, USER_PREFIX, userKey} from '../storage/keys.js'

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

/** RocksDB bounds [gte, lt) of the stored user keys in the range. */
export function dbBounds(r: KeyRange): {gte: Uint8Array, lt: Uint8Array} | {gte: Uint8Array, lte: Uint8Array} {
  if (r.single) return {gte: userKey(r.key), lte: userKey(r.key)}
  return {gte: userKey(r.key), lt: r.end === undefined ? prefixRangeEnd(USER_PREFIX) : userKey(r.end)}
}

/** A key as a string whose code units are its bytes, so string order equals byte order. */
export const keyString = (k: Uint8Array): string => Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('latin1')
export const keyFromString = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'))
