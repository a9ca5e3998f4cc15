/**
 * LeaseStore: the replicated lease state of a raftctl node (etcd's leases), stored in the node's
 * RocksDB under "L/" (records.ts) and mirrored in memory (LeaseState), so that a restart reads
 * one key range and never scans the user keys.
 *
 * Changes come only from applied log entries, through a LeaseBatch (begin()) whose ops join the
 * entry's one RocksDB batch, or from a snapshot restore (snapshot.ts). Time never enters: expiry
 * is decided by the leader's Lessor, which proposes a LeaseRevoke entry; a checkpoint entry
 * carries the remaining TTL the leader measured.
 */
import type {LeaseHooks} from '../kv/lease_hooks.js'
import {StorageCorruptError, type BatchSink, type Db} from '../storage/index.js'
import {LeaseBatch} from './batch.js'
import type {LeaseId} from './id.js'
import {decodeLeaseRecord, describeLeaseKey, LEASE_PREFIX, LEASE_RANGE_END, parseLeaseKey} from './records.js'
import {exportLeaseItems, LeaseRestore} from './snapshot.js'
import {LeaseStateBuilder} from './state_builder.js'
import type {LeaseState} from './state.js'
import type {Lease, LeaseChanges, LeaseSource} from './types.js'

/** Hears every change of the applied lease state (the server's Lessor driver). */
export interface LeaseListener {
  /** A LeaseBatch committed (an entry was applied). */
  applied(changes: LeaseChanges): void
  /** A snapshot replaced every lease. */
  restored(): void
}

export class LeaseStore implements LeaseSource, LeaseHooks {
  private readonly listeners = new Set<LeaseListener>()

  private constructor(readonly db: Db, readonly dir: string, /** @internal */ readonly state: LeaseState) {}

  /**
   * Loads the lease records of `db` (the data dir `dir`, for error messages). A record that does
   * not decode, or a key attached to a lease that has no record, stops with STORAGE_CORRUPT.
   */
  static async open(db: Db, dir: string): Promise<LeaseStore> {
    const builder = new LeaseStateBuilder()
    for await (const [k, v] of db.iterate({gte: LEASE_PREFIX, lt: LEASE_RANGE_END})) {
      const problem = loadRecord(builder, k, v)
      if (problem !== undefined) throw new StorageCorruptError(dir, describeLeaseKey(k), problem)
    }
    return new LeaseStore(db, dir, builder.state)
  }

  /** LeaseStore.open on the database of `storage` (a RaftStorage or anything with its db and dir). */
  static openOn(this: void, storage: {readonly db: Db, readonly dir: string}): Promise<LeaseStore> {
    return LeaseStore.open(storage.db, storage.dir)
  }

  /** The lease `id` as applied, or undefined. */
  get(id: LeaseId): Lease | undefined {
    return this.state.get(id)
  }

  /** Whether lease `id` exists in the applied state. */
  exists(id: LeaseId): boolean {
    return this.state.has(id)
  }

  /** Every lease, in no particular order. */
  list(): Iterable<Lease> {
    return this.state.list()
  }

  /** Every lease id in ascending order (LeaseLeases). */
  ids(): LeaseId[] {
    return [...this.state.list()].map((l) => l.id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  }

  /** The number of leases. */
  get count(): number {
    return this.state.count
  }

  /** The keys attached to `id`, in byte order (empty when the lease does not exist). */
  keysOf(id: LeaseId): Uint8Array[] {
    return this.state.keysOf(id)
  }

  /**
   * Begins the lease side of applying entry `index` (see LeaseBatch). The state machine applies
   * one entry at a time under the storage's state lock, so at most one batch is open.
   */
  begin(index: number): LeaseBatch {
    return new LeaseBatch(this.state, index, (changes) => {
      for (const l of this.listeners) l.applied(changes)
    })
  }

  /** Registers a listener of applied changes and restores; returns its removal. */
  listen(l: LeaseListener): () => void {
    this.listeners.add(l)
    return () => this.listeners.delete(l)
  }

  /**
   * The lease section of a snapshot (see exportLeaseItems): its database iterator is taken by
   * this call, so call it in the same synchronous step as the key/value export's iterators.
   */
  exportItems(): AsyncGenerator<Uint8Array> {
    return exportLeaseItems(this.db, this.dir)
  }

  /** Starts restoring a snapshot's lease section into `sink` (see LeaseRestore). */
  beginRestore(sink: BatchSink): Promise<LeaseRestore> {
    return LeaseRestore.begin(this.db, this.state, sink, () => {
      for (const l of this.listeners) l.restored()
    })
  }
}

/** Adds one "L/" record to `builder`; returns the problem when it is not a valid record. */
function loadRecord(builder: LeaseStateBuilder, k: Uint8Array, v: Uint8Array): string | undefined {
  const parsed = parseLeaseKey(k)
  if (parsed === undefined) return 'a lease key must be "L/" + an 8-byte lease id (+ an attached key)'
  if (parsed.key !== undefined) {
    if (v.length !== 0) return `a key attachment must have an empty value, found ${v.length} bytes`
    return builder.attach(parsed.id, parsed.key)
  }
  const d = decodeLeaseRecord(v)
  return d.ok ? builder.lease(parsed.id, d.value) : d.problem
}
