/**
 * The Raft log as the core sees it: the persisted part (Storage) followed by the unstable part.
 * A port of etcd-io/raft v3.6 log.go.
 *
 * Invariants: applied <= applying <= committed <= lastIndex(); firstIndex() - 1 <= committed
 * (a compacted entry is always committed). Entries at or below `committed` are never truncated
 * (Raft paper §5.3, Log Matching; §5.4 Leader Completeness).
 */
import {CompactedError, UnavailableError} from './errors.js'
import {Unstable} from './log_unstable.js'
import type {Storage} from './storage.js'
import type {Entry, Snapshot} from './types.js'
import {entsSize, limitSize, panic} from './util.js'

/** Markers returned by termOrMarker: the entry is compacted / beyond the log. */
const COMPACTED = -1
const UNAVAILABLE = -2

export class RaftLog {
  /** The persisted log entries, snapshot and state. */
  readonly storage: Storage
  /** Entries and a snapshot not yet persisted. */
  readonly unstable: Unstable
  /** The highest index known to be committed on a quorum of nodes. */
  committed: number
  /** The highest index handed to the application for applying (in a Ready). */
  applying: number
  /** The highest index the application has applied. Invariant: applied <= applying. */
  applied: number
  /**
   * The most bytes (entrySize) of committed entries nextCommittedEnts hands out at once, at
   * least one entry (Config.maxCommittedSizePerReady; Infinity: no limit).
   */
  readonly maxCommittedSizePerReady: number

  constructor(storage: Storage, maxCommittedSizePerReady = Number.POSITIVE_INFINITY) {
    this.storage = storage
    this.maxCommittedSizePerReady = maxCommittedSizePerReady
    const firstIndex = storage.firstIndex()
    const lastIndex = storage.lastIndex()
    this.unstable = new Unstable(lastIndex + 1)
    // Initialize committed and applied to the index just before the first entry.
    this.committed = firstIndex - 1
    this.applying = firstIndex - 1
    this.applied = firstIndex - 1
  }

  toString(): string {
    return `committed=${this.committed}, applied=${this.applied}, applying=${this.applying}, ` +
      `unstable.offset=${this.unstable.offset}, unstable.offsetInProgress=${this.unstable.offsetInProgress}, ` +
      `len(unstable.entries)=${this.unstable.entries.length}`
  }

  /**
   * Appends `ents` received from the leader after the entry (prevIndex, prevTerm) if the log
   * contains that entry (§5.3 consistency check), truncating a conflicting suffix, and then
   * commits up to min(committed, last new index). Returns the last index of the appended slice,
   * or undefined when the consistency check fails.
   */
  maybeAppend(prevIndex: number, prevTerm: number, committed: number, ents: readonly Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined
    const lastNewI = prevIndex + ents.length
    const ci = this.findConflict(ents)
    if (ci !== 0) {
      if (ci <= this.committed) panic(`entry ${ci} conflict with committed entry [committed(${this.committed})]`)
      const offset = prevIndex + 1
      if (ci - offset > ents.length) panic(`index ${ci - offset} is out of range [${ents.length}]`)
      this.append(ents.slice(ci - offset))
    }
    this.commitTo(Math.min(committed, lastNewI))
    return lastNewI
  }

  /** Appends entries to the unstable log, truncating after ents[0].index - 1; returns lastIndex. */
  append(ents: readonly Entry[]): number {
    if (ents.length === 0) return this.lastIndex()
    const after = ents[0].index - 1
    if (after < this.committed) panic(`after(${after}) is out of range [committed(${this.committed})]`)
    this.unstable.truncateAndAppend(ents)
    return this.lastIndex()
  }

  /**
   * Returns the index of the first entry in `ents` whose term differs from the entry at the
   * same index in the log (or that the log does not have), or 0 if all match. `ents` must be
   * contiguous.
   */
  findConflict(ents: readonly Entry[]): number {
    for (const ne of ents) {
      if (!this.matchTerm(ne.index, ne.term)) return ne.index
    }
    return 0
  }

  /**
   * Returns the best guess of the largest index in the log at or below `index` whose term is
   * <= `term`, with that term (etcd findConflictByTerm; used for the fast back-off of §5.3).
   * An index whose term is unknown (compacted or unavailable) is returned with term 0.
   */
  findConflictByTerm(index: number, term: number): [number, number] {
    for (; index > 0; index--) {
      const ourTerm = this.termOrMarker(index)
      // Unknown (compacted or unavailable): assume a possible match, with term 0.
      if (ourTerm < 0) return [index, 0]
      if (ourTerm <= term) return [index, ourTerm]
    }
    return [0, 0]
  }

  /** Unstable entries not yet handed out for persisting. */
  nextUnstableEnts(): Entry[] {
    return this.unstable.nextEntries()
  }

  hasNextUnstableEnts(): boolean {
    return this.unstable.entries.length > this.unstable.offsetInProgress - this.unstable.offset
  }

  /** Whether there are unstable entries, handed out or not. */
  hasNextOrInProgressUnstableEnts(): boolean {
    return this.unstable.entries.length > 0
  }

  /**
   * Committed entries not yet handed to the application, in index order and at most
   * maxCommittedSizePerReady bytes of them (at least one); empty while a snapshot is pending.
   * The rest are handed out by the next calls, once these are accepted (acceptApplying). With
   * allowUnstable, entries not yet persisted may be returned (the application persists a
   * Ready's entries before applying its committed entries).
   */
  nextCommittedEnts(allowUnstable: boolean): Entry[] {
    if (this.hasNextOrInProgressSnapshot()) return []
    const lo = this.applying + 1
    const hi = this.maxAppliableIndex(allowUnstable) + 1
    if (lo >= hi) return []
    return this.slice(lo, hi, this.maxCommittedSizePerReady)
  }

  hasNextCommittedEnts(allowUnstable: boolean): boolean {
    if (this.hasNextOrInProgressSnapshot()) return false
    return this.applying + 1 < this.maxAppliableIndex(allowUnstable) + 1
  }

  private maxAppliableIndex(allowUnstable: boolean): number {
    let hi = this.committed
    if (!allowUnstable) hi = Math.min(hi, this.unstable.offset - 1)
    return hi
  }

  nextUnstableSnapshot(): Snapshot | undefined {
    return this.unstable.nextSnapshot()
  }

  hasNextUnstableSnapshot(): boolean {
    return this.unstable.nextSnapshot() !== undefined
  }

  /** Whether there is a pending snapshot, handed out or not. */
  hasNextOrInProgressSnapshot(): boolean {
    return this.unstable.snapshot !== undefined
  }

  /** The latest snapshot: the unstable one, else the storage's (which may throw Unavailable). */
  snapshot(requestIndex: number, to: number): Snapshot {
    if (this.unstable.snapshot !== undefined) return this.unstable.snapshot
    return this.storage.snapshot(requestIndex, to)
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex()
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex()
  }

  /** Raises the commit index. Invariant: never beyond lastIndex(), never lowered. */
  commitTo(toCommit: number): void {
    if (this.committed < toCommit) {
      if (this.lastIndex() < toCommit) {
        panic(`tocommit(${toCommit}) is out of range [lastIndex(${this.lastIndex()})]. ` +
          'Was the raft log corrupted, truncated, or lost?')
      }
      this.committed = toCommit
    }
  }

  /** Records that the application applied entries up to i. */
  appliedTo(i: number): void {
    if (this.committed < i || i < this.applied) {
      panic(`applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`)
    }
    this.applied = i
    this.applying = Math.max(this.applying, i)
  }

  /** Records that committed entries up to i were handed to the application. */
  acceptApplying(i: number): void {
    if (this.committed < i) panic(`applying(${i}) is out of range [prevApplying(${this.applying}), committed(${this.committed})]`)
    this.applying = i
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term)
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i)
  }

  /** Marks the unstable entries and snapshot handed out in a Ready as in progress. */
  acceptUnstable(): void {
    this.unstable.acceptInProgress()
  }

  lastTerm(): number {
    return this.term(this.lastIndex())
  }

  /**
   * The term of entry i. Throws CompactedError below firstIndex() - 1 and UnavailableError above
   * lastIndex(); other storage failures propagate.
   */
  term(i: number): number {
    const t = this.termOrMarker(i)
    if (t === COMPACTED) throw new CompactedError()
    if (t === UNAVAILABLE) throw new UnavailableError()
    return t
  }

  /** The term of entry i, or 0 when it is compacted or beyond the log (zeroTermOnOutOfBounds). */
  termOrZero(i: number): number {
    const t = this.termOrMarker(i)
    return t < 0 ? 0 : t
  }

  /**
   * The term of entry i, or the negative markers COMPACTED / UNAVAILABLE, without throwing (the
   * hot paths of appends probe entries beyond the log constantly). A storage that throws
   * CompactedError or UnavailableError is mapped to the markers; other failures propagate.
   */
  private termOrMarker(i: number): number {
    // Check the unstable log first, even before computing the valid term range, which may need
    // to access stable Storage.
    const t = this.unstable.maybeTerm(i)
    if (t !== undefined) return t
    // The valid term range is [firstIndex-1, lastIndex]: the entry at firstIndex-1 is compacted
    // away but its term is kept for matching purposes.
    if (i + 1 < this.firstIndex()) return COMPACTED
    if (i > this.lastIndex()) return UNAVAILABLE
    try {
      return this.storage.term(i)
    } catch (err) {
      if (err instanceof CompactedError) return COMPACTED
      if (err instanceof UnavailableError) return UNAVAILABLE
      throw err
    }
  }

  /** The entries from index i on, limited to maxSize bytes (at least one). */
  entries(i: number, maxSize: number): Entry[] {
    if (i > this.lastIndex()) return []
    return this.slice(i, this.lastIndex() + 1, maxSize)
  }

  /** Every entry of the log (for tests). */
  allEntries(): Entry[] {
    for (;;) {
      try {
        return this.entries(this.firstIndex(), Number.POSITIVE_INFINITY)
      } catch (err) {
        // Try again if there was a racing compaction.
        if (!(err instanceof CompactedError)) throw err
      }
    }
  }

  /**
   * Whether a log ending in (lastIndex, term) is at least as up-to-date as this one (Raft paper
   * §5.4.1): a later last term wins; with equal last terms the longer log wins.
   */
  isUpToDate(lastIndex: number, term: number): boolean {
    const ourTerm = this.lastTerm()
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex())
  }

  /** Whether the log has an entry at `index` with term `term`. */
  matchTerm(index: number, term: number): boolean {
    return this.termOrMarker(index) === term
  }

  /**
   * Commits up to `index` if the entry there has term `term` (the leader's current term: Raft
   * paper §5.4.2, only entries of the current term are committed by counting replicas).
   */
  maybeCommit(index: number, term: number): boolean {
    // Term 0 never matches: a leader campaigned at term >= 1.
    if (term !== 0 && index > this.committed && this.matchTerm(index, term)) {
      this.commitTo(index)
      return true
    }
    return false
  }

  /** Replaces the log by a snapshot; committed jumps to its index. */
  restore(s: Snapshot): void {
    this.committed = s.metadata.index
    this.unstable.restore(s)
  }

  /**
   * Returns entries in [lo, hi) limited to maxSize bytes (at least one entry when lo < hi).
   * Throws CompactedError if lo is compacted and UnavailableError if the storage cannot answer.
   */
  slice(lo: number, hi: number, maxSize: number): Entry[] {
    this.mustCheckOutOfBounds(lo, hi)
    if (lo === hi) return []
    if (lo >= this.unstable.offset) return limitSize(this.unstable.slice(lo, hi), maxSize)
    const cut = Math.min(hi, this.unstable.offset)
    const ents = this.storage.entries(lo, cut, maxSize === Number.POSITIVE_INFINITY ? undefined : maxSize)
    if (hi <= this.unstable.offset) return ents
    // The storage returned fewer entries than asked: the size limit was reached.
    if (ents.length < cut - lo) return ents
    const size = entsSize(ents)
    if (size >= maxSize) return ents
    const unstable = limitSize(this.unstable.slice(this.unstable.offset, hi), maxSize - size)
    // Total size of unstable may exceed maxSize-size only if it has one entry; then drop it.
    if (unstable.length === 1 && size + entsSize(unstable) > maxSize) return ents
    return ents.concat(unstable)
  }

  /** Throws CompactedError when lo is compacted; lo > hi or hi beyond the log is a bug. */
  private mustCheckOutOfBounds(lo: number, hi: number): void {
    if (lo > hi) panic(`invalid slice ${lo} > ${hi}`)
    const fi = this.firstIndex()
    if (lo < fi) throw new CompactedError()
    const length = this.lastIndex() + 1 - fi
    if (hi > fi + length) panic(`slice[${lo},${hi}) out of bound [${fi},${this.lastIndex()}]`)
  }
}
