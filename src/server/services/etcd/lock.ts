/**
 * etcd's Lock service (v3lockpb.Lock) as etcd 3.4's v3lock server runs it: each call runs the
 * Mutex recipe (src/client/concurrency/mutex.ts) through an etcd client of the server's own
 * client port (recipes.ts), so its locks are the same keys as those of etcdctl lock and of every
 * clientv3 Mutex. test/server/etcd_lock.test.ts compares its answers with etcd's own service.
 *
 * - Lock(name, lease) waits until the lease's key `<name>/<lease hex>` is the oldest under
 *   `<name>/` and answers that key and the header of the read that saw it so. The lease is the
 *   caller's: the service never keeps it alive. Lease 0 makes the server grant a lease of 60 s
 *   that nobody keeps alive (etcd does the same). A call cancelled, or past its deadline, while
 *   waiting deletes its key.
 * - Unlock(key) deletes the key, whatever it is (etcd does not check that it is a lock key), and
 *   answers the delete's header.
 */
import type {Server} from '@grpc/grpc-js'
import {detachedLease, Mutex} from '../../../client/concurrency/index.js'
import {deleteRequest} from '../../../client/concurrency/etcd.js'
import {
  type LockRequest, type LockResponse, type LockServer, LockService, type UnlockRequest, type UnlockResponse,
} from '../../../generated/etcd/v3lockpb/v3lock.js'
import {checkedDecoding} from '../common.js'
import {type EtcdClientFactory, InnerClient, recipeUnary, type RecipeServices} from './recipes.js'

/** The Lock service's handlers over `inner`. */
export function lockService(inner: InnerClient): LockServer {
  return {
    lock: recipeUnary(async (req: LockRequest, signal): Promise<LockResponse> => {
      const holder = await detachedLease(inner.get(), req.lease, signal)
      const m = new Mutex(holder, req.name)
      await m.lock(signal)
      return {header: m.header, key: m.key}
    }),
    unlock: recipeUnary(async (req: UnlockRequest, signal): Promise<UnlockResponse> => {
      const res = await inner.get().deleteRange(deleteRequest(req.key), signal)
      return {header: res.header}
    }),
  }
}

/**
 * Registers v3lockpb.Lock on `server`, its calls served through clients made by `connect` (an
 * etcd client of this server's own client port). Returns a handle whose close() closes that client.
 */
export function registerLockService(server: Server, connect: EtcdClientFactory): RecipeServices {
  const inner = new InnerClient(connect)
  server.addService(checkedDecoding(LockService), lockService(inner))
  return inner
}
