/**
 * hashKV: a hash of the store's logical history up to a revision, like etcd's HashKV, so that
 * members that applied the same entries report the same hash whatever their physical
 * compaction progress (and a diverged replica shows).
 *
 * The logical view hashed at revision `rev` with compact revision C: for main revisions <= C
 * only each key's latest put at or below C (its value at C; tombstones and superseded puts
 * count as gone, even while physical compaction has not deleted them yet), plus every record
 * in (C, rev]. Records are hashed in revision order as their R/ key and stored value bytes,
 * each prefixed by its length. The hash is SHA-256; `hash` is its first 4 bytes as an unsigned
 * big-endian integer (etcd's uint32 field), `digest` the whole digest in hex.
 *
 * Invariant: both iterators (each holding an implicit RocksDB snapshot) and the revisions are
 * captured together under the state lock, so the hash describes one state even while later
 * entries apply and physical compaction runs.
 */
import {createHash} from 'node:crypto'
import type {Db} from '../storage/db.js'
import type {RaftStorage} from '../storage/raft_storage.js'
import {HISTORY_PREFIX, prefixRangeEnd, REV_PREFIX, revKey, type Revision} from '../storage/keys.js'
import {readRevision} from './exec.js'
import {readIndexEntry} from './view.js'

export interface KvHash {
  /** The first 4 bytes of the SHA-256 digest, as an unsigned integer (etcd's HashKV hash). */
  readonly hash: number
  /** The full SHA-256 digest in hex. */
  readonly digest: string
  /** The store's compact revision when hashed. */
  readonly compactRevision: number
  /** The store's revision when hashed (the header revision of etcd's HashKV answer). */
  readonly revision: number
  /** The revision hashed up to. */
  readonly hashRevision: number
  /** The applied index the hashed state belongs to. */
  readonly appliedIndex: number
}

/** What hashKV reads from the store. */
export interface HashHost {
  readonly storage: RaftStorage
  readonly db: Db
  readonly revision: number
  readonly compactRevision: number
}

const revId = (main: number | bigint, sub: number | bigint): string => `${main}/${sub}`

/**
 * The R/ records of the logical history (see the module comment), in revision order: `records`
 * iterates R/, `index` (undefined when nothing is compacted) the whole h/ index of the same
 * state; it is read first to find each key's latest put at or below the compact revision.
 */
export async function* retainedRecords(
  dir: string, index: AsyncIterable<[Buffer, Buffer]> | undefined, records: AsyncIterable<[Buffer, Buffer]>, compactRevision: number,
): AsyncGenerator<[Buffer, Buffer]> {
  const kept = new Set<string>()
  if (index !== undefined) {
    let last: {key: Uint8Array, rev: Revision, put: boolean} | undefined
    const flush = (): void => {
      if (last?.put === true) kept.add(revId(last.rev.main, last.rev.sub))
    }
    for await (const [k, v] of index) {
      const e = readIndexEntry(dir, k, v)
      if (last !== undefined && Buffer.compare(last.key, e.key) !== 0) {
        flush()
        last = undefined
      }
      if (e.rev.main <= compactRevision) last = e
    }
    flush()
  }
  const c = BigInt(compactRevision)
  for await (const [k, v] of records) {
    const main = k.readBigUInt64BE(REV_PREFIX.length)
    if (main <= c && !kept.has(revId(main, k.readBigUInt64BE(REV_PREFIX.length + 8)))) continue
    yield [k, v]
  }
}

/** Opens the iterators retainedRecords needs, for records up to main revision `upTo`. Call under the state lock. */
export function openRetained(
  db: Db, compactRevision: number, upTo: number, highWaterMark?: number,
): {index?: AsyncIterableIterator<[Buffer, Buffer]>, records: AsyncIterableIterator<[Buffer, Buffer]>} {
  return {
    index: compactRevision > 0 ? db.iterate({gte: HISTORY_PREFIX, lt: prefixRangeEnd(HISTORY_PREFIX), highWaterMark}) : undefined,
    records: db.iterate({gte: REV_PREFIX, lt: revKey({main: upTo + 1, sub: 0}), highWaterMark}),
  }
}

/** Hashes the logical history up to `rev` (0 = the current revision); see the module comment. */
export async function hashKV(host: HashHost, rev = 0): Promise<KvHash> {
  const snap = await host.storage.exclusive(() => {
    const revision = host.revision
    const compactRevision = host.compactRevision
    const upTo = readRevision(rev, revision, compactRevision)
    return {revision, compactRevision, upTo, appliedIndex: host.storage.applied.index, ...openRetained(host.db, compactRevision, upTo)}
  })
  const h = createHash('sha256')
  const len = Buffer.alloc(4)
  for await (const [k, v] of retainedRecords(host.storage.dir, snap.index, snap.records, snap.compactRevision)) {
    len.writeUInt32BE(k.length)
    h.update(len).update(k)
    len.writeUInt32BE(v.length)
    h.update(len).update(v)
  }
  const digest = h.digest()
  return {
    hash: digest.readUInt32BE(0), digest: digest.toString('hex'), compactRevision: snap.compactRevision,
    revision: snap.revision, hashRevision: snap.upTo, appliedIndex: snap.appliedIndex,
  }
}
