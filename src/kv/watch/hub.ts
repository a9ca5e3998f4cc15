/**
 * The watch hub: delivers the store's events to watchers, as etcd's watchable store does.
 *
 * Every watcher is in exactly one of three sets (or done):
 * - synced: it has been given every matching event up to the last published revision. It sits
 *   in a WatcherGroup (key map + interval tree), and publish() hands each event only to the
 *   watchers whose key or range holds it.
 * - unsynced: it must first read revisions [nextRevision, revision] from the store's history.
 *   A background loop reads bounded chunks for up to `maxWatchersPerRound` watchers at a time
 *   (one read for all of them) and moves each to synced once it reached the current revision.
 * - victims: its consumer fell behind (its queue was full when an event came). It keeps its
 *   queue but gets nothing more until the consumer has taken it down to half the bound; then it
 *   catches up from history like an unsynced watcher. A slow watcher therefore never blocks
 *   publish(), never holds more than its bound, and is never canceled for being slow.
 *
 * A watcher whose next revision is below the compact revision ends with a `compacted` item (etcd
 * cancels it with compact_revision). A watch that starts after the current revision is synced at
 * once and gets events from its start revision on.
 *
 * The store must call publish(revision, events) once per applied revision, in order, right after
 * its `revision` became that revision (same synchronous step), and resync() after its whole state
 * was replaced (a snapshot was installed).
 */
import type {Event} from '../../generated/etcd/mvccpb/kv.js'
import {keyString} from '../range.js'
import {type ChunkLimits, type ChunkResult, readChunk, type WatchSource} from './catchup.js'
import {WatcherGroup} from './matcher.js'
import {ITEM_OVERHEAD, itemBytes, selectEvents, type WatchItem, Watcher, type WatcherOwner, type WatchSpec} from './watcher.js'

export interface WatchHubOptions {
  /** Bound of each watcher's queue, in estimated bytes (default 2 MiB). */
  readonly maxPendingBytes?: number
  /** Largest catch-up item, in estimated bytes, unless one revision is larger (default 1 MiB). */
  readonly maxBatchBytes?: number
  /** Revisions read per catch-up chunk (default 1000, etcd's limit per catch-up response). */
  readonly chunkRevisions?: number
  /** Event bytes read per catch-up chunk (default 4 MiB). */
  readonly chunkBytes?: number
  /** Unsynced watchers served per catch-up round (default 512, as etcd). */
  readonly maxWatchersPerRound?: number
}

const DEFAULTS = {maxPendingBytes: 2 << 20, maxBatchBytes: 1 << 20, chunkRevisions: 1000, chunkBytes: 4 << 20, maxWatchersPerRound: 512}

/** Counts of watchers per set, for tests and metrics. */
export interface WatchHubStats {
  readonly synced: number
  readonly unsynced: number
  readonly victims: number
}

export class WatchHub implements WatcherOwner {
  private readonly synced = new WatcherGroup<Watcher>()
  /** In the order they are served (a watcher that needs another round goes to the back). */
  private readonly unsynced = new Set<Watcher>()
  private readonly victims = new Set<Watcher>()
  private readonly opts: Required<WatchHubOptions>
  private published: number
  private nextId = 1
  private syncing = false
  private stopped = false

  constructor(readonly source: WatchSource, opts: WatchHubOptions = {}) {
    this.opts = {...DEFAULTS, ...opts}
    for (const [k, v] of Object.entries(this.opts)) {
      if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`watch hub option ${k} must be a positive integer, got ${v}`)
    }
    this.published = source.revision
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.stopped
  }

  /** The store's current revision. */
  get revision(): number {
    return this.source.revision
  }

  stats(): WatchHubStats {
    return {synced: this.synced.size, unsynced: this.unsynced.size, victims: this.victims.size}
  }

  /** True when no catch-up work is pending or running. */
  get idle(): boolean {
    return !this.syncing && this.unsynced.size === 0
  }

  /**
   * Starts a watch. A start revision of 0 means the revision after the current one. A start
   * below the compact revision gives a watcher whose first item is `compacted`; so does a
   * negative one, as in etcd, whose compact revision is -1 before the first compaction.
   */
  watch(spec: WatchSpec): Watcher {
    if (this.stopped) throw new Error('the watch hub is closed')
    if (!Number.isSafeInteger(spec.startRevision)) throw new RangeError(`start revision ${spec.startRevision} is not an integer`)
    const current = this.source.revision
    const compact = this.source.compactRevision
    const start = spec.startRevision === 0 ? current + 1 : spec.startRevision
    const w = new Watcher(this.nextId++, spec, start, this.opts.maxPendingBytes, this)
    if (start > current) {
      this.toSynced(w)
    } else if (start < compact || start < 0) {
      w.finish({kind: 'compacted', compactRevision: compact > 0 ? compact : -1})
    } else {
      this.unsynced.add(w)
      this.kick()
    }
    return w
  }

  /**
   * Delivers the events of an applied revision (with prev_kv) to the synced watchers that match
   * them. A watcher whose queue has no room becomes a victim instead of being waited for.
   * Revisions at or below the last published one are ignored (an entry applied again).
   */
  publish(revision: number, events: readonly Event[]): void {
    if (this.stopped || revision <= this.published) return
    this.published = revision
    const matched = new Map<Watcher, Event[]>()
    for (const e of events) {
      this.synced.match(keyString(e.kv!.key), (w) => {
        if (revision < w.nextRevision) return
        const list = matched.get(w)
        if (list === undefined) matched.set(w, [e])
        else list.push(e)
      })
    }
    for (const [w, evs] of matched) {
      const selected = selectEvents(w.spec, evs)
      if (selected.length === 0 || w.state !== 'synced') continue
      const item: WatchItem = {kind: 'events', revision, events: selected}
      const bytes = itemBytes(item)
      if (w.fits(bytes)) {
        w.push(item, bytes)
        continue
      }
      this.synced.delete(w)
      w.nextRevision = revision
      this.park(w)
    }
  }

  /**
   * Queues a progress item (no events, the current revision) for a synced watcher with room:
   * everything up to the current revision has then been queued before it. Others are skipped,
   * as etcd skips watchers that are catching up.
   */
  requestProgress(w: Watcher): void {
    if (w.state !== 'synced' || !w.fits(ITEM_OVERHEAD)) return
    w.push({kind: 'events', revision: this.source.revision, events: []}, ITEM_OVERHEAD)
  }

  /**
   * The store's state was replaced (a snapshot was installed): every synced watcher catches up
   * from the new history, from the first revision it has not seen.
   */
  resync(): void {
    for (const w of [...this.synced.values()]) {
      this.synced.delete(w)
      w.nextRevision = Math.max(w.nextRevision, this.published + 1)
      w.state = 'unsynced'
      this.unsynced.add(w)
    }
    this.published = this.source.revision
    this.kick()
  }

  /** Ends every watch with a `closed` item (the member is stopping); later watch() calls throw. */
  close(): void {
    if (this.stopped) return
    this.stopped = true
    const all = [...this.synced.values(), ...this.unsynced, ...this.victims]
    for (const w of all) this.synced.delete(w)
    this.unsynced.clear()
    this.victims.clear()
    for (const w of all) w.finish({kind: 'closed'})
  }

  /** @internal (Watcher) A victim whose consumer took it down to half its bound catches up again. */
  taken(w: Watcher): void {
    if (w.state !== 'victim' || w.pendingBytes > w.limit / 2) return
    this.victims.delete(w)
    w.state = 'unsynced'
    this.unsynced.add(w)
    this.kick()
  }

  /** @internal (Watcher) The consumer canceled the watch. */
  remove(w: Watcher): void {
    this.synced.delete(w)
    this.unsynced.delete(w)
    this.victims.delete(w)
  }

  private toSynced(w: Watcher): void {
    w.state = 'synced'
    this.synced.add(w)
  }

  /**
   * Sets aside a watcher that could not take its next revision: a victim while its consumer has
   * items to take (taken() brings it back), else unsynced at once (an empty queue takes any
   * revision, so the next round makes progress).
   */
  private park(w: Watcher): void {
    if (w.pendingItems === 0) {
      w.state = 'unsynced'
      this.unsynced.add(w)
      this.kick()
      return
    }
    w.state = 'victim'
    this.victims.add(w)
  }

  private kick(): void {
    if (this.syncing || this.stopped || this.unsynced.size === 0) return
    this.syncing = true
    void this.syncLoop()
  }

  /**
   * Runs catch-up rounds until no watcher is unsynced, yielding to I/O before each round (so the
   * watches created in one turn share a read, and apply is never starved).
   */
  private async syncLoop(): Promise<void> {
    try {
      while (!this.stopped && this.unsynced.size > 0) {
        await new Promise((resolve) => setImmediate(resolve))
        await this.round()
      }
    } finally {
      this.syncing = false
    }
  }

  /** One round: settles compacted and caught-up watchers, reads one chunk for the others. */
  private async round(): Promise<void> {
    const current = this.source.revision
    const compact = this.source.compactRevision
    const readers: Watcher[] = []
    for (const w of this.chooseUnsynced()) {
      if (w.nextRevision < compact) {
        this.unsynced.delete(w)
        w.finish({kind: 'compacted', compactRevision: compact})
      } else if (w.nextRevision > current) {
        this.unsynced.delete(w)
        this.toSynced(w)
      } else {
        readers.push(w)
      }
    }
    if (readers.length === 0) return
    const limits: ChunkLimits = this.opts
    let result: ChunkResult
    try {
      result = await readChunk(this.source, readers, limits)
    } catch (error) {
      result = {covered: 0, collectors: new Map(), error}
    }
    for (const w of readers) if (w.state === 'unsynced') this.settle(w, result)
  }

  /** The first `maxWatchersPerRound` unsynced watchers. */
  private chooseUnsynced(): Watcher[] {
    const chosen: Watcher[] = []
    for (const w of this.unsynced) {
      if (chosen.length === this.opts.maxWatchersPerRound) break
      chosen.push(w)
    }
    return chosen
  }

  /** Applies a chunk to one of its readers, in the same synchronous step for all of them. */
  private settle(w: Watcher, result: ChunkResult): void {
    this.unsynced.delete(w)
    const err = result.error as {code?: unknown, compactRevision?: unknown, message?: unknown} | undefined
    const compacted = err?.code === 'COMPACTED' && typeof err.compactRevision === 'number' ? err.compactRevision : 0
    const compact = Math.max(this.source.compactRevision, compacted)
    if (w.nextRevision < compact) {
      w.finish({kind: 'compacted', compactRevision: compact})
      return
    }
    if (result.error !== undefined) {
      if (err?.code === 'COMPACTED') {
        // Another reader of the round started below the compaction; this one reads again.
        this.unsynced.add(w)
        return
      }
      w.finish({kind: 'failed', reason: `reading the watch history failed: ${String(err?.message ?? result.error)}`})
      return
    }
    const c = result.collectors.get(w)
    for (const {item, bytes} of c?.items ?? []) w.push(item, bytes)
    if (c !== undefined && c.blockedAt !== 0) {
      w.nextRevision = c.blockedAt
      this.park(w)
      return
    }
    w.nextRevision = Math.max(w.nextRevision, result.covered + 1)
    if (w.nextRevision > this.source.revision) this.toSynced(w)
    else this.unsynced.add(w)
  }
}
