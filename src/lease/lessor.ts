/**
 * Lessor: the leader's timers for leases, as etcd's lessor. Pure logic: no I/O, no timers, no
 * randomness; time comes from an injected monotonic clock (milliseconds), and the replicated
 * facts (which leases exist, their TTL and checkpointed remaining TTL) from a LeaseSource. A thin
 * driver in the server calls it: promote/demote on leadership changes, applied() after each
 * applied batch, keepAlive/timeToLive for clients, and expired()/checkpoints() on an interval,
 * proposing a LeaseRevoke or LeaseCheckpoint entry for what they return.
 *
 * Guarantee (tested as a property): a lease is never reported expired before its TTL has passed
 * since the last acknowledged keep-alive (or the grant's apply), across any number of leader
 * changes. What makes it hold:
 * - a new leader calls promote() only after applying its own first entry of the term (so every
 *   earlier checkpoint and revoke is applied), and gives each lease its checkpointed remaining TTL
 *   (rounded up) or full TTL, plus an extension (the election timeout);
 * - a checkpoint is taken only below the full TTL and rounded up, so it never shortens a lease;
 * - a keep-alive of a lease that has a checkpointed remaining TTL, or a checkpoint in flight,
 *   answers with a `reset`: the caller proposes that checkpoint (remaining TTL 0) and acknowledges
 *   the keep-alive only once it is applied, so no older checkpoint can make a later leader cut the
 *   renewed lease short;
 * - revokes and checkpoints name the grant (its Raft index) they were decided for, so one decided
 *   for a lease never applies to a later lease granted with the same id.
 */
import {DueHeap} from './heap.js'
import type {LeaseId} from './id.js'
import {startTtl, type Checkpoint, type Lease, type LeaseChanges, type LeaseSource} from './types.js'

/** Tuning of the Lessor; every default is etcd 3.4's. */
export interface LessorOptions {
  /**
   * How often a lease's remaining TTL is checkpointed, in ms (etcd --lease-checkpoint-interval,
   * default 5 minutes). Only leases longer than this are checkpointed. 0 turns checkpoints off.
   */
  readonly checkpointIntervalMs?: number
  /** The most expired leases reported per second (etcd's leaseRevokeRate, 1000). */
  readonly revokesPerSecond?: number
  /** The most checkpoints taken per second (etcd's leaseCheckpointRate, 1000). */
  readonly checkpointsPerSecond?: number
  /** The most checkpoints returned by one checkpoints() call (etcd's batch size, 1000). */
  readonly maxCheckpointBatch?: number
  /**
   * A lease reported expired whose revoke has not been applied is reported again after this many
   * ms (etcd's expiredLeaseRetryInterval, 3 s), in case the revoke proposal was lost.
   */
  readonly expiredRetryMs?: number
}

export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5 * 60_000

/** The answer to a keep-alive. */
export type KeepAliveResult =
  /**
   * Renewed for `ttl` seconds. With `reset`, propose it (a checkpoint with remaining TTL 0) and
   * acknowledge the keep-alive only once it is applied; if it cannot be proposed, call
   * checkpointDropped and fail the keep-alive (the client retries).
   */
  | {readonly kind: 'renewed', readonly ttl: number, readonly reset?: Checkpoint}
  /** No such lease (etcd answers TTL 0). */
  | {readonly kind: 'not-found'}
  /** Expired and being revoked: answer once the revoke is applied (then not-found). */
  | {readonly kind: 'expired'}
  /** This member is not the promoted leader: forward the request to the leader. */
  | {readonly kind: 'not-leader'}

/** The answer to a time-to-live query. */
export type TimeToLiveResult =
  | {readonly kind: 'found', readonly ttl: number, readonly grantedTtl: number}
  | {readonly kind: 'not-found'}
  | {readonly kind: 'not-leader'}

/** A lease found expired, for a LeaseRevokeEntry that revokes exactly this grant. */
export interface ExpiredLease {
  readonly ID: LeaseId
  readonly grantedIndex: number
}

/** At most `rate` per second, in bursts of at most rate/2 (etcd takes rate/2 every 500 ms). */
class TokenBucket {
  private tokens: number
  private readonly capacity: number
  constructor(private readonly rate: number, private last: number) {
    this.capacity = Math.max(1, Math.floor(rate / 2))
    this.tokens = this.capacity
  }

  available(now: number): number {
    this.tokens = Math.min(this.capacity, this.tokens + Math.max(0, now - this.last) * this.rate / 1000)
    this.last = Math.max(this.last, now)
    return Math.floor(this.tokens)
  }

  take(n: number): void {
    this.tokens -= n
  }
}

function intOption(name: string, v: number | undefined, dflt: number, min = 1): number {
  const x = v ?? dflt
  if (!Number.isSafeInteger(x) || x < min) throw new RangeError(`lessor option ${name} must be an integer >= ${min}, got ${x}`)
  return x
}

export class Lessor {
  private leader = false
  /** Leader only: when each lease expires (ms on the clock). */
  private readonly expiries = new Map<LeaseId, number>()
  /** When each lease is next due for expired(): its expiry, or a retry after it was reported. */
  private readonly expiryQueue = new DueHeap<LeaseId>()
  private readonly checkpointQueue = new DueHeap<LeaseId>()
  /** Checkpoint entries proposed (or handed out) and not yet applied, per lease. */
  private readonly inFlight = new Map<LeaseId, number>()
  private readonly checkpointIntervalMs: number
  private readonly revokesPerSecond: number
  private readonly maxCheckpointBatch: number
  private readonly expiredRetryMs: number
  private readonly revokeBucket: TokenBucket
  private readonly checkpointBucket: TokenBucket

  constructor(private readonly leases: LeaseSource, private readonly clock: () => number, options: LessorOptions = {}) {
    this.checkpointIntervalMs = intOption('checkpointIntervalMs', options.checkpointIntervalMs, DEFAULT_CHECKPOINT_INTERVAL_MS, 0)
    this.revokesPerSecond = intOption('revokesPerSecond', options.revokesPerSecond, 1000)
    this.maxCheckpointBatch = intOption('maxCheckpointBatch', options.maxCheckpointBatch, 1000)
    this.expiredRetryMs = intOption('expiredRetryMs', options.expiredRetryMs, 3000)
    const now = clock()
    this.revokeBucket = new TokenBucket(this.revokesPerSecond, now)
    this.checkpointBucket = new TokenBucket(intOption('checkpointsPerSecond', options.checkpointsPerSecond, 1000), now)
  }

  /** Whether this member is the promoted leader (keeps leases alive and decides expiry). */
  get isLeader(): boolean {
    return this.leader
  }

  /**
   * Makes this member the one that decides expiry: every lease expires `extendMs` (etcd: the
   * election timeout) after its checkpointed remaining TTL or full TTL from now. Call when the new
   * leader has applied its first entry of its term. With many leases (at least the revoke rate)
   * expiries are spread so that no more than 3/4 of the rate expire in any second (etcd); spreading
   * only ever lengthens a lease.
   */
  promote(extendMs: number): void {
    if (!Number.isFinite(extendMs) || extendMs < 0) throw new RangeError(`lease extension ${extendMs} ms must be >= 0`)
    this.demote()
    this.leader = true
    const now = this.clock()
    for (const lease of this.leases.list()) {
      this.setExpiry(lease.id, now + extendMs + startTtl(lease) * 1000)
      this.scheduleCheckpoint(lease, now)
    }
    if (this.leases.count >= this.revokesPerSecond) this.spreadExpiries(now)
  }

  /** Forgets every expiry and scheduled checkpoint: this member no longer leads. */
  demote(): void {
    this.leader = false
    this.expiries.clear()
    this.expiryQueue.clear()
    this.checkpointQueue.clear()
    this.inFlight.clear()
  }

  /** Follows a committed LeaseBatch: new leases start their TTL now, revoked ones are forgotten. */
  applied(changes: LeaseChanges): void {
    if (!this.leader) return
    const now = this.clock()
    for (const id of changes.revoked) this.forget(id)
    for (const id of changes.checkpointed) this.checkpointSettled(id)
    for (const id of changes.granted) {
      const lease = this.leases.get(id)
      if (lease === undefined) continue
      this.setExpiry(id, now + lease.ttl * 1000)
      this.scheduleCheckpoint(lease, now)
    }
  }

  /**
   * Renews a lease for its full TTL from now (etcd's Renew). See KeepAliveResult for what the
   * caller does with each answer.
   */
  keepAlive(id: LeaseId): KeepAliveResult {
    if (!this.leader) return {kind: 'not-leader'}
    const lease = this.leases.get(id)
    if (lease === undefined) return {kind: 'not-found'}
    const now = this.clock()
    if (now >= (this.expiries.get(id) ?? Infinity)) return {kind: 'expired'}
    this.setExpiry(id, now + lease.ttl * 1000)
    if (lease.remainingTtl === 0 && !this.inFlight.has(id)) return {kind: 'renewed', ttl: lease.ttl}
    this.checkpointProposed(id)
    return {kind: 'renewed', ttl: lease.ttl, reset: {ID: id, remainingTTL: 0, grantedIndex: lease.grantedIndex}}
  }

  /** The seconds a lease has left (whole seconds, rounded down as etcd) and its granted TTL. */
  timeToLive(id: LeaseId): TimeToLiveResult {
    if (!this.leader) return {kind: 'not-leader'}
    const lease = this.leases.get(id)
    const expiry = this.expiries.get(id)
    if (lease === undefined || expiry === undefined) return {kind: 'not-found'}
    return {kind: 'found', ttl: Math.floor(Math.max(0, expiry - this.clock()) / 1000), grantedTtl: lease.ttl}
  }

  /** Leader only: when lease `id` expires on the clock, or undefined. */
  expiryOf(id: LeaseId): number | undefined {
    return this.expiries.get(id)
  }

  /**
   * The leases that expired, for the caller to propose a LeaseRevokeEntry each (with the granted
   * index): at most the revoke rate per second. A reported lease is reported again after
   * expiredRetryMs until its revoke applies.
   */
  expired(): ExpiredLease[] {
    if (!this.leader) return []
    const now = this.clock()
    const budget = this.revokeBucket.available(now)
    const out: ExpiredLease[] = []
    for (let top = this.expiryQueue.peek(); top !== undefined && top.time <= now && out.length < budget; top = this.expiryQueue.peek()) {
      const lease = this.leases.get(top.key)
      if (lease === undefined) {
        this.forget(top.key)
        continue
      }
      out.push({ID: lease.id, grantedIndex: lease.grantedIndex})
      this.expiryQueue.set(top.key, now + this.expiredRetryMs)
    }
    this.revokeBucket.take(out.length)
    return out
  }

  /**
   * The remaining TTLs due for a checkpoint, for the caller to propose as one LeaseCheckpoint
   * entry: each lease longer than the interval once per interval, rounded up to whole seconds and
   * only when below the full TTL; at most maxCheckpointBatch per call and the checkpoint rate.
   */
  checkpoints(): Checkpoint[] {
    if (!this.leader || this.checkpointIntervalMs === 0) return []
    const now = this.clock()
    const budget = Math.min(this.maxCheckpointBatch, this.checkpointBucket.available(now))
    const out: Checkpoint[] = []
    for (let top = this.checkpointQueue.peek(); top !== undefined && top.time <= now && out.length < budget; top = this.checkpointQueue.peek()) {
      const id = top.key
      const lease = this.leases.get(id)
      const expiry = this.expiries.get(id)
      if (lease === undefined || expiry === undefined) {
        this.checkpointQueue.delete(id)
        continue
      }
      this.checkpointQueue.set(id, now + this.checkpointIntervalMs)
      const remaining = Math.ceil((expiry - now) / 1000)
      if (remaining <= 0 || remaining >= lease.ttl) continue
      out.push({ID: id, remainingTTL: remaining, grantedIndex: lease.grantedIndex})
      this.checkpointProposed(id)
    }
    this.checkpointBucket.take(out.length)
    return out
  }

  /**
   * Tells the lessor that a checkpoint it handed out (checkpoints() or a keep-alive's reset) will
   * never be applied: its proposal was refused. Without this call the lessor stays safe but asks
   * for a reset on every keep-alive of that lease until the next leader change.
   */
  checkpointDropped(id: LeaseId): void {
    this.checkpointSettled(id)
  }

  private checkpointProposed(id: LeaseId): void {
    this.inFlight.set(id, (this.inFlight.get(id) ?? 0) + 1)
  }

  /** One checkpoint handed out for `id` was applied or dropped. */
  private checkpointSettled(id: LeaseId): void {
    const n = (this.inFlight.get(id) ?? 0) - 1
    if (n > 0) this.inFlight.set(id, n)
    else this.inFlight.delete(id)
  }

  private setExpiry(id: LeaseId, time: number): void {
    this.expiries.set(id, time)
    this.expiryQueue.set(id, time)
  }

  private forget(id: LeaseId): void {
    this.expiries.delete(id)
    this.expiryQueue.delete(id)
    this.checkpointQueue.delete(id)
    this.inFlight.delete(id)
  }

  private scheduleCheckpoint(lease: Lease, now: number): void {
    if (this.checkpointIntervalMs > 0 && startTtl(lease) * 1000 > this.checkpointIntervalMs) {
      this.checkpointQueue.set(lease.id, now + this.checkpointIntervalMs)
    }
  }

  /**
   * etcd's pile-up avoidance after promote: walking leases by expiry, once more than 3/4 of the
   * revoke rate would expire within one second, later ones are pushed back in proportion. Never
   * moves an expiry earlier.
   */
  private spreadExpiries(now: number): void {
    const sorted = [...this.expiries].sort((a, b) => a[1] - b[1])
    const target = Math.max(1, Math.floor(3 * this.revokesPerSecond / 4))
    let baseWindow = sorted[0][1] - now
    let nextWindow = baseWindow + 1000
    let expires = 0
    for (const [id, expiry] of sorted) {
      const remaining = expiry - now
      if (remaining > nextWindow) {
        baseWindow = remaining
        nextWindow = baseWindow + 1000
        expires = 1
        continue
      }
      expires += 1
      if (expires <= target) continue
      const delay = Math.max(0, 1000 * expires / target - (remaining - baseWindow))
      nextWindow = baseWindow + delay
      this.setExpiry(id, expiry + delay)
    }
  }
}
