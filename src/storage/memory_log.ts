/**
 * The in-memory copy of the persisted log that serves the core's synchronous Storage reads.
 * RaftStorage preloads every un-compacted entry at open and updates this copy only after the
 * RocksDB batch that changes the log has been committed, so memory never runs ahead of disk.
 *
 * Invariant: `start` is the index and term of the entry just before the first entry (the last
 * compacted entry or the latest snapshot's index; 0/0 for a fresh log); ents[i] has index
 * start.index + 1 + i; terms are non-decreasing.
 */
import {CompactedError, UnavailableError} from '../raft/errors.js'
import type {Entry} from '../raft/types.js'
import {entrySize} from '../raft/util.js'
import type {IndexTerm} from './records.js'
import {StorageMisuseError} from './errors.js'

export class MemoryLog {
  constructor(private start: IndexTerm, private ents: Entry[]) {}

  /** The entry before the first one (its term stays answerable after compaction). */
  get dummy(): IndexTerm {
    return this.start
  }

  firstIndex(): number {
    return this.start.index + 1
  }

  lastIndex(): number {
    return this.start.index + this.ents.length
  }

  /** The number of entries held. */
  get length(): number {
    return this.ents.length
  }

  /** See Storage.term: answerable for [firstIndex() - 1, lastIndex()]. */
  term(i: number): number {
    if (i < this.start.index) throw new CompactedError()
    if (i === this.start.index) return this.start.term
    if (i > this.lastIndex()) throw new UnavailableError(`log entry ${i} is beyond the last index ${this.lastIndex()}`)
    return this.ents[i - this.start.index - 1].term
  }

  /** See Storage.entries: [lo, hi), at least one entry when lo < hi, then at most maxSize bytes. */
  entries(lo: number, hi: number, maxSize?: number): Entry[] {
    if (lo < this.firstIndex()) throw new CompactedError()
    if (hi > this.lastIndex() + 1) {
      throw new StorageMisuseError(`entries(${lo}, ${hi}): hi is beyond the last index ${this.lastIndex()}`)
    }
    const out: Entry[] = []
    let size = 0
    for (let i = lo; i < hi; i++) {
      const e = this.ents[i - this.start.index - 1]
      size += entrySize(e) // the core's measure, as MemoryStorage's limitSize uses
      if (out.length > 0 && maxSize !== undefined && size > maxSize) break
      out.push(e)
    }
    return out
  }

  /** The entry at index i, which must be in [firstIndex(), lastIndex()]. */
  at(i: number): Entry {
    return this.ents[i - this.start.index - 1]
  }

  /** Replaces entries at or after ents[0].index (the caller already persisted the change). */
  append(ents: readonly Entry[]): void {
    if (ents.length === 0) return
    const keep = ents[0].index - this.start.index - 1
    this.ents = this.ents.slice(0, keep).concat(ents)
  }

  /** Drops entries up to and including `to`, which becomes the new dummy. */
  compact(to: IndexTerm): void {
    this.ents = this.ents.slice(to.index - this.start.index)
    this.start = to
  }

  /** Discards everything; the log restarts after `start` (a snapshot). */
  reset(start: IndexTerm): void {
    this.start = start
    this.ents = []
  }
}
