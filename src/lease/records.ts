/**
 * The RocksDB records of the replicated lease state (docs/storage-layout.md, "Leases"). One key
 * range, "L/", holds everything, so one iterator reads it in order:
 *
 *   L/ + id (8 bytes)          raftctl.v1.LeaseRecord: the granted TTL and the last checkpointed
 *                              remaining TTL
 *   L/ + id (8 bytes) + key    empty: user key `key` is attached to lease `id`
 *
 * The id is big-endian two's complement (etcd's int64), so a lease's attachments sort right after
 * its own record, and a key of exactly 10 bytes is a lease record while a longer one is an
 * attachment (attached keys are never empty). Decoders return a problem sentence instead of
 * throwing, so the caller names the data dir and the key.
 */
import {LeaseRecord} from '../generated/raftctl/v1/lease_internal.js'
import {concat, type Decoded} from '../storage/index.js'
import type {LeaseId} from './id.js'
import {MAX_LEASE_TTL} from './types.js'

export const LEASE_PREFIX = new TextEncoder().encode('L/')
/** The end (exclusive) of the lease key range: "L0". */
export const LEASE_RANGE_END = new TextEncoder().encode('L0')
/** Bytes of an encoded lease id. */
export const LEASE_ID_BYTES = 8
const RECORD_KEY_BYTES = LEASE_PREFIX.length + LEASE_ID_BYTES

/** The 8 bytes of `id`, big-endian two's complement. */
export function leaseIdBytes(id: LeaseId): Uint8Array {
  const b = new Uint8Array(LEASE_ID_BYTES)
  new DataView(b.buffer).setBigInt64(0, id)
  return b
}

/** Reads an id written by leaseIdBytes at `offset` of `b` (which must hold 8 bytes there). */
export function readLeaseId(b: Uint8Array, offset = 0): LeaseId {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getBigInt64(offset)
}

/** "L/" + id: the record of lease `id`. */
export const leaseKey = (id: LeaseId): Uint8Array => concat(LEASE_PREFIX, leaseIdBytes(id))

/** "L/" + id + key: user key `key` is attached to lease `id`. */
export const attachmentKey = (id: LeaseId, key: Uint8Array): Uint8Array => concat(LEASE_PREFIX, leaseIdBytes(id), key)

/** What a key of the lease range names: a lease record (no key) or an attachment. */
export interface ParsedLeaseKey {
  readonly id: LeaseId
  /** The attached user key; undefined for the lease's own record. */
  readonly key?: Uint8Array
}

/** Parses a key of the "L/" range; undefined when it is shorter than a lease record key. */
export function parseLeaseKey(k: Uint8Array): ParsedLeaseKey | undefined {
  if (k.length < RECORD_KEY_BYTES || LEASE_PREFIX.some((c, i) => k[i] !== c)) return undefined
  const id = readLeaseId(k, LEASE_PREFIX.length)
  return k.length === RECORD_KEY_BYTES ? {id} : {id, key: k.subarray(RECORD_KEY_BYTES)}
}

/**
 * A readable rendering of a key of the lease range for error messages:
 * `"L/" + id 0x0000000000000007`, with ` + key 0x6b` for an attachment.
 */
export function describeLeaseKey(k: Uint8Array): string {
  const hex = (u: Uint8Array): string => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('hex')
  if (k.length < RECORD_KEY_BYTES) return `"L/" + 0x${hex(k.subarray(LEASE_PREFIX.length))}`
  const id = `"L/" + id 0x${hex(k.subarray(LEASE_PREFIX.length, RECORD_KEY_BYTES))}`
  return k.length === RECORD_KEY_BYTES ? id : `${id} + key 0x${hex(k.subarray(RECORD_KEY_BYTES))}`
}

/** The replicated facts of one lease besides its id and keys. */
export interface LeaseFields {
  readonly ttl: number
  readonly remainingTtl: number
  readonly grantedIndex: number
}

export const toLeaseRecord = (f: LeaseFields): LeaseRecord => ({TTL: f.ttl, remainingTTL: f.remainingTtl, grantedIndex: f.grantedIndex})

export function encodeLeaseRecord(f: LeaseFields): Uint8Array {
  return LeaseRecord.encode(toLeaseRecord(f)).finish()
}

/** Decodes a LeaseRecord and checks its fields (checkLeaseFields). */
export function decodeLeaseRecord(b: Uint8Array): Decoded<LeaseFields> {
  let r: LeaseRecord
  try {
    r = LeaseRecord.decode(b)
  } catch (err) {
    return {ok: false, problem: `cannot decode raftctl.v1.LeaseRecord: ${(err as Error).message}`}
  }
  return checkLeaseFields(r)
}

/**
 * Checks the fields of a stored or snapshotted lease: TTL in 1..MAX_LEASE_TTL, remaining TTL
 * >= 0, granted index >= 1.
 */
export function checkLeaseFields(r: LeaseRecord): Decoded<LeaseFields> {
  const {TTL: ttl, remainingTTL: remainingTtl, grantedIndex} = r
  if (!Number.isSafeInteger(ttl) || ttl < 1 || ttl > MAX_LEASE_TTL) {
    return {ok: false, problem: `lease TTL ${ttl} is outside 1..${MAX_LEASE_TTL}`}
  }
  if (!Number.isSafeInteger(remainingTtl) || remainingTtl < 0) {
    return {ok: false, problem: `remaining TTL ${remainingTtl} is negative or not an integer`}
  }
  if (!Number.isSafeInteger(grantedIndex) || grantedIndex < 1) {
    return {ok: false, problem: `granted index ${grantedIndex} is not an integer >= 1`}
  }
  return {ok: true, value: {ttl, remainingTtl, grantedIndex}}
}
