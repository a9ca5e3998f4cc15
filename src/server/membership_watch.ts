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
 *
 * When the node applies its own removal, confirmRemoval asks the peers once before onLost: node
 * ids are reused, so a member added back under its old id, catching up from a snapshot older than
 * its removal, replays that removal before the entry that added it back; a peer that applied at
 * least as much and names it a member again (peer_check.addedBackByPeer) keeps it running.
 */
import {status} from '@grpc/grpc-js'
import type {NodeLogger} from './logger.js'
import {addedBackByPeer, askPeers, checkMembership, type MembershipLostError, type PeerAddress, type SelfView} from './peer_check.js'

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
  private confirming = false
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

  /**
   * The node applied its own removal (`err`): onLost, unless a peer that applied at least as much
   * names it a member again (it was added back; see the module comment). Peers that do not answer
   * prove nothing, so with none answering the node leaves on its own evidence.
   */
  confirmRemoval(err: MembershipLostError): void {
    if (this.lost || this.stopped || this.confirming) return
    this.confirming = true
    const self = this.d.self()
    const timeoutMs = Math.min(3000, 2 * this.d.electionTimeoutMs)
    void askPeers(self, this.d.peers(), timeoutMs).then((answers) => {
      const back = addedBackByPeer(self, answers)
      if (back === undefined) return this.lose(err)
      this.d.log.info({event: 'removal-replayed', applied: self.applied, peer: back.res.nodeId, peerApplied: back.res.appliedIndex},
        `node ${self.id} replayed its own earlier removal (applied index ${self.applied}), but node ${back.res.nodeId} ` +
        `names it a member at index ${back.res.appliedIndex}: it was added back, so it stays`)
    }, () => this.lose(err)).finally(() => { this.confirming = false })
  }

  private lose(err: MembershipLostError): void {
    if (this.lost || this.stopped) return
    this.lost = true
    this.d.onLost(err)
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
      this.lose(err)
    }, (err: unknown) => {
      this.d.log.debug({event: 'membership-check-failed', why, reason: (err as Error).message}, 'could not ask the peers')
    }).finally(() => {
      this.running = false
    })
  }
}
