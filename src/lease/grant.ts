/**
 * What the member that receives a LeaseGrant does before proposing it, so that the entry alone
 * decides the outcome on every member (apply reads no clock, no configuration, no randomness):
 * check the TTL, raise it to the minimum, and choose an id when the client left it 0.
 */
import {LeaseError} from './errors.js'
import {NO_LEASE, type LeaseId} from './id.js'
import {MAX_LEASE_TTL} from './types.js'

/**
 * etcd's minimum lease TTL in seconds: 1.5 election timeouts, computed as etcd does from the
 * election ticks and the tick (etcd's heartbeat interval): ceil(floor(3 * electionTicks / 2) *
 * tickMs / 1000). A lease shorter than that could expire during an election. etcd's defaults
 * (10 ticks of 100 ms) give 2 s; raftctl's are the same.
 */
export function minLeaseTtl(electionTicks: number, tickMs: number): number {
  for (const [name, v] of [['election ticks', electionTicks], ['tick ms', tickMs]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`)
  }
  return Math.ceil(Math.floor(3 * electionTicks / 2) * tickMs / 1000)
}

/** Draws from `random64` (64 random bits) until the low 63 bits are not 0; throws after 64 zero draws. */
export function chooseLeaseId(random64: () => bigint): LeaseId {
  for (let i = 0; i < 64; i++) {
    const id = BigInt.asUintN(63, random64())
    if (id !== NO_LEASE) return id
  }
  throw new Error('the random source gave 0 sixty-four times in a row; cannot choose a lease id')
}

/** How a proposer prepares grants. */
export interface GrantPolicy {
  /** The minimum TTL in seconds (minLeaseTtl). */
  readonly minTtl: number
  /** 64 random bits (the server passes a crypto source). */
  readonly random64: () => bigint
}

/**
 * Checks a client's LeaseGrant and returns the request to propose: the TTL raised to the minimum
 * (etcd), the id chosen when it is 0 (a random positive 63-bit id). A TTL that is not a positive
 * integer is refused (LEASE_TTL_NOT_POSITIVE; etcd would silently use its minimum), one above
 * MAX_LEASE_TTL too (LEASE_TTL_TOO_LARGE, etcd's "too large lease TTL"). A client-chosen id may be
 * any int64 but 0, negative ones included, as etcd accepts; whether it exists is decided at apply.
 */
export function prepareGrant(req: {readonly ID: bigint, readonly TTL: number}, policy: GrantPolicy): {ID: LeaseId, TTL: number} {
  if (!Number.isSafeInteger(req.TTL) || req.TTL <= 0) throw LeaseError.ttlNotPositive(req.TTL)
  if (req.TTL > MAX_LEASE_TTL) throw LeaseError.ttlTooLarge(req.TTL, MAX_LEASE_TTL)
  const ID = req.ID === NO_LEASE ? chooseLeaseId(policy.random64) : req.ID
  return {ID, TTL: Math.max(req.TTL, policy.minTtl)}
}
