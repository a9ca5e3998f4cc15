/**
 * The running node's side of peer_check.ts: it asks the peers again whether this node still
 * belongs when
 * - a peer refuses this node's messages as not a member (PERMISSION_DENIED: removed, or not yet
 *   added as that peer knows it) or as another cluster's or another node's (FAILED_PRECONDITION);
 * - the node has known no leader for LEADERLESS_ELECTIONS election timeouts (a member removed
 *   while it was cut off hears from nobody afterwards, and a learner never campaigns).
 * At most one check runs at a time and checks start at least minIntervalMs apart, so a peer that
 * keeps refusing costs one round of Identify calls per interval. A check that finds the node
 * removed or of another cluster calls onLost once; the node then stops (node.ts).
 */
import {status} from '@grpc/grpc-js'
import type {NodeLogger} from './logger.js'
import {checkMembership, type MembershipLostError, type PeerAddress, type SelfView} from './peer_check.js'

/** Election timeouts without a leader after which the peers are asked. */
export const LEADERLESS_ELECTIONS = 3

export interface WatchDeps {
  readonly self: () => SelfView
  readonly peers: () => PeerAddress[]
  /** Milliseconds since the node last knew a leader, or undefined while it knows one. */
  readonly leaderlessForMs: () => number | undefined
  readonly electionTimeoutMs: number
  readonly log: NodeLogger
  readonly onLost: (err: MembershipLostError) => void
}

export class MembershipWatch {
  /** Least time between the starts of two checks. */
  readonly minIntervalMs: number
  private timer: NodeJS.Timeout | undefined
  private running = false
  private lastStart = Number.NEGATIVE_INFINITY
  private lost = false
  private stopped = false

  constructor(private readonly d: WatchDeps) {
    this.minIntervalMs = Math.max(2000, 4 * d.electionTimeoutMs)
  }

  /** Starts watching for a long leaderless time. */
  start(): void {
    const leaderlessMs = LEADERLESS_ELECTIONS * this.d.electionTimeoutMs
    this.timer = setInterval(() => {
      const ms = this.d.leaderlessForMs()
      if (ms !== undefined && ms >= leaderlessMs) this.check(`no leader for ${ms} ms`)
    }, Math.max(500, this.d.electionTimeoutMs))
    this.timer.unref()
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) clearInterval(this.timer)
  }

  /** A peer refused this node's message stream (PeerTransport.onRefused). */
  onRefused(peer: number, code: status, reason: string): void {
    if (code === status.PERMISSION_DENIED || code === status.FAILED_PRECONDITION) {
      this.check(`node ${peer} refused this node's messages (${status[code]}: ${reason})`)
    }
  }

  /** Asks the peers now, unless a check runs, started less than minIntervalMs ago, or found a loss. */
  check(why: string): void {
    const now = Date.now()
    if (this.running || this.lost || this.stopped || now - this.lastStart < this.minIntervalMs) return
    this.running = true
    this.lastStart = now
    const timeoutMs = Math.min(this.minIntervalMs, 3000)
    checkMembership(this.d.self(), this.d.peers(), timeoutMs).then((err) => {
      if (err === undefined || this.stopped) {
        this.d.log.debug({event: 'membership-checked', why}, 'asked the peers: this node still belongs')
        return
      }
      this.lost = true
      this.d.onLost(err)
    }, (err: unknown) => {
      this.d.log.debug({event: 'membership-check-failed', why, reason: (err as Error).message}, 'could not ask the peers')
    }).finally(() => {
      this.running = false
    })
  }
}
