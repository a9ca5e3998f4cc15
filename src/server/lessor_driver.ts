/**
 * The Lessor driver: runs the pure Lessor (src/lease) on a running node. Every member runs one,
 * but only the leader's decides anything:
 *
 * - Promote: once this node leads AND has applied an entry of its own term (its first entry, so
 *   every checkpoint and revoke of earlier terms is applied), the Lessor is promoted: every lease
 *   gets its checkpointed remaining TTL (or full TTL) plus one election timeout from now, as
 *   etcd's Promote, so no lease expires because of an election. Demote as soon as this node no
 *   longer leads: it forgets every expiry.
 * - Every tick (500 ms, as etcd's lessor loop, or half an election timeout when that is shorter)
 *   the leader proposes one LeaseRevoke entry per
 *   expired lease (naming the grant it found expired, so a later grant of the same id is never
 *   revoked by it) and one LeaseCheckpoint entry for the remaining TTLs that are due
 *   (--lease-checkpoint-interval, etcd's --experimental-lease-checkpoint-interval: 5 minutes). A checkpoint whose proposal
 *   certainly never reached the log is handed back (checkpointDropped); one with an unknown
 *   outcome is not, which keeps keep-alives asking for a reset (safe) until the next election.
 * - Applied lease changes (grants, revokes, checkpoints) and snapshot restores reach the Lessor
 *   through the LeaseStore's listener; a restore on the leader promotes again.
 * Time comes from a monotonic clock (performance.now); apply never reads it.
 */
import {randomBytes} from 'node:crypto'
import {checkpointEntry, type GrantPolicy, Lessor, type LessorOptions, minLeaseTtl, revokeEntry, type LeaseStore} from '../lease/index.js'
import {NodeError} from './errors.js'
import type {NodeLogger} from './logger.js'
import type {RaftNode} from './node.js'
import {proposeKv} from './requests.js'

/** etcd's lessor loop interval; a node with a short election timeout ticks twice per election timeout. */
export const LESSOR_TICK_MS = 500
/** How long a revoke or checkpoint proposal of the driver may take before it counts as failed. */
const PROPOSE_TIMEOUT_MS = 10_000

export interface LessorDriverOptions extends LessorOptions {
  /** The tick (default LESSOR_TICK_MS). */
  readonly tickMs?: number
}

/** 64 random bits from the operating system's CSPRNG (lease ids the proposer chooses). */
const random64 = (): bigint => randomBytes(8).readBigUInt64BE(0)

export class LessorDriver {
  readonly lessor: Lessor
  /** How grants are prepared on this node: the minimum TTL from the election timeout, random ids. */
  readonly grantPolicy: GrantPolicy
  private timer: NodeJS.Timeout | undefined
  private unlisten: (() => void) | undefined
  private promotedTerm = 0
  private readonly waiters = new Set<() => void>()
  private readonly tickMs: number

  constructor(private readonly node: RaftNode, readonly leases: LeaseStore, private readonly log: NodeLogger, options: LessorDriverOptions = {}) {
    this.lessor = new Lessor(leases, () => performance.now(), options)
    this.grantPolicy = {minTtl: minLeaseTtl(node.config.electionTicks, node.config.tickMs), random64}
    this.tickMs = options.tickMs ?? Math.max(1, Math.min(LESSOR_TICK_MS, Math.floor(node.electionTimeoutMs / 2)))
  }

  /** Starts following leadership and applied changes. */
  start(): void {
    this.unlisten = this.leases.listen({
      applied: (changes) => this.lessor.applied(changes),
      restored: () => {
        if (this.lessor.isLeader) this.promote()
      },
    })
    this.timer = setInterval(() => this.tick(), this.tickMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.unlisten?.()
    this.lessor.demote()
    for (const w of [...this.waiters]) w()
  }

  /**
   * Brings the Lessor in line with leadership now (see the module comment); true when it is
   * promoted. Called every tick and by the Lease service before answering.
   */
  sync(): boolean {
    const leads = this.node.isLeader
    if (!leads) {
      if (this.lessor.isLeader) {
        this.lessor.demote()
        this.promotedTerm = 0
        this.log.info({event: 'lessor-demoted'}, 'lessor demoted: this node no longer leads, so it no longer decides lease expiry')
      }
      return false
    }
    const term = this.node.currentTerm
    if (this.lessor.isLeader && this.promotedTerm === term) return true
    if (this.node.storage.applied.term !== term) return false
    this.promotedTerm = term
    this.promote()
    for (const w of [...this.waiters]) w()
    return true
  }

  /**
   * Waits until this node's Lessor is promoted (true) or this node no longer leads or `timeoutMs`
   * passed (false).
   */
  async whenPromoted(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (this.sync()) return true
      if (!this.node.isLeader) return false
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.waiters.delete(done)
          clearTimeout(t)
          resolve()
        }
        const t = setTimeout(done, Math.min(50, Math.max(1, deadline - Date.now())))
        this.waiters.add(done)
      })
    }
    return this.sync()
  }

  private promote(): void {
    this.lessor.promote(this.node.electionTimeoutMs)
    this.log.info({event: 'lessor-promoted', term: this.node.currentTerm, leases: this.leases.count},
      `lessor promoted: this leader decides lease expiry (${this.leases.count} leases, each extended by the election timeout)`)
  }

  private tick(): void {
    if (!this.sync()) return
    for (const e of this.lessor.expired()) {
      void this.propose('revoke', {leaseRevoke: revokeEntry(e.ID, e.grantedIndex)}, () => {})
    }
    const cps = this.lessor.checkpoints()
    if (cps.length > 0) {
      void this.propose('checkpoint', {leaseCheckpoint: checkpointEntry(cps)}, () => {
        for (const c of cps) this.lessor.checkpointDropped(c.ID)
      })
    }
  }

  /**
   * Proposes a lease entry of the leader; `dropped` runs when it certainly never reached the log.
   * A revoke of a lease that is gone already is no failure.
   */
  private async propose(what: string, req: Parameters<typeof proposeKv>[1], dropped: () => void): Promise<void> {
    try {
      await proposeKv(this.node, req, PROPOSE_TIMEOUT_MS)
    } catch (err) {
      if ((err as {code?: string}).code === 'LEASE_NOT_FOUND') return
      if (err instanceof NodeError && err.retrySafe) dropped()
      this.log.warn({event: 'lessor-propose-failed', what, reason: (err as Error).message},
        `the lessor's ${what} proposal failed; the lessor asks again`)
    }
  }
}
