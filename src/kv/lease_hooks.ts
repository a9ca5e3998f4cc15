/**
 * The lease hooks: what the key/value state machine needs from the leases. src/kv defines them
 * and calls them; src/lease implements them (LeaseStore) — DESIGN §1: lease → kv → storage, so
 * the store never imports the lease module. The server opens both (src/lease openStateMachine)
 * and hands the LeaseStore to KvStore.open as `leases`.
 *
 * How apply uses them, for every normal entry, under the storage's state lock:
 * 1. `const leases = hooks.begin(entry.index)` once per entry.
 * 2. A put with lease L != 0 (not ignore_lease) needs `leases.exists(L)` (else LEASE_NOT_FOUND;
 *    a txn checks every put of its chosen branch before running any); the key's old lease P is
 *    detached and L attached. ignore_lease keeps the key's lease and its attachment. Every
 *    deleted key with lease P is detached from P.
 * 3. lease_grant: `leases.grant(req)`; lease_checkpoint: `leases.applyCheckpoint(entry)`; neither
 *    writes a revision. lease_revoke: `leases.applyRevoke(entry)` returns the attached keys, which the
 *    store deletes in key order in ONE new revision (none: no new revision), with delete events.
 * 4. A refusal is thrown as a KvError (src/lease's LeaseError is one): the entry applies as a
 *    no-op answering that error, on every member alike.
 * 5. `leases.ops()` joins the entry's one batch (with the key/value writes, the meta and the
 *    applied index); once that batch is written, `leases.commit()`. On any failure before the
 *    write the LeaseApply is dropped and nothing changed.
 * Snapshots: `exportItems()` is called in the same synchronous step as the history iterators
 * (one consistent image) and `count` goes into the file's header; a restore calls
 * `beginRestore(batch)`, `add(item)` for each lease item of the file and `commit()` after the
 * restore's batch is written.
 */
import type {LeaseGrantRequest} from '../generated/etcd/etcdserverpb/lease.js'
import type {LeaseCheckpointEntry, LeaseRevokeEntry} from '../generated/raftctl/v1/internal.js'
import type {BatchOp} from '../storage/db.js'
import type {BatchSink} from '../storage/write_types.js'

/** "No lease": the lease of a key put without one. */
export const NO_LEASE = 0n

/** What a read needs: whether a lease exists in the applied state. */
export interface LeaseView {
  exists(id: bigint): boolean
}

/** The lease side of applying ONE log entry (see the module comment). */
export interface LeaseApply extends LeaseView {
  /** Attaches `key` to lease `id` (which exists). */
  attach(id: bigint, key: Uint8Array): void
  /** Detaches `key` from lease `id`; nothing when the lease is gone. */
  detach(id: bigint, key: Uint8Array): void
  grant(req: LeaseGrantRequest): {ID: bigint, TTL: number}
  /** Revokes the entry's lease; returns the keys that were attached to it, in byte order. */
  applyRevoke(entry: LeaseRevokeEntry): Uint8Array[]
  applyCheckpoint(entry: LeaseCheckpointEntry): void
  /** The RocksDB writes of what was staged. */
  ops(): BatchOp[]
  /** Makes the staged changes the applied state; call once the entry's batch is written. */
  commit(): void
}

/** Restores the lease section of a snapshot into the restore's batch. */
export interface LeaseSnapshotRestore {
  /** Checks and writes one lease item of the file; throws SnapshotFileError for a bad one. */
  add(item: Uint8Array): void
  /** Makes the restored leases the applied state; call once the restore's batch is written. */
  commit(): void
}

export interface LeaseHooks extends LeaseView {
  /** The number of leases (the snapshot header's lease count). */
  readonly count: number
  begin(index: number): LeaseApply
  /** The lease items of a snapshot; the database iterator is taken by this call. */
  exportItems(): AsyncIterable<Uint8Array>
  /** Starts restoring a snapshot's lease section: deletes every current lease record into `sink`. */
  beginRestore(sink: BatchSink): Promise<LeaseSnapshotRestore>
}

const unsupported = (what: string): never => {
  throw new Error(`${what}: this key/value store was opened without lease hooks (open it with src/lease openStateMachine)`)
}

/**
 * The hooks of a store opened without leases (tests and tools that never see one): a put without
 * a lease and a snapshot without leases work; anything touching a lease is a programming error
 * and throws a plain Error (never a KvError, so no member can quietly apply it differently).
 */
export const WITHOUT_LEASES: LeaseHooks = {
  count: 0,
  exists: () => unsupported('a lease lookup'),
  begin: () => ({
    exists: () => unsupported('a put with a lease'),
    attach: () => unsupported('a put with a lease'),
    detach: () => unsupported('a key with a lease'),
    grant: () => unsupported('a lease grant'),
    applyRevoke: () => unsupported('a lease revoke'),
    applyCheckpoint: () => unsupported('a lease checkpoint'),
    ops: () => [],
    commit: () => {},
  }),
  exportItems: async function* () {},
  beginRestore: async () => ({add: () => unsupported('a snapshot with leases'), commit: () => {}}),
}

/** A LeaseApply for a read-only txn: it only looks up leases (a read-only txn writes nothing). */
export function readOnlyLeases(view: LeaseView): LeaseApply {
  const write = (): never => {
    throw new Error('a read-only txn must not change leases')
  }
  return {
    exists: (id) => view.exists(id), attach: write, detach: write, grant: write, applyRevoke: write, applyCheckpoint: write,
    ops: () => [], commit: () => {},
  }
}
