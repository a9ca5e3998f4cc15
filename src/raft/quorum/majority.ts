/**
 * MajorityConfig: a set of voters that decides by simple majority (Raft paper §5.2, §5.3). A
 * port of etcd-io/raft quorum/majority.go. Instances are immutable: a config change builds a new
 * MajorityConfig instead of editing one, so a config that is in use never changes under a reader.
 */
import {describeAcks} from './describe.js'
import {formatIds, normalizeIds} from './ids.js'
import {VoteResult} from './vote_result.js'

/**
 * Returns the index acknowledged by `id`, or undefined if that voter has acknowledged nothing
 * (which counts as index 0).
 */
export type AckedIndexer = (id: number) => number | undefined

/** A set of voter ids deciding by majority. Invariant: ids are distinct, non-zero, sorted. */
export class MajorityConfig implements Iterable<number> {
  private readonly sorted: readonly number[]
  private readonly set: ReadonlySet<number>

  /**
   * Builds a config from voter ids; duplicates collapse and id 0 is ignored. Throws a RangeError
   * if an id is not a non-negative safe integer.
   */
  constructor(ids: Iterable<number> = []) {
    this.sorted = Object.freeze(normalizeIds(ids))
    this.set = new Set(this.sorted)
  }

  /** The number of voters. */
  get size(): number {
    return this.sorted.length
  }

  /** The number of voters that form a majority: floor(size / 2) + 1. */
  get quorum(): number {
    return Math.floor(this.sorted.length / 2) + 1
  }

  /** Whether `id` is a voter of this config. */
  has(id: number): boolean {
    return this.set.has(id)
  }

  /** Iterates the voter ids in ascending order. */
  [Symbol.iterator](): Iterator<number> {
    return this.sorted[Symbol.iterator]()
  }

  /** Returns a fresh array of the voter ids, sorted ascending. */
  slice(): number[] {
    return [...this.sorted]
  }

  /** Whether both configs hold exactly the same voters. */
  equals(other: MajorityConfig): boolean {
    return this.size === other.size && this.sorted.every((id) => other.has(id))
  }

  /**
   * Returns the largest index acknowledged by a majority of the voters: sorting the acked
   * indexes descending (a voter that acked nothing counts as 0), the quorum-th one. An empty
   * config returns Infinity, so that as one half of a joint config it defers to the other half.
   */
  committedIndex(acked: AckedIndexer): number {
    const n = this.sorted.length
    if (n === 0) return Infinity
    const srt = new Array<number>(n)
    for (let i = 0; i < n; i++) srt[i] = acked(this.sorted[i]) ?? 0
    insertionSort(srt)
    // Ascending order: the value a majority has reached sits quorum places from the right.
    return srt[n - this.quorum]
  }

  /**
   * Counts `votes` (true = granted) of this config's voters; votes of other ids are ignored.
   * Won once a majority granted, Lost once a majority can no longer grant, else Pending. An empty
   * config wins by convention, so a joint config with an empty half behaves like the other half.
   */
  voteResult(votes: ReadonlyMap<number, boolean>): VoteResult {
    if (this.sorted.length === 0) return VoteResult.Won
    let granted = 0
    let missing = 0
    for (const id of this.sorted) {
      const v = votes.get(id)
      if (v === undefined) missing++
      else if (v) granted++
    }
    if (granted >= this.quorum) return VoteResult.Won
    if (granted + missing >= this.quorum) return VoteResult.Pending
    return VoteResult.Lost
  }

  /**
   * A multi-line picture of the acknowledged indexes, one line per voter (etcd's Describe), used
   * by golden files: a bar whose length orders the voters by index, "?" for a voter that acked
   * nothing.
   */
  describe(acked: AckedIndexer): string {
    return describeAcks(this.sorted, acked)
  }

  /** "(1 2 3)", or "()" for the empty config. */
  toString(): string {
    return formatIds(this.sorted)
  }
}

/**
 * Sorts a small array ascending in place. Configs rarely exceed 7 voters, where insertion sort
 * beats Array.prototype.sort with a comparator.
 */
function insertionSort(a: number[]): void {
  for (let i = 1; i < a.length; i++) {
    const v = a[i]
    let j = i - 1
    while (j >= 0 && a[j] > v) {
      a[j + 1] = a[j]
      j--
    }
    a[j + 1] = v
  }
}
