/**
 * The state hash of a node's key/value data, like etcd's HashKV: replicas that applied the same
 * index must report the same hash, so comparing it across members finds a diverged replica.
 *
 * Invariant: the iterator (which holds an implicit RocksDB snapshot), the revision and the applied
 * index are captured together under the state lock, so the hash describes exactly the state at
 * that applied index even while later entries apply.
 */
import {createHash} from 'node:crypto'
import {prefixRangeEnd, USER_PREFIX} from '../storage/keys.js'
import type {KvStore} from './store.js'

/** A hash of the key/value data and the point of the log it describes. */
export interface KvHash {
  /** Hex SHA-256 over every user key and its stored value, in key order. */
  readonly hash: string
  readonly revision: number
  readonly appliedIndex: number
}

/**
 * Hashes every user key with its stored value (the encoded KeyValue: value, create and mod
 * revision, version). Each key and value is prefixed by its length, so no two different key
 * sets give the same byte stream. The revision is not hashed: it is returned beside the hash.
 */
export async function hashKv(store: KvStore): Promise<KvHash> {
  const {revision, appliedIndex, iter} = await store.storage.exclusive(() => ({
    revision: store.revision,
    appliedIndex: store.appliedIndex,
    iter: store.db.iterate({gte: USER_PREFIX, lt: prefixRangeEnd(USER_PREFIX)}),
  }))
  const h = createHash('sha256')
  const len = Buffer.alloc(4)
  for await (const [k, v] of iter) {
    len.writeUInt32BE(k.length)
    h.update(len).update(k)
    len.writeUInt32BE(v.length)
    h.update(len).update(v)
  }
  return {hash: h.digest('hex'), revision, appliedIndex}
}
