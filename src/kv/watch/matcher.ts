/**
 * Finds the watchers of a key without looking at every watcher: single-key watchers sit in a Map
 * from key to watchers, range watchers in an interval tree, so matching a key costs
 * O((k + 1) log r) for r distinct ranges and k matches. This is the index of etcd's watcher group.
 *
 * Keys are held as strings whose code units are the key's bytes (keyString), so string
 * comparison is the byte order etcd uses.
 */
import {keyString} from '../range.js'
import {IntervalTree, type UpperBound} from './interval_tree.js'

/**
 * The keys a watch covers, as etcd's WatchCreateRequest gives them: `end === undefined` is the
 * single key `key`; otherwise [key, end), where `end === null` means every key >= key.
 */
export interface WatchKeyRange {
  readonly key: string
  readonly end: UpperBound | undefined
}

/**
 * Turns etcd's (key, range_end) into a WatchKeyRange: an empty range_end is the single key, the
 * one byte "\0" means every key >= key, anything else is the exclusive end. Returns undefined
 * for a range that can hold no key (range_end <= key), which etcd refuses.
 */
export function watchKeyRange(key: Uint8Array, rangeEnd: Uint8Array): WatchKeyRange | undefined {
  const k = keyString(key)
  if (rangeEnd.length === 0) return {key: k, end: undefined}
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return {key: k, end: null}
  const end = keyString(rangeEnd)
  return end > k ? {key: k, end} : undefined
}

/** True when the (latin1) key `k` is in the range. */
export function rangeHas(r: WatchKeyRange, k: string): boolean {
  if (r.end === undefined) return k === r.key
  return k >= r.key && (r.end === null || k < r.end)
}

/** Anything the group can index: it only reads `range`. */
export interface Ranged {
  readonly range: WatchKeyRange
}

/** A set of watchers indexed by key and by range. */
export class WatcherGroup<W extends Ranged> {
  private readonly byKey = new Map<string, Set<W>>()
  private readonly ranges = new IntervalTree<W>()
  private readonly all = new Set<W>()

  constructor(watchers: Iterable<W> = []) {
    for (const w of watchers) this.add(w)
  }

  get size(): number {
    return this.all.size
  }

  has(w: W): boolean {
    return this.all.has(w)
  }

  /** The watchers in the order they were added. */
  values(): IterableIterator<W> {
    return this.all.values()
  }

  add(w: W): void {
    if (this.all.has(w)) return
    this.all.add(w)
    const r = w.range
    if (r.end !== undefined) {
      this.ranges.insert(r.key, r.end, w)
      return
    }
    let set = this.byKey.get(r.key)
    if (set === undefined) this.byKey.set(r.key, set = new Set())
    set.add(w)
  }

  delete(w: W): boolean {
    if (!this.all.delete(w)) return false
    const r = w.range
    if (r.end !== undefined) {
      this.ranges.delete(r.key, r.end, w)
      return true
    }
    const set = this.byKey.get(r.key)!
    set.delete(w)
    if (set.size === 0) this.byKey.delete(r.key)
    return true
  }

  /** Calls `visit` once for every watcher whose range holds the (latin1) key `k`. */
  match(k: string, visit: (w: W) => void): void {
    const set = this.byKey.get(k)
    if (set !== undefined) for (const w of set) visit(w)
    this.ranges.stab(k, visit)
  }
}
