/**
 * The vocabulary of raftctl's leases, shared by the replicated state (LeaseStore), the
 * leader-side timers (Lessor) and the proposer (prepareGrant). TTLs are whole seconds (`number`);
 * ids are `bigint` (id.ts).
 */
import {LeaseError} from './errors.js'
import {isInt64, NO_LEASE, type LeaseId} from './id.js'

export {formatLeaseId, isInt64, NO_LEASE, type LeaseId} from './id.js'

/** etcd's MaxLeaseTTL: the largest TTL a lease can be granted with, in seconds. */
export const MAX_LEASE_TTL = 9_000_000_000

/** One lease of the replicated state. */
export interface Lease {
  readonly id: LeaseId
  /** The TTL it was granted with, in seconds (1..MAX_LEASE_TTL). */
  readonly ttl: number
  /**
   * The remaining TTL in seconds recorded by the leader's last checkpoint; 0 when none was
   * recorded since the lease was granted or last kept alive (a new leader then uses `ttl`).
   */
  readonly remainingTtl: number
  /**
   * The Raft index of the entry that granted it: tells this lease from an earlier or later one
   * with the same id, so a revoke or checkpoint decided for one never applies to another.
   */
  readonly grantedIndex: number
}

/**
 * The read side of the replicated lease state that the Lessor needs. LeaseStore implements it;
 * the Lessor never changes it (changes come only from applied log entries).
 */
export interface LeaseSource {
  /** The lease `id` as applied, or undefined when it does not exist. */
  get(id: LeaseId): Lease | undefined
  /** Every lease as applied, in no particular order. */
  list(): Iterable<Lease>
  /** The number of leases. */
  readonly count: number
}

/** What a committed LeaseBatch changed, for the Lessor (leader-side timers). */
export interface LeaseChanges {
  readonly granted: readonly LeaseId[]
  readonly revoked: readonly LeaseId[]
  /** Leases whose checkpointed remaining TTL was set (0 = cleared by a keep-alive). */
  readonly checkpointed: readonly LeaseId[]
}

/** A grant as it is applied: the proposer already chose the id and raised the TTL to the minimum. */
export interface GrantRequest {
  readonly ID: bigint
  readonly TTL: number
}

/** One checkpoint of a LeaseCheckpointEntry: etcd's LeaseCheckpoint and the grant it is for. */
export interface Checkpoint {
  readonly ID: bigint
  readonly remainingTTL: number
  /** The Raft index of the grant of the lease the leader took it for. */
  readonly grantedIndex: number
}

/** The TTL a new leader starts a lease with: the checkpointed remaining TTL, else the full TTL. */
export const startTtl = (lease: Lease): number => lease.remainingTtl > 0 ? lease.remainingTtl : lease.ttl

/**
 * Checks an id that names an existing lease (revoke, keep-alive, attach): an int64 other than 0.
 * 0 and out-of-range ids can name no lease, so they are "not found", as etcd answers.
 */
export function checkLeaseId(id: bigint): LeaseId {
  if (id === NO_LEASE || !isInt64(id)) throw LeaseError.notFound(id)
  return id
}
