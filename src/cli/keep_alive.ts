/**
 * One lease keep-alive over etcd's LeaseKeepAlive stream, as `lease keep-alive` sends them: a
 * stream per request, so a broken connection costs one request, never a stuck stream.
 */
import type {LeaseKeepAliveResponse} from '../generated/etcd/etcdserverpb/lease.js'
import type {EtcdClient} from '../client/concurrency/index.js'

/**
 * Sends one keep-alive for `id` and resolves with the answer (TTL <= 0: the lease does not
 * exist). Rejects when the stream fails, ends without an answer, or nothing came within `timeoutMs`.
 */
export function keepAliveOnce(client: EtcdClient, id: bigint, timeoutMs: number): Promise<LeaseKeepAliveResponse> {
  return new Promise((resolve, reject) => {
    const stream = client.keepAliveStream()
    let settled = false
    const finish = (f: () => void): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      stream.cancel()
      f()
    }
    const timer = setTimeout(() => finish(() => reject(new Error(`no keep-alive answer from ${client.endpoint} within ${timeoutMs} ms`))), timeoutMs)
    stream.on('data', (res: LeaseKeepAliveResponse) => finish(() => resolve(res)))
    stream.on('error', (err: Error) => finish(() => reject(err)))
    stream.on('end', () => finish(() => reject(new Error('the keep-alive stream ended without an answer'))))
    stream.write({ID: id})
  })
}
