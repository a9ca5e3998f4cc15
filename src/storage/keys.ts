/**
 * The RocksDB key layout of a raftctl node (documented in docs/storage-layout.md). Every key
 * starts with a one-letter ASCII prefix and a slash, so prefixes never overlap and each kind of
 * record occupies one contiguous key range:
 *
 *   r/<name>          Raft and node state records (identity, hard state, conf state, ...)
 *   l/<u64 BE index>  log entries, ordered by index
 *   m/<u64 BE id>     member metadata, ordered by node id
 *   v/meta            KV state-machine meta (format, revision, compact revisions, key count)
 *   k/<user key>      the latest KeyValue of each live user key, ordered bytewise by user key
 *   R/<main><sub>     one MVCC history record per write revision {main, sub}, in revision order
 *   h/<escaped user key><main><sub>
 *                     the key history index: per user key (order-preserving escape, see
 *                     escapeUserKey), every revision that wrote it, in revision order
 *
 * Integers in keys are 8-byte big-endian so that byte order equals numeric order.
 */

import {isAllFrom, prefixEnd} from '../raftpb/key_range.js'

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s)

export const IDENT_KEY = ascii('r/ident')
export const HARD_STATE_KEY = ascii('r/hardstate')
export const CONF_STATE_KEY = ascii('r/confstate')
export const SNAPSHOT_KEY = ascii('r/snapshot')
export const LOG_START_KEY = ascii('r/logstart')
export const APPLIED_KEY = ascii('r/applied')
export const KV_META_KEY = ascii('v/meta')

export const LOG_PREFIX = ascii('l/')
export const MEMBER_PREFIX = ascii('m/')
export const USER_PREFIX = ascii('k/')
export const REV_PREFIX = ascii('R/')
export const HISTORY_PREFIX = ascii('h/')

/** Encodes a safe non-negative integer as 8 bytes big-endian. */
export function u64be(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${n} is not an integer in 0..2^53-1`)
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, BigInt(n))
  return b
}

/** Decodes 8 bytes big-endian at `offset`; returns undefined when above 2^53-1. */
export function readU64be(b: Uint8Array, offset = 0): number | undefined {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(offset)
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(v)
}

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

export const logKey = (index: number): Uint8Array => concat(LOG_PREFIX, u64be(index))
export const memberKey = (id: number): Uint8Array => concat(MEMBER_PREFIX, u64be(id))
export const userKey = (key: Uint8Array): Uint8Array => concat(USER_PREFIX, key)

/** An MVCC revision: `main` is the store revision of a write, `sub` its position within it. */
export interface Revision {
  readonly main: number
  readonly sub: number
}

/** R/ + main (u64 BE) + sub (u64 BE): the key of one history record. */
export const revKey = (rev: Revision): Uint8Array => concat(REV_PREFIX, u64be(rev.main), u64be(rev.sub))

/** The revision of an R/ key, or undefined when it is not 2 + 16 bytes of safe integers. */
export function revOfKey(key: Uint8Array): Revision | undefined {
  if (key.length !== REV_PREFIX.length + 16) return undefined
  const main = readU64be(key, REV_PREFIX.length)
  const sub = readU64be(key, REV_PREFIX.length + 8)
  return main === undefined || sub === undefined ? undefined : {main, sub}
}

/** The escape's terminator: 0x00 0x01 sorts below every escaped byte (0x00 0xFF or 0x01..0xFF). */
const TERMINATOR = Uint8Array.of(0x00, 0x01)

/**
 * The order-preserving escape of a user key in h/ keys: every 0x00 byte becomes 0x00 0xFF and the
 * result ends with 0x00 0x01. Escaped keys compare as the user keys do (a key that is a prefix of
 * another ends with 0x00 0x01, which sorts below any continuation), and no escaped key is a
 * prefix of another, so the revisions appended after it never mix two keys' histories.
 */
export function escapeUserKey(key: Uint8Array): Uint8Array {
  let zeros = 0
  for (const c of key) if (c === 0) zeros += 1
  const out = new Uint8Array(key.length + zeros + TERMINATOR.length)
  let at = 0
  for (const c of key) {
    out[at++] = c
    if (c === 0) out[at++] = 0xff
  }
  out.set(TERMINATOR, at)
  return out
}

/**
 * Splits an h/ key into its user key and revision; undefined when it is not a well-formed
 * escape followed by 16 bytes of safe integers.
 */
export function parseHistoryKey(key: Uint8Array): {key: Uint8Array, rev: Revision} | undefined {
  const end = key.length - 16
  if (end < HISTORY_PREFIX.length + TERMINATOR.length) return undefined
  const user: number[] = []
  let i = HISTORY_PREFIX.length
  for (;;) {
    if (i >= end) return undefined
    const c = key[i]
    if (c !== 0) {
      user.push(c)
      i += 1
      continue
    }
    if (key[i + 1] === 0xff) {
      user.push(0)
      i += 2
      continue
    }
    if (key[i + 1] !== 0x01 || i + 2 !== end) return undefined
    break
  }
  const main = readU64be(key, end)
  const sub = readU64be(key, end + 8)
  if (main === undefined || sub === undefined) return undefined
  return {key: Uint8Array.from(user), rev: {main, sub}}
}

/** h/ + escaped user key + main + sub: one entry of the key history index. */
export const historyKey = (key: Uint8Array, rev: Revision): Uint8Array =>
  concat(HISTORY_PREFIX, escapeUserKey(key), u64be(rev.main), u64be(rev.sub))

/** The h/ key range [gte, lt) holding every revision of user key `key`. */
export function historyKeyBounds(key: Uint8Array): {gte: Uint8Array, lt: Uint8Array} {
  const start = concat(HISTORY_PREFIX, escapeUserKey(key))
  return {gte: start, lt: prefixRangeEnd(start)}
}

/**
 * The h/ bound of user keys >= `key` (gte) or < `key` (lt): the escape without its terminator
 * sorts below the escape of `key` and of every key that extends it, and above every smaller key.
 */
export const historyKeyFloor = (key: Uint8Array): Uint8Array =>
  concat(HISTORY_PREFIX, escapeUserKey(key).subarray(0, -TERMINATOR.length))

/**
 * The end (exclusive) of a record-kind range such as "l/": "l0" (etcd's prefix end, from
 * src/raftpb/key_range.ts). Only for the layout's own prefixes, which never end in 0xff.
 */
export function prefixRangeEnd(prefix: Uint8Array): Uint8Array {
  const end = prefixEnd(prefix)
  if (isAllFrom(end)) throw new RangeError('a storage key prefix must contain a byte below 0xff')
  return end
}

/** Returns the index of a log key, or undefined when it is not 2 + 8 bytes. */
export function logIndexOf(key: Uint8Array): number | undefined {
  return key.length === LOG_PREFIX.length + 8 ? readU64be(key, LOG_PREFIX.length) : undefined
}

/** A readable rendering of a key for error messages: ASCII prefix, then hex of the rest. */
export function describeKey(key: Uint8Array): string {
  const prefix = new TextDecoder().decode(key.slice(0, 2))
  if (/^[a-z]\/$/.test(prefix)) {
    const rest = key.slice(2)
    const printable = rest.every((c) => c >= 0x20 && c < 0x7f && c !== 0x22)
    if (printable && !(prefix === 'l/' || prefix === 'm/')) return `"${prefix}${new TextDecoder().decode(rest)}"`
    return `"${prefix}" + 0x${Buffer.from(rest).toString('hex')}`
  }
  return `0x${Buffer.from(key).toString('hex')}`
}

/** Bytewise comparison of two byte strings (RocksDB's default comparator). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b)
}
