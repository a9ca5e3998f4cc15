/**
 * The lease section of a snapshot file: every lease of the state machine with the keys attached
 * to it, as a stream of raftctl.v1.LeaseSnapshotItem records in "L/" key order (a lease, then its
 * keys; leases in ascending id bytes). The snapshot writer frames the items (length + bytes) like
 * its other records; the restore reads them back into the restore's one batch.
 */
import {LeaseSnapshotItem} from '../generated/raftctl/v1/lease_internal.js'
import {SnapshotFileError} from '../kv/errors.js'
import type {LeaseSnapshotRestore} from '../kv/lease_hooks.js'
import {StorageCorruptError, type BatchSink, type Db} from '../storage/index.js'
import {
  attachmentKey, checkLeaseFields, decodeLeaseRecord, describeLeaseKey, encodeLeaseRecord, LEASE_ID_BYTES, LEASE_PREFIX,
  LEASE_RANGE_END, leaseKey, parseLeaseKey, readLeaseId, toLeaseRecord,
} from './records.js'
import {LeaseStateBuilder} from './state_builder.js'
import type {LeaseState} from './state.js'

/**
 * Returns the encoded items of every lease record of `db`. The RocksDB iterator (an implicit
 * snapshot of the database) is created by this call, not at the first item, so a caller that
 * captures its other iterators in the same synchronous step gets one consistent image. A record
 * that does not decode fails the export with STORAGE_CORRUPT naming data dir `dir` and the key.
 */
export function exportLeaseItems(db: Db, dir: string): AsyncGenerator<Uint8Array> {
  const iter = db.iterate({gte: LEASE_PREFIX, lt: LEASE_RANGE_END})
  return (async function* () {
    for await (const [k, v] of iter) {
      const parsed = parseLeaseKey(k)
      if (parsed === undefined) throw new StorageCorruptError(dir, describeLeaseKey(k), 'it is not a lease key')
      const ID = k.subarray(LEASE_PREFIX.length, LEASE_PREFIX.length + LEASE_ID_BYTES)
      if (parsed.key !== undefined) {
        yield LeaseSnapshotItem.encode({ID, key: parsed.key}).finish()
        continue
      }
      const d = decodeLeaseRecord(v)
      if (!d.ok) throw new StorageCorruptError(dir, describeLeaseKey(k), d.problem)
      yield LeaseSnapshotItem.encode({ID, lease: toLeaseRecord(d.value)}).finish()
    }
  })()
}

/**
 * Restores the lease section of a snapshot into a batch: begin() deletes every current lease
 * record, add() checks and writes one item, commit() makes the restored leases the applied state
 * once the batch is durable. A malformed or out-of-order item is a SnapshotFileError naming it.
 */
export class LeaseRestore implements LeaseSnapshotRestore {
  private readonly builder = new LeaseStateBuilder()
  private items = 0

  private committed = false

  private constructor(private readonly state: LeaseState, private readonly sink: BatchSink, private readonly onCommit?: () => void) {}

  /**
   * Starts a restore of `state` (stored in `db`) into `sink`, deleting every "L/" key of `db` (the
   * binding has no range delete). Run it under the lock that keeps entries from being applied.
   * `onCommit` hears when the restored leases became the applied state.
   */
  static async begin(db: Db, state: LeaseState, sink: BatchSink, onCommit?: () => void): Promise<LeaseRestore> {
    for await (const [k] of db.iterate({gte: LEASE_PREFIX, lt: LEASE_RANGE_END, values: false})) sink.del(k)
    return new LeaseRestore(state, sink, onCommit)
  }

  /** Checks and writes one encoded LeaseSnapshotItem. */
  add(bytes: Uint8Array): void {
    this.items += 1
    let item: LeaseSnapshotItem
    try {
      item = LeaseSnapshotItem.decode(bytes)
    } catch (err) {
      throw this.bad(`cannot decode raftctl.v1.LeaseSnapshotItem: ${(err as Error).message}`)
    }
    if (item.ID.length !== LEASE_ID_BYTES) throw this.bad(`the lease id has ${item.ID.length} bytes, not ${LEASE_ID_BYTES}`)
    const id = readLeaseId(item.ID)
    if (item.lease !== undefined) {
      const f = checkLeaseFields(item.lease)
      if (!f.ok) throw this.bad(f.problem)
      this.check(this.builder.lease(id, f.value))
      this.sink.put(leaseKey(id), encodeLeaseRecord(f.value))
    } else if (item.key !== undefined) {
      this.check(this.builder.attach(id, item.key))
      this.sink.put(attachmentKey(id, item.key), new Uint8Array(0))
    } else {
      throw this.bad('the item is neither a lease nor a key')
    }
  }

  /** The number of leases restored so far. */
  get leaseCount(): number {
    return this.builder.count
  }

  /** Makes the restored leases the applied state; call once, after the restore batch is durable. */
  commit(): void {
    if (this.committed) throw new Error('a lease restore was committed twice')
    this.committed = true
    this.state.replaceWith(this.builder.state)
    this.onCommit?.()
  }

  private check(problem: string | undefined): void {
    if (problem !== undefined) throw this.bad(problem)
  }

  private bad(problem: string): SnapshotFileError {
    return new SnapshotFileError(`lease item ${this.items} of the snapshot: ${problem}`)
  }
}
