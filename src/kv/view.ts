/**
 * Read views of the MVCC store: the keys of a range as they were at one revision.
 *
 * - The latest revision is read from k/ (one record per live key).
 * - An older revision r is read from the h/ index: for each key of the range, its entries are in
 *   revision order, so the last one with main <= r says whether the key was live at r (a put)
 *   or not (a delete, or no entry); a put's KeyValue is then read from its R/ record.
 *
 * Callers open the RocksDB iterator while holding the store's state lock, together with the
 * revision they read at, so the answer is one consistent state. Physical compaction never
 * deletes a record a read at r >= the compact revision needs (it keeps each key's latest put at
 * or below the compact revision); a read whose revision was compacted while it ran finds an R/
 * record gone and reports COMPACTED.
 */
import type {KeyValue} from '../generated/etcd/mvccpb/kv.js'
import type {Db} from '../storage/db.js'
import {StorageCorruptError} from '../storage/errors.js'
import {compareBytes, describeKey, parseHistoryKey, type Revision, revKey, USER_PREFIX} from '../storage/keys.js'
import {decodeKind, decodeRecord, decodeStoredKv} from './codec.js'
import {compacted} from './errors.js'

type Entries = AsyncIterable<[Uint8Array, Uint8Array]>

/** Decodes a k/ record or throws StorageCorruptError naming it. */
export function readStored(dir: string, dbKey: Uint8Array, value: Uint8Array): KeyValue {
  const key = dbKey.subarray(USER_PREFIX.length)
  const d = decodeStoredKv(new Uint8Array(key), value)
  if (!d.ok) throw new StorageCorruptError(dir, `user key ${describeKey(dbKey)}`, d.problem)
  return d.value
}

/** Every KeyValue of a k/ iteration, in key order. */
export async function collectLatest(dir: string, entries: Entries): Promise<KeyValue[]> {
  const out: KeyValue[] = []
  for await (const [k, v] of entries) out.push(readStored(dir, k, v))
  return out
}

/** Parses an h/ entry or throws StorageCorruptError naming it. */
export function readIndexEntry(dir: string, k: Uint8Array, v: Uint8Array): {key: Uint8Array, rev: Revision, put: boolean} {
  const parsed = parseHistoryKey(k)
  if (parsed === undefined) throw new StorageCorruptError(dir, `history index entry ${describeKey(k)}`, 'the key is not an escaped user key and a revision')
  const kind = decodeKind(v)
  if (!kind.ok) throw new StorageCorruptError(dir, `history index entry ${describeKey(k)}`, kind.problem)
  return {...parsed, put: kind.value === 'put'}
}

/** What a past read needs besides the iterator. */
export interface PastReadContext {
  readonly db: Db
  readonly dir: string
  /** The store's compact revision now (it may have moved past the read while it ran). */
  compactRevision(): number
}

/**
 * Reads the R/ record of a put at `rev` that the h/ index names for `key`. When it is gone and
 * the compact revision passed `readRev` meanwhile, the read was compacted; otherwise the data
 * dir is damaged.
 */
export async function readPut(ctx: PastReadContext, key: Uint8Array, rev: Revision, readRev: number): Promise<KeyValue> {
  const rk = revKey(rev)
  const raw = await ctx.db.get(rk)
  if (raw === undefined) {
    if (ctx.compactRevision() > readRev) throw compacted(readRev, ctx.compactRevision())
    throw new StorageCorruptError(ctx.dir, `history record ${describeKey(rk)}`, `missing, but the history index lists it for key ${describeKey(key)}`)
  }
  const d = decodeRecord(raw, rev.main)
  if (!d.ok) throw new StorageCorruptError(ctx.dir, `history record ${describeKey(rk)}`, d.problem)
  if (d.value.kind !== 'put' || compareBytes(d.value.kv.key, key) !== 0) {
    throw new StorageCorruptError(ctx.dir, `history record ${describeKey(rk)}`, `it is not the put of key ${describeKey(key)} that the history index lists`)
  }
  return d.value.kv
}

/** Every KeyValue live at revision `rev`, from an h/ iteration over a key range, in key order. */
export async function collectPast(ctx: PastReadContext, entries: Entries, rev: number): Promise<KeyValue[]> {
  const live: Array<{key: Uint8Array, rev: Revision}> = []
  let current: {key: Uint8Array, last?: {rev: Revision, put: boolean}} | undefined
  const flush = (): void => {
    if (current?.last?.put === true) live.push({key: current.key, rev: current.last.rev})
  }
  for await (const [k, v] of entries) {
    const e = readIndexEntry(ctx.dir, k, v)
    if (current === undefined || compareBytes(current.key, e.key) !== 0) {
      flush()
      current = {key: e.key}
    }
    if (e.rev.main <= rev) current.last = {rev: e.rev, put: e.put}
  }
  flush()
  const out: KeyValue[] = []
  for (const l of live) out.push(await readPut(ctx, l.key, l.rev, rev))
  return out
}
