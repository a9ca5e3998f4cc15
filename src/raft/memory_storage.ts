/**
 * An in-memory Storage, for tests, the simulated network and the benchmark (etcd-io/raft
 * MemoryStorage, raft-rs MemStorage). The application writes to it after each Ready: append
 * (entries), setHardState, applySnapshot; after applying a conf-change entry, setConfState with
 * that entry's index; and it compacts it with createSnapshot + compact.
 *
 * Invariant: ents[0] is a dummy entry holding the index and term of the latest snapshot (or
 * index 0, term 0 for a fresh log); ents[i] has index ents[0].index + i.
 *
 * Invariant: confs holds the ConfState in force after each index from ents[0].index on, as
 * (index, ConfState) pairs in ascending index order: confs[0].index <= ents[0].index, and every
 * later pair is a conf-change entry of the log that the application applied. So a node restarting
 * with any applied index in [snapshot index, committed] gets the ConfState of that index
 * (initialState(applied)), never a later one whose conf changes it would apply a second time.
 */
import {CompactedError, InvalidInputError, SnapshotOutOfDateError, UnavailableError} from './errors.js'
import type {RaftState, Storage} from './storage.js'
import {
  type ConfState, EMPTY_BYTES, EMPTY_CONF_STATE, EMPTY_HARD_STATE, type Entry, EntryType, type HardState,
  newEntry, type Snapshot,
} from './types.js'
import {limitSize, panic} from './util.js'

export class MemoryStorage implements Storage {
  private hardState: HardState = EMPTY_HARD_STATE
  private confs: Array<{readonly index: number, readonly cs: ConfState}> = [{index: 0, cs: EMPTY_CONF_STATE}]
  private snap: Snapshot = {data: EMPTY_BYTES, metadata: {confState: EMPTY_CONF_STATE, index: 0, term: 0}}
  private ents: Entry[] = [newEntry({term: 0, index: 0})]

  /**
   * Creates a storage. With `voters` (and optionally `learners`) it starts as a bootstrapped
   * group: its ConfState at index 0 (and that of its empty snapshot) names them, as raft-rs's
   * MemStorage::new_with_conf_state and etcd's test storages do.
   */
  static withConfState(cs: Partial<ConfState>): MemoryStorage {
    const s = new MemoryStorage()
    s.setConfState({...EMPTY_CONF_STATE, ...cs}, 0)
    return s
  }

  /**
   * The HardState, and the ConfState in force after entry `applied` — the applied index the node
   * restarts with; by default the snapshot index (a RawNode created with the default applied
   * hands out every committed entry after the snapshot again, its conf changes included).
   */
  initialState(applied: number = this.ents[0].index): RaftState {
    return {hardState: this.hardState, confState: this.confStateAt(applied)}
  }

  /** Saves the current HardState. */
  setHardState(hs: HardState): void {
    this.hardState = hs
  }

  /**
   * Records `cs`, which applyConfChange returned for the conf-change entry at `index`, as the
   * ConfState in force from that index on. Index 0 sets the ConfState of a fresh log (bootstrap).
   * Recording an index again (a node restarted below it applies the entry again) replaces its
   * ConfState and keeps those of later entries. Throws InvalidInputError when `index` is not a
   * conf-change entry of the log.
   */
  setConfState(cs: ConfState, index: number): void {
    checkIndex('setConfState index', index)
    if (index === 0 && this.ents[0].index === 0) {
      this.confs = [{index: 0, cs}, ...this.confs.filter((c) => c.index > 0)]
      this.snap = {...this.snap, metadata: {...this.snap.metadata, confState: cs}}
      return
    }
    const offset = this.ents[0].index
    const e = index > offset && index <= this.lastIndex() ? this.ents[index - offset] : undefined
    if (e === undefined || e.entryType === EntryType.EntryNormal) {
      throw new InvalidInputError(`setConfState index ${index} is not a conf-change entry in the log [${offset + 1}, ${this.lastIndex()}]`)
    }
    this.confs = [...this.confs.filter((c) => c.index < index), {index, cs}, ...this.confs.filter((c) => c.index > index)]
  }

  /** The ConfState in force after entry `i` (the oldest one kept when i precedes them all). */
  private confStateAt(i: number): ConfState {
    let cs = this.confs[0].cs
    for (const c of this.confs) if (c.index <= i) cs = c.cs
    return cs
  }

  /** Keeps the pairs needed from index `i` on: the one in force at `i` and every later one. */
  private dropConfsBefore(i: number): void {
    const atI = {index: i, cs: this.confStateAt(i)}
    this.confs = [atI, ...this.confs.filter((c) => c.index > i)]
  }

  entries(lo: number, hi: number, maxSize?: number): Entry[] {
    const offset = this.ents[0].index
    if (lo <= offset) throw new CompactedError()
    if (hi > this.lastIndex() + 1) panic(`entries' hi(${hi}) is out of bound lastindex(${this.lastIndex()})`)
    const ents = this.ents.slice(lo - offset, hi - offset)
    return maxSize === undefined ? ents : limitSize(ents, maxSize)
  }

  term(i: number): number {
    const offset = this.ents[0].index
    if (i < offset) throw new CompactedError()
    if (i - offset >= this.ents.length) throw new UnavailableError()
    return this.ents[i - offset].term
  }

  lastIndex(): number {
    return this.ents[0].index + this.ents.length - 1
  }

  firstIndex(): number {
    return this.ents[0].index + 1
  }

  snapshot(_requestIndex: number, _to: number): Snapshot {
    return this.snap
  }

  /**
   * Overwrites the contents of this storage with the snapshot (after a Ready carried one).
   * Throws SnapshotOutOfDateError if it is not newer than the snapshot already held.
   */
  applySnapshot(snap: Snapshot): void {
    const msIndex = this.snap.metadata.index
    const snapIndex = snap.metadata.index
    if (msIndex >= snapIndex) {
      throw new SnapshotOutOfDateError(`snapshot at index ${snapIndex} is not newer than ${msIndex}`)
    }
    this.snap = snap
    this.confs = [{index: snapIndex, cs: snap.metadata.confState}]
    this.ents = [newEntry({term: snap.metadata.term, index: snap.metadata.index})]
  }

  /**
   * Makes a snapshot at index i (which the application has applied) with the given ConfState
   * (default: the one in force at i, as recorded by setConfState) and state-machine data; it is served to followers that fell behind
   * compaction. Throws SnapshotOutOfDateError if i is not newer than the current snapshot.
   */
  createSnapshot(i: number, cs: ConfState | undefined, data: Uint8Array): Snapshot {
    checkIndex('createSnapshot index', i)
    if (i <= this.snap.metadata.index) {
      throw new SnapshotOutOfDateError(`snapshot at index ${i} is not newer than ${this.snap.metadata.index}`)
    }
    const offset = this.ents[0].index
    if (i > this.lastIndex()) panic(`snapshot ${i} is out of bound lastindex(${this.lastIndex()})`)
    const confState = cs ?? this.confStateAt(i)
    this.snap = {data, metadata: {index: i, term: this.ents[i - offset].term, confState}}
    this.confs = [{index: i, cs: confState}, ...this.confs.filter((c) => c.index > i)]
    return this.snap
  }

  /**
   * Discards all log entries before compactIndex; the entry at compactIndex becomes the dummy.
   * The application must not compact beyond its applied index. Throws CompactedError if
   * compactIndex is already compacted.
   */
  compact(compactIndex: number): void {
    checkIndex('compact index', compactIndex)
    const offset = this.ents[0].index
    if (compactIndex <= offset) throw new CompactedError()
    if (compactIndex > this.lastIndex()) {
      panic(`compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`)
    }
    const i = compactIndex - offset
    this.dropConfsBefore(compactIndex)
    this.ents = [newEntry({index: this.ents[i].index, term: this.ents[i].term})].concat(this.ents.slice(i + 1))
  }

  /**
   * Appends entries (contiguous, ascending), overwriting any existing entries at or after
   * entries[0].index. Entries below firstIndex() are ignored.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return
    const first = this.firstIndex()
    const last = entries[0].index + entries.length - 1
    // Shortcut if there is no new entry.
    if (last < first) return
    // Truncate compacted entries.
    let ents = entries
    if (first > entries[0].index) ents = entries.slice(first - entries[0].index)
    const offset = ents[0].index - this.ents[0].index
    if (this.ents.length > offset) {
      this.ents = this.ents.slice(0, offset).concat(ents)
    } else if (this.ents.length === offset) {
      for (const e of ents) this.ents.push(e)
    } else {
      panic(`missing log entry [last: ${this.lastIndex()}, append at: ${ents[0].index}]`)
    }
  }
}

/** Indexes given by the application must be safe integers >= 0 (DESIGN.md §2, Numbers). */
function checkIndex(what: string, i: number): void {
  if (!Number.isSafeInteger(i) || i < 0) throw new InvalidInputError(`${what} ${String(i)} is not an integer in 0..2^53-1`)
}
