/**
 * One catch-up read for unsynced watchers: a bounded chunk of the store's history, read once for
 * every watcher of the round and handed out through a WatcherGroup (no scan of every watcher per
 * event). Nothing is queued here: the hub applies the result in one synchronous step after the
 * read, so a watcher canceled, closed or compacted meanwhile is handled there.
 *
 * Bounds: at most `chunkRevisions` revisions and (after the revision that crosses it)
 * `chunkBytes` of events per read; per watcher, no more than the room its queue had at the start
 * of the round (a whole revision is always accepted by an empty queue), in items of at most
 * `maxBatchBytes` each (a single revision larger than that stays one item).
 */
import type {Event} from '../../generated/etcd/mvccpb/kv.js'
import {keyString} from '../range.js'
import {WatcherGroup} from './matcher.js'
import {eventBytes, ITEM_OVERHEAD, selectEvents, type WatchItem, type Watcher} from './watcher.js'

/** What the hub needs from the store (the MVCC store implements it). */
export interface WatchSource {
  /** The latest applied revision. Advances before publish() is called with it. */
  readonly revision: number
  /** Reads and watches below it fail as compacted. */
  readonly compactRevision: number
  /**
   * The events of the revisions in [from, to] (from >= compactRevision, to <= revision), in
   * revision order, one element per revision that has events, each revision's events in the
   * order they were applied, with prev_kv when `prevKv` is set. May throw an error whose `code`
   * is 'COMPACTED' when `from` was compacted meanwhile.
   */
  history(from: number, to: number, opts: {prevKv: boolean}): AsyncIterable<{revision: number, events: Event[]}>
}

export interface ChunkLimits {
  readonly chunkRevisions: number
  readonly chunkBytes: number
  readonly maxBatchBytes: number
}

/** What one watcher got from a chunk. */
export class Collector {
  readonly items: Array<{item: WatchItem, bytes: number}> = []
  /** The revision the watcher could not take for lack of room (0: none). */
  blockedAt = 0
  private events: Event[] = []
  private eventBytes = 0
  private total = 0
  private readonly room: number
  private readonly emptyQueue: boolean

  constructor(w: Watcher, private readonly maxBatchBytes: number) {
    this.room = w.limit - w.pendingBytes
    this.emptyQueue = w.pendingItems === 0
  }

  /** Adds one revision's events; false when they do not fit (the watcher is then blocked). */
  add(revision: number, events: Event[], bytes: number): boolean {
    const open = this.events.length > 0
    const first = this.emptyQueue && this.items.length === 0 && !open
    const startsItem = !open || ITEM_OVERHEAD + this.eventBytes + bytes > this.maxBatchBytes
    const need = bytes + (startsItem ? ITEM_OVERHEAD : 0)
    if (!first && this.total + need > this.room) {
      this.blockedAt = revision
      this.close(revision - 1)
      return false
    }
    if (startsItem) this.close(revision - 1)
    for (const e of events) this.events.push(e)
    this.eventBytes += bytes
    this.total += need
    return true
  }

  /** Ends the open item: its events are every matching event up to `upTo`. */
  close(upTo: number): void {
    if (this.events.length === 0) return
    this.items.push({item: {kind: 'events', revision: upTo, events: this.events}, bytes: ITEM_OVERHEAD + this.eventBytes})
    this.events = []
    this.eventBytes = 0
  }
}

export interface ChunkResult {
  /** Every revision <= covered was read (for watchers that were not blocked). */
  readonly covered: number
  readonly collectors: ReadonlyMap<Watcher, Collector>
  /** Set when the read failed; nothing of it may be delivered. */
  readonly error?: unknown
}

/** Reads one chunk of history for `readers` (each with nextRevision in [compact, revision]). */
export async function readChunk(source: WatchSource, readers: readonly Watcher[], limits: ChunkLimits): Promise<ChunkResult> {
  let from = Infinity
  for (const w of readers) from = Math.min(from, w.nextRevision)
  const to = Math.min(source.revision, from + limits.chunkRevisions - 1)
  const group = new WatcherGroup(readers)
  const collectors = new Map(readers.map((w) => [w, new Collector(w, limits.maxBatchBytes)]))
  const prevKv = readers.some((w) => w.spec.prevKv)
  let covered = to
  let read = 0
  try {
    for await (const {revision, events} of source.history(from, to, {prevKv})) {
      if (revision > to) break
      read += distribute(group, collectors, revision, events)
      if (revision < to && (read >= limits.chunkBytes || allBlocked(collectors))) {
        covered = revision
        break
      }
    }
  } catch (error) {
    return {covered: from - 1, collectors, error}
  }
  for (const c of collectors.values()) if (c.blockedAt === 0) c.close(covered)
  return {covered, collectors}
}

/** Hands one revision's events to the watchers that match them; returns the bytes read. */
function distribute(group: WatcherGroup<Watcher>, collectors: Map<Watcher, Collector>, revision: number, events: Event[]): number {
  const matched = new Map<Watcher, Event[]>()
  let read = 0
  for (const e of events) {
    read += eventBytes(e)
    group.match(keyString(e.kv!.key), (w) => {
      if (revision < w.nextRevision) return
      const list = matched.get(w)
      if (list === undefined) matched.set(w, [e])
      else list.push(e)
    })
  }
  for (const [w, evs] of matched) {
    const c = collectors.get(w)!
    if (c.blockedAt !== 0) continue
    const selected = selectEvents(w.spec, evs)
    if (selected.length === 0) continue
    let bytes = 0
    for (const e of selected) bytes += eventBytes(e)
    c.add(revision, selected, bytes)
  }
  return read
}

function allBlocked(collectors: Map<Watcher, Collector>): boolean {
  for (const c of collectors.values()) if (c.blockedAt === 0) return false
  return true
}
