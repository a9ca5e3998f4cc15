/**
 * Pure planning of log writes: which entries an append writes and which keys it deletes, and up
 * to which index a compaction may go. Kept apart from RaftStorage so the rules are testable and
 * readable on their own.
 */
import type {Entry, HardState} from '../raft/types.js'
import {StorageMisuseError} from './errors.js'

/** Checks that `v` is a safe integer >= min; throws naming `what`. */
export function checkIndex(what: string, v: number, min = 0): number {
  if (!Number.isSafeInteger(v) || v < min) {
    throw new StorageMisuseError(`${what} ${String(v)} is not an integer in ${min}..2^53-1`)
  }
  return v
}

/** Checks a HardState's three numbers. */
export function checkHardState(hs: HardState): void {
  checkIndex('hardState.term', hs.term)
  checkIndex('hardState.vote', hs.vote)
  checkIndex('hardState.commit', hs.commit)
}

/** Checks that entries are contiguous, ascending, with index >= 1 and non-decreasing term >= 1. */
export function checkEntries(ents: readonly Entry[]): void {
  for (let i = 0; i < ents.length; i++) {
    const e = ents[i]
    checkIndex('entry.index', e.index, 1)
    checkIndex(`entry ${e.index} term`, e.term, 1)
    if (i > 0 && e.index !== ents[i - 1].index + 1) {
      throw new StorageMisuseError(`entries are not contiguous: ${ents[i - 1].index} is followed by ${e.index}`)
    }
    if (i > 0 && e.term < ents[i - 1].term) {
      throw new StorageMisuseError(`entry ${e.index} has term ${e.term}, below the term ${ents[i - 1].term} before it`)
    }
  }
}

/** What an append writes: the entries to put and the (inclusive) index range to delete. */
export interface AppendPlan {
  readonly put: readonly Entry[]
  /** Existing entries beyond the new last index (a conflicting suffix): [from, to], or none. */
  readonly deleteFrom: number
  readonly deleteTo: number
}

/**
 * Plans appending `ents` to a log holding [first, last]. Entries below `first` are already
 * compacted and dropped; the new entries replace every existing entry at or after their first
 * index (Raft §5.3: a conflicting suffix is truncated). A gap after `last` is refused.
 */
export function planAppend(first: number, last: number, ents: readonly Entry[]): AppendPlan {
  checkEntries(ents)
  const put = ents.filter((e) => e.index >= first)
  if (put.length === 0) return {put, deleteFrom: 1, deleteTo: 0}
  if (put[0].index > last + 1) {
    throw new StorageMisuseError(`cannot append entry ${put[0].index}: the log ends at ${last} (missing entries in between)`)
  }
  const newLast = put[put.length - 1].index
  return {put, deleteFrom: newLast + 1, deleteTo: last}
}

/** Inputs of a compaction decision. */
export interface CompactInput {
  /** The index the caller would like to compact to (usually the latest snapshot's index). */
  readonly requested: number
  /** The latest snapshot's index: entries after it are never compacted. */
  readonly snapshotIndex: number
  /** Entries kept before the compaction point so slightly lagging followers need no snapshot. */
  readonly trailing: number
  /** Entries at or above this index are never removed (see RaftStorage.compact). */
  readonly minRetainIndex?: number
  /** The current dummy index (firstIndex - 1) and last index. */
  readonly compacted: number
  readonly last: number
}

/**
 * Returns the index to compact to (the new firstIndex - 1), or `compacted` when nothing should
 * go: min(requested, snapshotIndex, last) - trailing, and below minRetainIndex.
 */
export function planCompaction(c: CompactInput): number {
  let to = Math.min(c.requested, c.snapshotIndex, c.last) - c.trailing
  if (c.minRetainIndex !== undefined) to = Math.min(to, c.minRetainIndex - 1)
  return to > c.compacted ? to : c.compacted
}

/**
 * The lowest index that a follower in replicate state still needs: min(match + 1) over them,
 * or undefined when there is none. Followers in probe or snapshot state are not counted: the
 * leader already cannot stream to them and serves them from a snapshot when needed. A caller
 * may also leave out a replicating follower whose match is below the latest snapshot's index if
 * it prefers to serve that follower with the snapshot ("unless a snapshot can serve it").
 */
export function minRetainIndex(
  followers: Iterable<{readonly match: number, readonly replicating: boolean}>,
): number | undefined {
  let min: number | undefined
  for (const f of followers) {
    if (!f.replicating) continue
    if (min === undefined || f.match + 1 < min) min = f.match + 1
  }
  return min
}
