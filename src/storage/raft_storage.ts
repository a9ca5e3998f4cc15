/**
 * RaftStorage: the core's Storage over one RocksDB database per node (DESIGN.md §3).
 *
 * Reads are synchronous and served from memory: at open every un-compacted log entry is loaded
 * ("preload"); compaction (compact()) keeps the log bounded, so memory stays bounded too.
 * Writes go to RocksDB first, in one atomic batch with sync: true, and memory is updated only
 * after the batch committed. A node restarts by opening the same data dir: `initialState()`,
 * `firstIndex()`, `lastIndex()` and `applied` then describe exactly what was durable, and the
 * RawNode is built with `applied` as its config's applied index.
 *
 * Two locks order the writes. The log lock serializes persist / compact / recordSnapshot; the
 * state lock serializes applying entries (commitApplied) and anything that must see the applied
 * state consistently (KV reads opening an iterator, snapshot creation). Restoring a snapshot
 * takes both.
 */
import {join} from 'node:path'
import {existsSync} from 'node:fs'
import {SnapshotOutOfDateError, UnavailableError} from '../raft/errors.js'
import type {RaftState, Storage} from '../raft/storage.js'
import {
  type ConfState, EMPTY_BYTES, type Entry, type HardState, type Snapshot,
  type SnapshotMetadata,
} from '../raft/types.js'
import {encodeConfState, encodeEntry, encodeHardState, encodeSnapshot} from '../raftpb/codec.js'
import type {BatchOp, Db} from './db.js'
import {StorageMisuseError} from './errors.js'
import {
  APPLIED_KEY, CONF_STATE_KEY, HARD_STATE_KEY, LOG_START_KEY, SNAPSHOT_KEY, logKey, memberKey,
} from './keys.js'
import type {LoadedState} from './load.js'
import {checkHardState, checkIndex, planAppend, planCompaction} from './log_plan.js'
import {MemoryLog} from './memory_log.js'
import {Mutex} from './mutex.js'
import {openDataDir, type OpenOptions} from './open.js'
import {encodeIndexTerm, encodeMember, type IndexTerm, type MemberInfo} from './records.js'
import {type BatchSink, DEFAULT_COMPACT_TRAILING, type MembershipChange, OpList, type PersistInput} from './write_types.js'

export {type BatchSink, DEFAULT_COMPACT_TRAILING, type MembershipChange, OpList, type PersistInput} from './write_types.js'

export type {OpenOptions} from './open.js'

/** The log and hard-state part of a Ready (what addReadyWrites writes). */
export type ReadyWrites = Pick<PersistInput, 'entries' | 'hardState'>

/** Bounds of a log holding entries [first, last]; empty when first = last + 1. */
export interface LogBounds {
  readonly first: number
  readonly last: number
}

/** The (empty) log right after a snapshot at `index` is installed: it restarts at index + 1. */
export function logBoundsAfterSnapshot(index: number): LogBounds {
  return {first: index + 1, last: index}
}

export class RaftStorage implements Storage {
  private readonly log: MemoryLog
  private hs: HardState
  private cs: ConfState
  private snap: Snapshot
  private appliedAt: IndexTerm
  private readonly memberMap: Map<number, MemberInfo>
  private readonly logLock = new Mutex()
  private readonly stateLock = new Mutex()
  /** The highest index a snapshot() call asked for beyond the latest snapshot (0 = none). */
  snapshotRequested = 0
  /** The cluster and node this data dir belongs to (from r/ident). */
  readonly clusterId: number
  readonly nodeId: number

  private constructor(
    readonly dir: string, readonly db: Db, loaded: LoadedState, readonly compactTrailing: number,
  ) {
    this.log = new MemoryLog(loaded.logStart, loaded.entries)
    this.hs = loaded.hardState
    this.cs = loaded.confState
    this.snap = loaded.snapshot
    this.appliedAt = loaded.applied
    this.memberMap = loaded.members
    this.clusterId = loaded.identity.clusterId
    this.nodeId = loaded.identity.nodeId
  }

  /**
   * Opens the data dir `dir` (RocksDB in dir/db, snapshot files in dir/snap). See OpenOptions
   * for creation and identity checks. Throws DataDirError, ForeignDataDirError or
   * StorageCorruptError (each naming the dir) instead of opening anything doubtful.
   */
  static async open(dir: string, options: OpenOptions = {}): Promise<RaftStorage> {
    const trailing = checkIndex('compactTrailing', options.compactTrailing ?? DEFAULT_COMPACT_TRAILING)
    const {db, loaded} = await openDataDir(dir, options)
    return new RaftStorage(dir, db, loaded, trailing)
  }

  // ---- Storage (synchronous, from memory) ----

  initialState(): RaftState {
    return {hardState: this.hs, confState: this.cs}
  }

  entries(lo: number, hi: number, maxSize?: number): Entry[] {
    return this.log.entries(lo, hi, maxSize)
  }

  term(i: number): number {
    return this.log.term(i)
  }

  firstIndex(): number {
    return this.log.firstIndex()
  }

  lastIndex(): number {
    return this.log.lastIndex()
  }

  /**
   * Returns the latest snapshot: its metadata, and inline `data` (empty for snapshots whose
   * state-machine image is a snapshot file; the server streams snapshotPath(metadata)). When it
   * is older than `requestIndex` it throws UnavailableError and records the request in
   * `snapshotRequested`, so the server knows to create a newer one.
   */
  snapshot(requestIndex: number, _to: number): Snapshot {
    if (this.snap.metadata.index < requestIndex) {
      this.snapshotRequested = Math.max(this.snapshotRequested, requestIndex)
      throw new UnavailableError(`snapshot at ${this.snap.metadata.index} is older than requested index ${requestIndex}`)
    }
    return this.snap
  }

  // ---- state accessors ----

  get hardState(): HardState {
    return this.hs
  }

  get confState(): ConfState {
    return this.cs
  }

  /** The index and term of the last applied entry (persisted with the state machine's writes). */
  get applied(): IndexTerm {
    return this.appliedAt
  }

  /** Member metadata ordered by id. */
  members(): MemberInfo[] {
    return [...this.memberMap.values()].sort((a, b) => a.id - b.id)
  }

  member(id: number): MemberInfo | undefined {
    return this.memberMap.get(id)
  }

  /** The directory holding snapshot files. */
  get snapshotDir(): string {
    return join(this.dir, 'snap')
  }

  /** The canonical file name of the snapshot with `meta`: <term>-<index>.snap in 16 hex digits. */
  snapshotPath(meta: Pick<SnapshotMetadata, 'index' | 'term'>): string {
    const hex = (n: number): string => n.toString(16).padStart(16, '0')
    return join(this.snapshotDir, `${hex(meta.term)}-${hex(meta.index)}.snap`)
  }

  /** The latest snapshot's file, when it has one on disk. */
  latestSnapshotFile(): string | undefined {
    if (this.snap.metadata.index === 0) return undefined
    const p = this.snapshotPath(this.snap.metadata)
    return existsSync(p) ? p : undefined
  }

  // ---- writes ----

  /**
   * Persists one Ready in ONE atomic batch with sync: true: a newer inline snapshot (which resets
   * the log to it, see addSnapshotReset), the entries and the hard state (addReadyWrites). A
   * snapshot not newer than the latest one is ignored. The server installs snapshot files with
   * KvStore.restoreSnapshot(meta, ready) instead, which writes the same Ready writes into its
   * restore batch. Memory changes only after the write.
   */
  persist(input: PersistInput): Promise<void> {
    const snap = input.snapshot
    const run = async (): Promise<void> => {
      const ops = new OpList()
      const after: Array<() => void> = []
      let base = this.logBounds()
      if (snap !== undefined && snap.metadata.index > this.snap.metadata.index) {
        after.push(this.addSnapshotReset(ops, snap, undefined))
        base = logBoundsAfterSnapshot(snap.metadata.index)
      }
      after.push(this.addReadyWrites(ops, input, base))
      if (ops.ops.length === 0) return
      await this.db.write(ops.ops, {sync: true})
      for (const f of after) f()
    }
    return snap === undefined ? this.logLock.run(run) : this.exclusiveAll(run)
  }

  /** The log's current bounds: entries [first, last] (first = last + 1 when empty). */
  logBounds(): LogBounds {
    return {first: this.log.firstIndex(), last: this.log.lastIndex()}
  }

  /**
   * Adds a Ready's log and hard-state writes to `target` (an OpList or a ChainedBatch), for a log
   * holding [base.first, base.last] when the batch is written (logBoundsAfterSnapshot when the
   * same batch installs a snapshot): every entry at or after the first new index is replaced, a
   * conflicting suffix beyond the last new entry is deleted (Raft §5.3), and the hard state is
   * written. Everything is checked before anything is added, so a refused Ready adds nothing.
   * Returns the function that updates memory once the batch committed (run it after the reset's,
   * if any). Must run inside the log lock (persist) or exclusiveAll (snapshot restore).
   */
  addReadyWrites(target: BatchSink, ready: ReadyWrites, base: LogBounds): () => void {
    const plan = planAppend(base.first, base.last, ready.entries ?? [])
    const newLast = plan.put.length > 0 ? plan.put[plan.put.length - 1].index : base.last
    let hs = ready.hardState
    if (hs !== undefined) {
      checkHardState(hs)
      if (hs.commit > newLast) {
        throw new StorageMisuseError(`hard state commit ${hs.commit} is beyond the last log index ${newLast}`)
      }
      hs = {term: hs.term, vote: hs.vote, commit: hs.commit}
    }
    for (let i = plan.deleteFrom; i <= plan.deleteTo; i++) target.del(logKey(i))
    for (const e of plan.put) target.put(logKey(e.index), encodeEntry(e))
    if (hs !== undefined) target.put(HARD_STATE_KEY, encodeHardState(hs))
    const newHs = hs
    return () => {
      this.log.append(plan.put)
      if (newHs !== undefined) this.hs = newHs
    }
  }

  /**
   * Deletes log entries up to min(index, latest snapshot index) - compactTrailing, and never an
   * entry at or above `minRetainIndex` (see minRetainIndex() in log_plan.ts for the rule the
   * caller uses to choose it). The deletion of the whole range and the new log start are one
   * batch. Returns the new firstIndex() - 1.
   */
  compact(index: number, options: {minRetainIndex?: number, trailing?: number} = {}): Promise<number> {
    checkIndex('compact index', index)
    if (options.minRetainIndex !== undefined) checkIndex('minRetainIndex', options.minRetainIndex)
    return this.logLock.run(async () => {
      const compacted = this.log.dummy.index
      const to = planCompaction({
        requested: index, snapshotIndex: this.snap.metadata.index,
        trailing: options.trailing ?? this.compactTrailing, minRetainIndex: options.minRetainIndex,
        compacted, last: this.log.lastIndex(),
      })
      if (to <= compacted) return compacted
      const start = {index: to, term: this.log.term(to)}
      const ops = new OpList()
      for (let i = compacted + 1; i <= to; i++) ops.del(logKey(i))
      ops.put(LOG_START_KEY, encodeIndexTerm(start))
      await this.db.write(ops.ops, {sync: true})
      this.log.compact(start)
      return to
    })
  }

  /**
   * Records a snapshot the application created at `meta.index` (which it has applied), so that
   * snapshot() serves it and compact() may go up to it. `data` is inline state-machine data
   * (empty when the image is a snapshot file). Throws SnapshotOutOfDateError when not newer.
   */
  recordSnapshot(meta: SnapshotMetadata, data: Uint8Array = EMPTY_BYTES): Promise<Snapshot> {
    return this.logLock.run(async () => {
      checkIndex('snapshot index', meta.index, 1)
      if (meta.index <= this.snap.metadata.index) {
        throw new SnapshotOutOfDateError(`snapshot at ${meta.index} is not newer than ${this.snap.metadata.index}`)
      }
      if (meta.index > this.log.lastIndex()) {
        throw new StorageMisuseError(`snapshot index ${meta.index} is beyond the last log index ${this.log.lastIndex()}`)
      }
      if (meta.index >= this.log.dummy.index && this.log.term(meta.index) !== meta.term) {
        throw new StorageMisuseError(`snapshot term ${meta.term} differs from the term ${this.log.term(meta.index)} of entry ${meta.index}`)
      }
      const snap: Snapshot = {data, metadata: meta}
      await this.db.write([{type: 'put', key: SNAPSHOT_KEY, value: encodeSnapshot(snap)}], {sync: true})
      this.snap = snap
      return snap
    })
  }

  /**
   * MemoryStorage-style helper: records a snapshot at applied index i with the ConfState `cs`
   * (default: the current one) and inline `data`. Equivalent to recordSnapshot.
   */
  createSnapshot(i: number, cs: ConfState | undefined, data: Uint8Array): Promise<Snapshot> {
    return this.recordSnapshot({index: i, term: this.log.term(i), confState: cs ?? this.cs}, data)
  }

  /** Marks entry (index, term) applied without state-machine writes (tests, no-op entries). */
  markApplied(index: number, term: number): Promise<boolean> {
    return this.exclusive(() => this.commitApplied(index, term, []))
  }

  /** Runs fn under the state lock (see the class comment). */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    return this.stateLock.run(fn)
  }

  /** Runs fn under both locks (state first, then log). */
  exclusiveAll<T>(fn: () => Promise<T> | T): Promise<T> {
    return this.stateLock.run(() => this.logLock.run(fn))
  }

  /**
   * Writes the state-machine ops of entry (index, term), the new applied index and an optional
   * membership change in ONE batch with sync: true. Must run inside exclusive(). Returns false
   * (and writes nothing) when the entry was already applied; throws when it is not the next one.
   */
  async commitApplied(index: number, term: number, ops: readonly BatchOp[], change?: MembershipChange): Promise<boolean> {
    checkIndex('applied index', index, 1)
    checkIndex('applied term', term)
    if (index <= this.appliedAt.index) return false
    if (index !== this.appliedAt.index + 1) {
      throw new StorageMisuseError(`cannot apply entry ${index}: the applied index is ${this.appliedAt.index} (entries are applied in order)`)
    }
    const list = new OpList()
    list.ops.push(...ops)
    const after = this.addMembership(list, change)
    const applied = {index, term}
    list.put(APPLIED_KEY, encodeIndexTerm(applied))
    await this.db.write(list.ops, {sync: true})
    after()
    this.appliedAt = applied
    return true
  }

  /** Applies a conf-change entry: its ConfState and member metadata, with the applied index. */
  applyConfChange(index: number, term: number, change: MembershipChange): Promise<boolean> {
    return this.exclusive(() => this.commitApplied(index, term, [], change))
  }

  /**
   * Adds to `sink` everything that installs `snap` as the node's state, except the state-machine
   * data: the log reset (every entry deleted, the log restarts after the snapshot), the snapshot
   * record, its ConfState, the applied index = snapshot index, the hard state's commit raised to
   * the snapshot index (and its term to the snapshot's term, with the vote cleared), and (when
   * given) the member list replacing the current one. A Ready's own hard state, added after
   * this with addReadyWrites, overrides that one in the batch. Returns the function that updates
   * memory once the batch committed. Must run inside exclusiveAll().
   */
  addSnapshotReset(sink: BatchSink, snap: Snapshot, members: readonly MemberInfo[] | undefined): () => void {
    const meta = snap.metadata
    checkIndex('snapshot index', meta.index)
    checkIndex('snapshot term', meta.term)
    for (let i = this.log.firstIndex(); i <= this.log.lastIndex(); i++) sink.del(logKey(i))
    const start = {index: meta.index, term: meta.term}
    sink.put(LOG_START_KEY, encodeIndexTerm(start))
    sink.put(SNAPSHOT_KEY, encodeSnapshot(snap))
    sink.put(APPLIED_KEY, encodeIndexTerm(start))
    // A vote belongs to its term: when the snapshot raises the term, the old vote (cast in an
    // earlier term) must not become a vote in the new one, so it is cleared (Raft §5.2).
    const raised = meta.term > this.hs.term
    const hs = {
      term: raised ? meta.term : this.hs.term, vote: raised ? 0 : this.hs.vote,
      commit: Math.max(this.hs.commit, meta.index),
    }
    sink.put(HARD_STATE_KEY, encodeHardState(hs))
    const change: MembershipChange = members === undefined
      ? {confState: meta.confState}
      : {confState: meta.confState, putMembers: members, removeMembers: [...this.memberMap.keys()]}
    const afterMembers = this.addMembership(sink, change)
    return () => {
      this.log.reset(start)
      this.snap = snap
      this.appliedAt = start
      this.hs = hs
      afterMembers()
    }
  }

  /** Releases the database. Waits for writes in progress. */
  async close(): Promise<void> {
    await this.exclusiveAll(() => this.db.close())
  }

  /** Adds conf state and member records; removals come before puts so an id can be replaced. */
  private addMembership(sink: BatchSink, change: MembershipChange | undefined): () => void {
    if (change === undefined) return () => {}
    const removed = change.removeMembers ?? []
    const put = change.putMembers ?? []
    for (const id of removed) sink.del(memberKey(checkIndex('member id', id, 1)))
    for (const m of put) sink.put(memberKey(checkIndex('member id', m.id, 1)), encodeMember(m))
    const cs = change.confState
    if (cs !== undefined) sink.put(CONF_STATE_KEY, encodeConfState(cs))
    return () => {
      for (const id of removed) this.memberMap.delete(id)
      for (const m of put) this.memberMap.set(m.id, m)
      if (cs !== undefined) this.cs = cs
    }
  }
}

