/**
 * Opens a node's replicated state machine: the lease state (LeaseStore, the "L/" records) and the
 * key/value store that applies every entry with the leases as its hooks. Every path that opens a
 * data dir to apply entries or restore snapshots goes through here, so no store runs without its
 * leases (a store without them refuses every lease request, see src/kv/lease_hooks.ts).
 */
import {RangeRequest_SortOrder, RangeRequest_SortTarget, type RangeRequest} from '../generated/etcd/etcdserverpb/kv.js'
import {formatLeaseId} from '../kv/errors.js'
import {KvStore, type KvStoreOptions} from '../kv/index.js'
import {StorageCorruptError, type RaftStorage} from '../storage/index.js'
import {attachmentKey, describeLeaseKey} from './records.js'
import {LeaseStore} from './store.js'

export interface StateMachine {
  readonly kv: KvStore
  readonly leases: LeaseStore
}

/**
 * Loads the leases of `storage` and opens the key/value store over them. Refuses with
 * STORAGE_CORRUPT, naming the record, a corrupt "L/" range (LeaseStore.open) and an attachment
 * whose key does not exist or carries another lease (checkAttachments).
 */
export async function openStateMachine(storage: RaftStorage, options: Omit<KvStoreOptions, 'leases'> = {}): Promise<StateMachine> {
  const leases = await LeaseStore.open(storage.db, storage.dir)
  const kv = await KvStore.open(storage, {...options, leases})
  try {
    await checkAttachments(kv, leases, storage.dir)
  } catch (err) {
    await kv.close()
    throw err
  }
  return {kv, leases}
}

const pointRead = (key: Uint8Array): RangeRequest => ({
  key, rangeEnd: new Uint8Array(0), limit: 0, revision: 0, sortOrder: RangeRequest_SortOrder.NONE,
  sortTarget: RangeRequest_SortTarget.KEY, serializable: true, keysOnly: true, countOnly: false,
  minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0,
})

/**
 * Checks that every key attached to a lease exists with that lease (one point read per attached
 * key; the user keys are never scanned), so a revoke deletes what the leases say.
 */
async function checkAttachments(kv: KvStore, leases: LeaseStore, dir: string): Promise<void> {
  for (const lease of leases.list()) {
    for (const key of leases.keysOf(lease.id)) {
      const found = (await kv.range(pointRead(key))).kvs[0]
      if (found?.lease === lease.id) continue
      const problem = found === undefined ? 'the attached key does not exist' : `the key carries lease ${formatLeaseId(found.lease)}`
      throw new StorageCorruptError(dir, describeLeaseKey(attachmentKey(lease.id, key)), problem)
    }
  }
}
