/**
 * Watches: ordered events from applied entries only. The hub keeps a bounded in-memory history of
 * recent revisions so a watch can start at a past revision that is still retained; a start below
 * the retained history fails with a COMPACTED KvError whose compactRevision is the oldest
 * revision a watch can start at. After a restart the history starts empty (at revision + 1).
 *
 * Each watcher has a bounded queue: a consumer that falls more than `maxPending` events behind
 * is canceled (WATCH_CANCELED, with the revision to resume from) instead of growing memory.
 */
import type {Event, KeyValue} from '../generated/etcd/mvccpb/kv.js'
import {KvError} from './errors.js'
import {inRange, type KeyRange} from './range.js'

/** The events of one revision that match a watch. */
export interface WatchBatch {
  readonly revision: number
  readonly events: readonly Event[]
}

export interface WatchOptions {
  readonly range: KeyRange
  /** First revision to deliver; 0 = from the next revision. */
  readonly startRevision: number
  /** Include prev_kv in events. */
  readonly prevKv: boolean
}

interface Entry {
  readonly revision: number
  readonly events: readonly Event[]
}

/** A subscription. Iterate it for batches; cancel() ends the iteration. */
export class Watcher implements AsyncIterable<WatchBatch> {
  private readonly queue: WatchBatch[] = []
  private pending = 0
  private waiting: ((r: IteratorResult<WatchBatch>) => void) | undefined
  private failWaiting: ((e: Error) => void) | undefined
  private done = false
  private error: KvError | undefined

  constructor(
    readonly id: number, private readonly opts: WatchOptions,
    /** The first revision delivered (a start in the future waits for it). */
    readonly startRevision: number, private readonly hub: WatchHub,
  ) {}

  /** Why the watch was canceled by the store (undefined while active or after cancel()). */
  get cancelError(): KvError | undefined {
    return this.error
  }

  get active(): boolean {
    return !this.done
  }

  /** Ends the watch; a pending next() resolves as done. */
  cancel(): void {
    if (this.done) return
    this.done = true
    this.queue.length = 0
    this.hub.remove(this)
    this.waiting?.({value: undefined, done: true})
    this.waiting = undefined
    this.failWaiting = undefined
  }

  /** @internal Delivers the matching events of one revision. */
  offer(entry: Entry): void {
    if (this.done || entry.revision < this.startRevision) return
    const events = entry.events.filter((e) => inRange(this.opts.range, e.kv!.key))
      .map((e) => (this.opts.prevKv ? e : {...e, prevKv: undefined as KeyValue | undefined}))
    if (events.length === 0) return
    const batch = {revision: entry.revision, events}
    if (this.waiting !== undefined) {
      const w = this.waiting
      this.waiting = undefined
      this.failWaiting = undefined
      w({value: batch, done: false})
      return
    }
    if (this.pending + events.length > this.hub.maxPending) {
      const from = this.queue[0]?.revision ?? entry.revision
      this.fail(new KvError('WATCH_CANCELED',
        `watcher fell more than ${this.hub.maxPending} events behind; restart it at revision ${from}`, from))
      return
    }
    this.queue.push(batch)
    this.pending += events.length
  }

  /** @internal Cancels the watch with an error that the consumer's next() receives. */
  fail(err: KvError): void {
    if (this.done) return
    this.done = true
    this.error = err
    this.queue.length = 0
    this.hub.remove(this)
    this.failWaiting?.(err)
    this.waiting = undefined
    this.failWaiting = undefined
  }

  next(): Promise<IteratorResult<WatchBatch>> {
    const b = this.queue.shift()
    if (b !== undefined) {
      this.pending -= b.events.length
      return Promise.resolve({value: b, done: false})
    }
    if (this.error !== undefined) return Promise.reject(this.error)
    if (this.done) return Promise.resolve({value: undefined, done: true})
    return new Promise((resolve, reject) => {
      this.waiting = resolve
      this.failWaiting = reject
    })
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchBatch> {
    return {next: () => this.next(), return: async () => {
      this.cancel()
      return {value: undefined, done: true}
    }}
  }
}

export class WatchHub {
  private history: Entry[] = []
  private historyEvents = 0
  private readonly watchers = new Set<Watcher>()
  private nextId = 1
  /** The oldest revision a watch may start at. */
  historyStart: number

  constructor(currentRevision: number, readonly maxHistory = 10_000, readonly maxPending = 10_000) {
    this.historyStart = currentRevision + 1
  }

  get watcherCount(): number {
    return this.watchers.size
  }

  /**
   * Starts a watch at `startRevision` (0 = next revision). Replays retained history first.
   * Throws COMPACTED when the start revision is no longer retained.
   */
  watch(opts: WatchOptions, currentRevision: number): Watcher {
    const start = opts.startRevision === 0 ? currentRevision + 1 : opts.startRevision
    if (start < this.historyStart) {
      throw new KvError('COMPACTED', `watch start revision ${start} is no longer retained; ` +
        `the oldest revision a watch can start at is ${this.historyStart}`, this.historyStart)
    }
    const w = new Watcher(this.nextId++, opts, start, this)
    for (const e of this.history) if (e.revision >= start) w.offer(e)
    this.watchers.add(w)
    return w
  }

  /** Records and delivers the events of an applied revision (events carry prev_kv). */
  publish(revision: number, events: readonly Event[]): void {
    if (events.length === 0) return
    const entry = {revision, events}
    this.history.push(entry)
    this.historyEvents += events.length
    while (this.historyEvents > this.maxHistory && this.history.length > 1) {
      const old = this.history.shift()!
      this.historyEvents -= old.events.length
      this.historyStart = old.revision + 1
    }
    for (const w of [...this.watchers]) w.offer(entry)
  }

  /** Forgets all history and cancels every watch (the state was replaced by a snapshot). */
  reset(revision: number, reason: string): void {
    this.history = []
    this.historyEvents = 0
    this.historyStart = revision + 1
    for (const w of [...this.watchers]) w.fail(new KvError('WATCH_CANCELED', reason, revision + 1))
  }

  /** Ends every watch (the store closes). */
  close(): void {
    for (const w of [...this.watchers]) w.cancel()
  }

  /** @internal */
  remove(w: Watcher): void {
    this.watchers.delete(w)
  }
}
