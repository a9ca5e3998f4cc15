/**
 * Auto-compaction, as etcd 3.4's v3compactor (--auto-compaction-mode, --auto-compaction-retention).
 * It runs on every node but acts only while the node leads: the leader proposes a
 * CompactionRequest entry, so every member compacts the same revision when it applies it.
 *
 * - periodic, retention P: every P/10 (at most 6 minutes, for P above an hour) it records the
 *   store revision and keeps the last P/(P/10) + 1 of them, so the oldest is the revision of
 *   about P ago. Once P has passed since it started (or since its last compaction, then every
 *   min(P, 1 hour)), it compacts to that oldest revision.
 * - revision, retention N: every check interval (etcd's 5 minutes) it compacts to revision - N
 *   when that is above 0 and differs from the last one it compacted.
 * A compaction refused as already compacted counts as done (another leader did it); any other
 * failure is logged and retried at the next interval. Time never enters apply: the entry carries
 * the revision.
 */
import type {AutoCompactionConfig} from './config.js'
import type {NodeLogger} from './logger.js'
import type {RaftNode} from './node.js'
import {proposeKv} from './requests.js'

/** What the compactor needs from the node. */
export interface CompactorHost {
  /** Whether this node leads now (only a leader proposes). */
  isLeader(): boolean
  /** The store's current revision. */
  revision(): number
  /** Proposes a compaction to `revision` and waits until it is applied. */
  compact(revision: number): Promise<void>
  /** Logs an event. */
  log(level: 'info' | 'warn', fields: Record<string, unknown>, message: string): void
}

export type {AutoCompactionConfig, AutoCompactionMode} from './config.js'

const HOUR_MS = 3_600_000
/** etcd's retryDivisor: a periodic compactor samples the revision 10 times per period. */
const SAMPLES_PER_PERIOD = 10
/** etcd's revision-mode interval. */
export const REVISION_CHECK_MS = 5 * 60_000

/** The sampling interval, compaction interval and number of samples kept of a periodic compactor. */
export function periodicPlan(periodMs: number): {sampleMs: number, compactMs: number, samples: number} {
  const compactMs = Math.min(periodMs, HOUR_MS)
  const sampleMs = Math.max(1, Math.floor(compactMs / SAMPLES_PER_PERIOD))
  return {sampleMs, compactMs, samples: Math.floor(periodMs / sampleMs) + 1}
}

const isCompacted = (err: unknown): boolean => (err as {code?: string}).code === 'COMPACTED'

export class AutoCompactor {
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private readonly revs: number[] = []
  private lastSuccess = Date.now()
  private baseMs: number
  private prevRevision = 0

  constructor(private readonly cfg: AutoCompactionConfig, private readonly host: CompactorHost, private readonly now: () => number = Date.now) {
    this.baseMs = cfg.retention
    this.lastSuccess = now()
  }

  /** Starts the loop (nothing when the retention is 0). */
  start(): void {
    if (this.cfg.retention <= 0 || this.stopped) return
    if (this.cfg.mode === 'periodic') this.samplePeriodic()
    else this.schedule(this.cfg.checkIntervalMs, () => this.checkRevision())
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
  }

  private schedule(ms: number, fn: () => Promise<void>): void {
    if (this.stopped) return
    this.timer = setTimeout(() => void fn(), ms)
    this.timer.unref()
  }

  /** One periodic step: record the revision, wait a sample interval, maybe compact. */
  private samplePeriodic(): void {
    const plan = periodicPlan(this.cfg.retention)
    this.revs.push(this.host.revision())
    if (this.revs.length > plan.samples) this.revs.shift()
    this.schedule(plan.sampleMs, async () => {
      if (this.host.isLeader() && this.now() - this.lastSuccess >= this.baseMs) {
        if (this.baseMs === this.cfg.retention) this.baseMs = plan.compactMs
        if (await this.run(this.revs[0], {retentionMs: this.cfg.retention})) this.lastSuccess = this.now()
      }
      this.samplePeriodic()
    })
  }

  /** One revision-mode check. */
  private async checkRevision(): Promise<void> {
    const rev = this.host.revision() - this.cfg.retention
    if (this.host.isLeader() && rev > 0 && rev !== this.prevRevision) {
      if (await this.run(rev, {retentionRevisions: this.cfg.retention})) this.prevRevision = rev
    }
    this.schedule(this.cfg.checkIntervalMs, () => this.checkRevision())
  }

  /** Compacts to `rev`; true when done (or already compacted). */
  private async run(rev: number, fields: Record<string, number>): Promise<boolean> {
    this.host.log('info', {event: 'auto-compaction-start', revision: rev, mode: this.cfg.mode, ...fields}, `auto-compaction to revision ${rev}`)
    try {
      await this.host.compact(rev)
      this.host.log('info', {event: 'auto-compaction-done', revision: rev}, `auto-compaction to revision ${rev} applied`)
      return true
    } catch (err) {
      if (isCompacted(err)) return true
      this.host.log('warn', {event: 'auto-compaction-failed', revision: rev, reason: (err as Error).message},
        `auto-compaction to revision ${rev} failed; retrying at the next interval`)
      return false
    }
  }
}

/** The auto-compactor of a running node: proposes through the node's log while it leads. */
export function nodeAutoCompactor(node: RaftNode, cfg: AutoCompactionConfig, log: NodeLogger): AutoCompactor {
  return new AutoCompactor(cfg, {
    isLeader: () => node.isLeader,
    revision: () => node.kv.revision,
    compact: async (revision) => {
      await proposeKv(node, {compaction: {revision, physical: false}}, COMPACT_TIMEOUT_MS)
    },
    log: (level, fields, message) => log[level](fields, message),
  })
}

/** How long an auto-compaction proposal may take before it counts as failed (retried later). */
const COMPACT_TIMEOUT_MS = 10_000
