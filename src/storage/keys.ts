/**
 * The RocksDB key layout of a raftctl node (documented in docs/storage-layout.md). Every key
 * starts with a one-letter ASCII prefix and a slash, so prefixes never overlap and each kind of
 * record occupies one contiguous key range:
 *
 *   r/<name>          Raft and node state records (identity, hard state, conf state, ...)
 *   l/<u64 BE index>  log entries, ordered by index
 *   m/<u64 BE id>     member metadata, ordered by node id
 *   v/meta            KV state-machine meta (revision, key count)
 *   k/<user key>      user keys, ordered bytewise by user key
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
