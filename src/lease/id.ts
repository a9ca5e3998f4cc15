/**
 * Lease ids: etcd's int64. Any value but 0 (NO_LEASE) a client chose, or a random positive 63-bit
 * value the proposing member chose. Ids are `bigint` everywhere, because etcd's ids exceed 2^53
 * and a `number` would round them silently.
 */

/** A lease id (etcd's int64). */
export type LeaseId = bigint

/** "No lease": a key without a lease carries this id, and a grant with it lets the server choose. */
export {NO_LEASE} from '../kv/lease_hooks.js'

const INT64_MIN = -(1n << 63n)
const INT64_MAX = (1n << 63n) - 1n

/** Whether `id` fits etcd's int64 lease id. */
export const isInt64 = (id: bigint): boolean => id >= INT64_MIN && id <= INT64_MAX

/** An id as etcdctl prints it: lower-case hex, two's complement for a negative id. */
export {formatLeaseId} from '../kv/errors.js'
