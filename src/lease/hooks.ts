/**
 * LeaseHooks: what the key/value state machine needs from the leases, written here until src/kv
 * defines it (DESIGN §1: lease → kv → storage, so kv may not import lease; kv will own this
 * interface and LeaseStore will implement it). LeaseStore satisfies it as is.
 *
 * How the state machine uses it, for every normal entry, under the storage's state lock:
 * 1. `const leases = hooks.begin(entry.index)` once per entry.
 * 2. Put with lease L != 0 (not ignore_lease): `leases.exists(L)` else the entry fails with
 *    LEASE_NOT_FOUND (a Txn checks every put of its chosen branch before executing any);
 *    then, when the key's lease changes from P to L: `leases.detach(P, key)` (P != 0) and
 *    `leases.attach(L, key)`. A put with lease 0 of a key that had lease P: `detach(P, key)`.
 * 3. Every deleted key that had lease P (DeleteRange, Txn): `leases.detach(P, key)`.
 * 4. InternalRaftRequest.lease_grant (etcd's LeaseGrantRequest, prepared by prepareGrant):
 *    `leases.grant(req)` → the response's ID and TTL; no revision.
 *    lease_revoke (LeaseRevokeEntry): `const {id, grantedIndex} = revokeOf(e)`, `keys =
 *    leases.revoke(id, grantedIndex)`, then delete each key in that order in ONE new revision
 *    (sub-revisions 0, 1, ...), with delete events; no keys = no new revision.
 *    lease_checkpoint (LeaseCheckpointEntry): `leases.checkpoint(checkpointsOf(e))`; no revision.
 *    A LeaseError makes the entry a no-op answered with that error (ApplyResult.error).
 * 5. Add `leases.ops()` to the entry's one batch (RaftStorage.commitApplied), and after it is
 *    written call `const changes = leases.commit()` and hand `changes` to the server, which
 *    passes them to the Lessor (Lessor.applied). On any error before the write, drop `leases`.
 * Snapshots: `exportItems()` in the same synchronous step as the kv's iterators; restore with
 * `beginRestore(sink)`, `add(item)` per lease item, and `commit()` after the restore batch.
 */
import type {LeaseBatch} from './batch.js'
import type {LeaseId} from './id.js'
import type {LeaseRestore} from './snapshot.js'
import type {BatchSink} from '../storage/index.js'

export interface LeaseHooks {
  /** Whether lease `id` exists in the applied state (e.g. for a serializable check before proposing). */
  exists(id: LeaseId): boolean
  /** The keys attached to `id`, in byte order. */
  keysOf(id: LeaseId): Uint8Array[]
  /** Begins the lease side of applying entry `index`. */
  begin(index: number): LeaseBatch
  /** The lease section of a snapshot (its iterator is taken by this call). */
  exportItems(): AsyncIterable<Uint8Array>
  /** Begins restoring a snapshot's lease section into `sink`. */
  beginRestore(sink: BatchSink): Promise<LeaseRestore>
  /** The number of leases (snapshot header, `snapshot inspect`). */
  readonly count: number
}
