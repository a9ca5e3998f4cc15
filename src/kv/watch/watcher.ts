/**
 * One watch as the hub sees it: what it covers, where it is in the history, and the bounded
 * queue of items its consumer has not taken yet.
 *
 * Invariants:
 * - Items are queued in revision order; all events of one revision are in one item.
 * - Every item's `revision` is a revision the watcher has fully seen: every matching event of
 *   a revision <= it is in that item or an earlier one. A client may resume at revision + 1.
 * - `pendingBytes` (the estimated size of the queued items) exceeds `limit` only when a single
 *   item was queued while the queue was empty (a revision is never split), or by the terminal
 *   item (ITEM_OVERHEAD).
 * - After the terminal item (compacted, failed or closed) nothing more is queued, and once the
 *   consumer took it or called cancel() the watcher is done.
 */
import {type Event, Event_EventType} from '../../generated/etcd/mvccpb/kv.js'
import type {WatchKeyRange} from './matcher.js'

/** What the consumer takes from a watcher, in order. */
export type WatchItem =
  /** Events of one or more whole revisions, up to and including `revision` (none: progress). */
  | {readonly kind: 'events', readonly revision: number, readonly events: readonly Event[]}
  /** The watch cannot go on: its next revision was compacted (the watch ends). */
  | {readonly kind: 'compacted', readonly compactRevision: number}
  /** Reading the history failed (the watch ends). */
  | {readonly kind: 'failed', readonly reason: string}
  /** The hub closed: the member is stopping (the watch ends). */
  | {readonly kind: 'closed'}

/**
 * Where the watcher is: synced (in the hub's index, gets events from publish), unsynced (catches
 * up from the store's history), victim (its consumer is behind; waits until it has taken enough
 * to catch up from history again), done (ended).
 */
export type WatcherState = 'synced' | 'unsynced' | 'victim' | 'done'

/** What a watch asks for. */
export interface WatchSpec {
  readonly range: WatchKeyRange
  /** First revision to deliver; 0 = the revision after the current one. */
  readonly startRevision: number
  readonly prevKv: boolean
  /** Leave out PUT events (etcd's NOPUT filter). */
  readonly noPut: boolean
  /** Leave out DELETE events (etcd's NODELETE filter). */
  readonly noDelete: boolean
}

/** The hub's side of a watcher. */
export interface WatcherOwner {
  /** The consumer took items; a victim may now catch up. */
  taken(w: Watcher): void
  /** The consumer canceled the watch. */
  remove(w: Watcher): void
}

/** Estimated bytes of an item in memory, per event and per item, on top of keys and values. */
export const EVENT_OVERHEAD = 96
export const ITEM_OVERHEAD = 64

/** The estimated memory an event holds (keys and values of kv and prev_kv, plus overhead). */
export function eventBytes(e: Event): number {
  let n = EVENT_OVERHEAD + (e.kv?.key.length ?? 0) + (e.kv?.value.length ?? 0)
  if (e.prevKv !== undefined) n += EVENT_OVERHEAD + e.prevKv.key.length + e.prevKv.value.length
  return n
}

export class Watcher {
  state: WatcherState
  /** The first revision not yet queued (meaningful while not synced; see the hub). */
  nextRevision: number
  private queue: WatchItem[] = []
  /** The estimated bytes of each queued item, parallel to `queue`. */
  private sizes: number[] = []
  private head = 0
  private bytes = 0
  private ended = false
  private readyFn: (() => void) | undefined
  private waiter: ((item: WatchItem | undefined) => void) | undefined

  constructor(
    /** Unique within its hub. */
    readonly id: number,
    readonly spec: WatchSpec,
    /** The start revision this watch was created with (0 resolved to current + 1). */
    readonly startRevision: number,
    /** The queue bound in estimated bytes (see the class invariants). */
    readonly limit: number,
    private readonly owner: WatcherOwner,
  ) {
    this.nextRevision = startRevision
    this.state = 'unsynced'
  }

  get range(): WatchKeyRange {
    return this.spec.range
  }

  /** Estimated bytes of the queued items. */
  get pendingBytes(): number {
    return this.bytes
  }

  /** Items queued and not taken. */
  get pendingItems(): number {
    return this.queue.length - this.head
  }

  /** True once the watch ended and its consumer took everything. */
  get done(): boolean {
    return this.state === 'done' && this.pendingItems === 0
  }

  /** True when an item of `bytes` may be queued without breaking the bound. */
  fits(bytes: number): boolean {
    return this.pendingItems === 0 || this.bytes + bytes <= this.limit
  }

  /**
   * Registers the consumer's wake-up: called whenever the queue goes from empty to non-empty
   * (and at once if it is non-empty now). The consumer then calls take() until it returns
   * undefined.
   */
  onReady(fn: () => void): void {
    this.readyFn = fn
    if (this.pendingItems > 0) fn()
  }

  /** Takes the next item, or undefined when none is queued. */
  take(): WatchItem | undefined {
    if (this.head === this.queue.length) return undefined
    const item = this.queue[this.head]
    this.bytes -= this.sizes[this.head]
    this.queue[this.head++] = undefined as unknown as WatchItem
    if (this.head === this.queue.length) {
      this.queue = []
      this.sizes = []
      this.head = 0
    } else if (this.head > 64 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.sizes = this.sizes.slice(this.head)
      this.head = 0
    }
    if (!this.ended) this.owner.taken(this)
    return item
  }

  /** Waits for the next item; undefined once the watch is done. One waiter at a time. */
  next(): Promise<WatchItem | undefined> {
    const item = this.take()
    if (item !== undefined || this.state === 'done') return Promise.resolve(item)
    return new Promise((resolve) => { this.waiter = resolve })
  }

  /** Ends the watch from the consumer's side: drops the queue; nothing more is delivered. */
  cancel(): void {
    const wasActive = !this.ended
    this.ended = true
    this.state = 'done'
    this.queue = []
    this.sizes = []
    this.head = 0
    this.bytes = 0
    if (wasActive) this.owner.remove(this)
    this.wake(undefined)
  }

  /** @internal (hub) Queues an item of `bytes` (itemBytes); the caller checked fits(). */
  push(item: WatchItem, bytes = itemBytes(item)): void {
    if (this.ended) return
    this.append(item, bytes)
  }

  /** @internal (hub) Queues the terminal item and ends the watch. */
  finish(item: WatchItem): void {
    if (this.ended) return
    this.ended = true
    this.state = 'done'
    this.append(item, itemBytes(item))
  }

  private append(item: WatchItem, bytes: number): void {
    if (this.waiter !== undefined) {
      this.wake(item)
      if (!this.ended) this.owner.taken(this)
      return
    }
    this.queue.push(item)
    this.sizes.push(bytes)
    this.bytes += bytes
    if (this.pendingItems === 1) this.readyFn?.()
  }

  private wake(item: WatchItem | undefined): void {
    const w = this.waiter
    this.waiter = undefined
    w?.(item)
  }
}

/** The estimated bytes of a queued item. */
export function itemBytes(item: WatchItem): number {
  if (item.kind !== 'events') return ITEM_OVERHEAD
  let n = ITEM_OVERHEAD
  for (const e of item.events) n += eventBytes(e)
  return n
}

/** The events of `events` a watch with `spec` wants: filters applied, prev_kv left out unless asked. */
export function selectEvents(spec: WatchSpec, events: readonly Event[]): Event[] {
  const out: Event[] = []
  for (const e of events) {
    if (e.type === Event_EventType.PUT ? spec.noPut : spec.noDelete) continue
    out.push(spec.prevKv || e.prevKv === undefined ? e : {...e, prevKv: undefined})
  }
  return out
}
