/**
 * A min-heap of keys ordered by a due time, with one position per key: setting a key's time again
 * moves it instead of adding a copy, so the heap never holds more items than keys (etcd 3.4's
 * LeaseExpiredNotifier does the same). All operations are O(log n) except peek and get (O(1)).
 *
 * Invariant: for every item at index i > 0, items[parent(i)].time <= items[i].time, and
 * index.get(items[i].key) === i.
 */
export interface Due<K> {
  readonly key: K
  readonly time: number
}

export class DueHeap<K> {
  private readonly items: Array<{key: K, time: number}> = []
  private readonly index = new Map<K, number>()

  get size(): number {
    return this.items.length
  }

  /** The time `key` is due at, or undefined when it is not in the heap. */
  get(key: K): number | undefined {
    const i = this.index.get(key)
    return i === undefined ? undefined : this.items[i].time
  }

  /** Adds `key` due at `time`, or moves it there. */
  set(key: K, time: number): void {
    const i = this.index.get(key)
    if (i === undefined) {
      this.items.push({key, time})
      this.index.set(key, this.items.length - 1)
      this.up(this.items.length - 1)
      return
    }
    const old = this.items[i].time
    this.items[i].time = time
    if (time < old) this.up(i)
    else this.down(i)
  }

  /** Removes `key` (nothing when absent). */
  delete(key: K): void {
    const i = this.index.get(key)
    if (i === undefined) return
    const last = this.items.length - 1
    this.swap(i, last)
    this.items.pop()
    this.index.delete(key)
    if (i < this.items.length) {
      this.up(i)
      this.down(i)
    }
  }

  /** The earliest item, without removing it. */
  peek(): Due<K> | undefined {
    return this.items[0]
  }

  clear(): void {
    this.items.length = 0
    this.index.clear()
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1
      if (this.items[p].time <= this.items[i].time) return
      this.swap(i, p)
      i = p
    }
  }

  private down(i: number): void {
    const n = this.items.length
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < n && this.items[l].time < this.items[m].time) m = l
      if (r < n && this.items[r].time < this.items[m].time) m = r
      if (m === i) return
      this.swap(i, m)
      i = m
    }
  }

  private swap(a: number, b: number): void {
    if (a === b) return
    const t = this.items[a]
    this.items[a] = this.items[b]
    this.items[b] = t
    this.index.set(this.items[a].key, a)
    this.index.set(this.items[b].key, b)
  }
}
