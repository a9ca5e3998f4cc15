/**
 * The unstable part of the log: entries and possibly a snapshot that the application has not yet
 * persisted. A port of etcd-io/raft v3.6 log_unstable.go.
 *
 * Invariants:
 * - entries[i] has index offset + i.
 * - If a snapshot is present, offset = snapshot.metadata.index + 1 at the time it was restored
 *   (entries may follow it).
 * - offset <= offsetInProgress <= offset + entries.length: entries below offsetInProgress have
 *   been handed to the application in a Ready and are being persisted; they are not handed out
 *   again. snapshotInProgress likewise marks a snapshot that has been handed out.
 */
import type {Entry, Snapshot} from './types.js'
import {panic} from './util.js'

export class Unstable {
  /** The incoming unstable snapshot, if any. */
  snapshot: Snapshot | undefined = undefined
  /** All entries that have not yet been written to storage. */
  entries: Entry[] = []
  /** The index of entries[0]. */
  offset: number
  /** Whether the snapshot is being written to storage. */
  snapshotInProgress = false
  /** Entries with index < offsetInProgress are being written to storage. */
  offsetInProgress: number

  constructor(offset: number) {
    this.offset = offset
    this.offsetInProgress = offset
  }

  /** The index of the first possible entry in entries, if the unstable has a snapshot. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot !== undefined ? this.snapshot.metadata.index + 1 : undefined
  }

  /** The last index if the unstable has at least one entry or a snapshot. */
  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1
    if (this.snapshot !== undefined) return this.snapshot.metadata.index
    return undefined
  }

  /** The term of the entry at index i, if the unstable knows it. */
  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot !== undefined && this.snapshot.metadata.index === i) return this.snapshot.metadata.term
      return undefined
    }
    const last = this.maybeLastIndex()
    if (last === undefined || i > last) return undefined
    return this.entries[i - this.offset].term
  }

  /** The unstable entries not yet handed to the application for persisting. */
  nextEntries(): Entry[] {
    const inProgress = this.offsetInProgress - this.offset
    if (this.entries.length === inProgress) return []
    return this.entries.slice(inProgress)
  }

  /** The unstable snapshot if it has not yet been handed to the application. */
  nextSnapshot(): Snapshot | undefined {
    if (this.snapshot === undefined || this.snapshotInProgress) return undefined
    return this.snapshot
  }

  /** Marks every entry and the snapshot handed out in a Ready as being persisted. */
  acceptInProgress(): void {
    if (this.entries.length > 0) this.offsetInProgress = this.entries[this.entries.length - 1].index + 1
    if (this.snapshot !== undefined) this.snapshotInProgress = true
  }

  /**
   * Marks entries up to (index, term) as persisted, dropping them from the unstable. Does nothing
   * if the entry has since been overwritten by one of another term, or lies under the snapshot.
   */
  stableTo(index: number, term: number): void {
    const gt = this.maybeTerm(index)
    if (gt === undefined || index < this.offset || gt !== term) return
    const num = index + 1 - this.offset
    this.entries = this.entries.slice(num)
    this.offset = index + 1
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset)
  }

  /** Drops the snapshot once it is persisted, if it is still the one at index i. */
  stableSnapTo(i: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === i) {
      this.snapshot = undefined
      this.snapshotInProgress = false
    }
  }

  /** Replaces the whole unstable with snapshot s. */
  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1
    this.offsetInProgress = this.offset
    this.entries = []
    this.snapshot = s
    this.snapshotInProgress = false
  }

  /**
   * Appends ents (contiguous, ascending) after truncating any unstable entries at or after
   * ents[0].index. The caller guarantees ents[0].index <= lastIndex + 1.
   */
  truncateAndAppend(ents: readonly Entry[]): void {
    if (ents.length === 0) return
    const fromIndex = ents[0].index
    if (fromIndex === this.offset + this.entries.length) {
      // fromIndex is the next index in the entries: directly append.
      for (const e of ents) this.entries.push(e)
    } else if (fromIndex <= this.offset) {
      // The log is being truncated to before our current offset portion, so set the offset and
      // replace the entries.
      this.entries = ents.slice()
      this.offset = fromIndex
      this.offsetInProgress = this.offset
    } else {
      // Truncate to fromIndex (exclusive), and append the new entries.
      this.entries = this.slice(this.offset, fromIndex).concat(ents)
      // Only in-progress entries before fromIndex are still considered to be in-progress.
      this.offsetInProgress = Math.min(this.offsetInProgress, fromIndex)
    }
  }

  /** Returns the unstable entries in [lo, hi); throws if out of bounds. */
  slice(lo: number, hi: number): Entry[] {
    this.mustCheckOutOfBounds(lo, hi)
    return this.entries.slice(lo - this.offset, hi - this.offset)
  }

  private mustCheckOutOfBounds(lo: number, hi: number): void {
    if (lo > hi) panic(`invalid unstable.slice ${lo} > ${hi}`)
    const upper = this.offset + this.entries.length
    if (lo < this.offset || hi > upper) {
      panic(`unstable.slice[${lo},${hi}) out of bound [${this.offset},${upper}]`)
    }
  }
}
