/**
 * The cluster id of a new cluster, derived from its founding members so that nodes started
 * separately with the same --initial-cluster agree on it without talking to each other (as etcd
 * derives its cluster id from the initial member set). Nodes that join an existing cluster learn
 * the id from the cluster instead (server/join.ts). It lives in storage because both the server's
 * bootstrap and the offline `snapshot restore` create data dirs with it.
 */
import {createHash} from 'node:crypto'

/**
 * Returns a cluster id in 1..2^48-1: the first 48 bits of the SHA-256 of the members sorted by id
 * and written "id=host:port" joined by commas. The same member set always gives the same id; the
 * order in which members were listed does not matter.
 */
export function clusterIdFor(members: ReadonlyArray<{readonly id: number, readonly peerUrl: string}>): number {
  const canonical = [...members].sort((a, b) => a.id - b.id).map((m) => `${m.id}=${m.peerUrl}`).join(',')
  const digest = createHash('sha256').update(canonical).digest()
  const id = digest.readUIntBE(0, 6)
  return id === 0 ? 1 : id
}
