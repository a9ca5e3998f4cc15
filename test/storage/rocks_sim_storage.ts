/**
 * The Raft property simulator's storage (test/raft/property/sim_storage.ts) over the real
 * RocksDB-backed RaftStorage, so that the core runs the same simulated-network property test on
 * the storage a node uses in production.
 *
 * Mapping of the SimStorage contract onto RaftStorage:
 * - persist(rd): RaftStorage.persist({snapshot, entries, hardState}), one synced batch.
 * - saveConfState(cs): the simulator calls it right after applying a conf-change entry. Entries
 *   are applied in order and every conf-change entry reaches saveConfState exactly once, so the
 *   entry being applied is the first conf-change entry after the storage's applied index. The
 *   normal entries before it are marked applied one by one (as the server's applier does, one
 *   batch per entry), then RaftStorage.applyConfChange writes the ConfState with the applied
 *   index in one batch.
 * - compact(index, cs, data): marks the normal entries up to `index` applied, records the
 *   snapshot (RaftStorage.createSnapshot) and compacts with the factory's trailing count. With
 *   trailing 0 (the contract's exact meaning) firstIndex() becomes index + 1; with trailing k > 0
 *   k entries before the snapshot stay in the log, as a production node keeps them.
 * - reopen(): a restart from disk. It closes the RocksDB database and opens the data dir again,
 *   so the restarted RawNode reads only what RocksDB returned. Before returning it checks that the
 *   reloaded state (hard state, ConfState, snapshot, log, applied index) is byte-for-byte the
 *   state the closed storage held in memory: memory must never run ahead of (or differ from) disk.
 *
 * Resource handling: RocksStorageFactory keeps every storage it opened. A new scenario starts
 * with factory(1, ...) (the simulator creates nodes 1..n in order), which closes every database
 * of the previous scenario and removes its dirs; closeAll() does the same at the end of a test.
 */
import {mkdirSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import type {Ready} from '../../src/raft/raw_node.js'
import {type ConfState, EntryType, type Snapshot} from '../../src/raft/types.js'
import {encodeConfState, encodeEntry, encodeHardState, encodeSnapshot} from '../../src/raftpb/codec.js'
import {RaftStorage} from '../../src/storage/raft_storage.js'
import type {SimStorage, StorageFactory} from '../raft/property/sim_storage.js'

/** The cluster id every simulated data dir is created with. */
const SIM_CLUSTER_ID = 7

/** What a factory did over a run; a test asserts these are non-zero so a pass is not vacuous. */
export interface RocksSimStats {
  opened: number
  reopened: number
  snapshotsRecorded: number
  entriesCompacted: number
  confStatesSaved: number
}

/** The durable state a storage exposes, in canonical byte form, for the reopen comparison. */
function capture(rs: RaftStorage): Map<string, string> {
  const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
  const out = new Map<string, string>()
  const {hardState, confState} = rs.initialState()
  out.set('hardState', hex(encodeHardState(hardState)))
  out.set('confState', hex(encodeConfState(confState)))
  out.set('snapshot', hex(encodeSnapshot(rs.snapshot(0, 0))))
  out.set('firstIndex', String(rs.firstIndex()))
  out.set('lastIndex', String(rs.lastIndex()))
  out.set('dummyTerm', String(rs.term(rs.firstIndex() - 1)))
  out.set('applied', `${rs.applied.index}/${rs.applied.term}`)
  const ents = rs.lastIndex() >= rs.firstIndex() ? rs.entries(rs.firstIndex(), rs.lastIndex() + 1) : []
  out.set('entries', ents.map((e) => hex(encodeEntry(e))).join(','))
  return out
}

/** Throws naming every field where the reopened storage differs from the closed one. */
function expectSameState(dir: string, before: Map<string, string>, after: Map<string, string>): void {
  const diffs: string[] = []
  for (const [k, v] of before) {
    const w = after.get(k)
    if (w !== v) diffs.push(`${k}: before close ${v.slice(0, 120)}, after reopen ${String(w).slice(0, 120)}`)
  }
  if (diffs.length > 0) {
    throw new Error(`restart from disk of ${dir} did not restore the persisted state:\n  ${diffs.join('\n  ')}`)
  }
}

export class RocksSimStorage implements SimStorage {
  constructor(
    readonly storage: RaftStorage, private readonly owner: RocksStorageFactory, private readonly trailing: number,
  ) {}

  async persist(rd: Ready): Promise<void> {
    await this.storage.persist({entries: rd.entries, hardState: rd.hardState, snapshot: rd.snapshot})
  }

  async saveConfState(cs: ConfState): Promise<void> {
    const rs = this.storage
    const from = rs.applied.index + 1
    const pending = rs.lastIndex() >= from ? rs.entries(from, rs.lastIndex() + 1) : []
    const cc = pending.find((e) => e.entryType !== EntryType.EntryNormal)
    if (cc === undefined) {
      throw new Error(`node ${rs.nodeId}: saveConfState called but no conf-change entry follows applied index ${from - 1}`)
    }
    for (const e of pending) {
      if (e === cc) break
      await rs.markApplied(e.index, e.term)
    }
    await rs.applyConfChange(cc.index, cc.term, {confState: cs})
    this.owner.stats.confStatesSaved++
  }

  async compact(index: number, cs: ConfState, data: Uint8Array): Promise<void> {
    const rs = this.storage
    for (let i = rs.applied.index + 1; i <= index; i++) {
      const e = rs.entries(i, i + 1)[0]
      if (e.entryType !== EntryType.EntryNormal) {
        throw new Error(`node ${rs.nodeId}: compact(${index}) but conf-change entry ${i} was never saved`)
      }
      await rs.markApplied(i, e.term)
    }
    if (index > rs.snapshot(0, 0).metadata.index) {
      await rs.createSnapshot(index, cs, data)
      this.owner.stats.snapshotsRecorded++
    }
    const before = rs.firstIndex()
    const to = await rs.compact(index, {trailing: this.trailing})
    this.owner.stats.entriesCompacted += rs.firstIndex() - before
    const expected = Math.max(before - 1, index - this.trailing)
    if (to !== expected) {
      throw new Error(`node ${rs.nodeId}: compact(${index}) with trailing ${this.trailing} compacted to ${to}, expected ${expected}`)
    }
  }

  async reopen(): Promise<SimStorage> {
    const rs = this.storage
    const before = capture(rs)
    await this.owner.close(rs)
    const fresh = await this.owner.open(rs.dir, {clusterId: SIM_CLUSTER_ID, nodeId: rs.nodeId})
    expectSameState(rs.dir, before, capture(fresh))
    this.owner.stats.reopened++
    return new RocksSimStorage(fresh, this.owner, this.trailing)
  }
}

/**
 * Makes RocksSimStorages in data dirs under `baseDir` (which the caller creates and removes).
 * `trailing` is the number of entries compaction keeps before a snapshot.
 */
export class RocksStorageFactory {
  readonly stats: RocksSimStats = {opened: 0, reopened: 0, snapshotsRecorded: 0, entriesCompacted: 0, confStatesSaved: 0}
  private readonly open_ = new Set<RaftStorage>()
  private readonly dirs: string[] = []
  private scenario = 0

  constructor(private readonly baseDir: string, private readonly trailing = 0) {}

  /** The StorageFactory to hand to checkRaftProperty. */
  readonly factory: StorageFactory = async (id: number, boot: Snapshot | undefined): Promise<SimStorage> => {
    if (id === 1) {
      await this.closeAll()
      this.scenario++
    }
    const dir = join(this.baseDir, `s${this.scenario}-n${id}`)
    mkdirSync(dir, {recursive: true})
    this.dirs.push(dir)
    const rs = await this.open(dir, {clusterId: SIM_CLUSTER_ID, nodeId: id, create: true})
    this.stats.opened++
    // The founding nodes start from the group's snapshot at index 1 (as the server's bootstrap
    // does); a spare node starts empty and can only join through a snapshot.
    if (boot !== undefined) await rs.persist({snapshot: boot})
    return new RocksSimStorage(rs, this, this.trailing)
  }

  /** @internal Opens a data dir and tracks the storage until it is closed. */
  async open(dir: string, o: {clusterId: number, nodeId: number, create?: boolean}): Promise<RaftStorage> {
    const rs = await RaftStorage.open(dir, {...o, compactTrailing: this.trailing})
    this.open_.add(rs)
    return rs
  }

  /** @internal Closes one storage. */
  async close(rs: RaftStorage): Promise<void> {
    this.open_.delete(rs)
    await rs.close()
  }

  /** The number of databases currently open. */
  get openCount(): number {
    return this.open_.size
  }

  /** Closes every open database and removes every data dir made so far. */
  async closeAll(): Promise<void> {
    const all = [...this.open_]
    this.open_.clear()
    const errors: unknown[] = []
    for (const rs of all) await rs.close().catch((err: unknown) => errors.push(err))
    for (const d of this.dirs.splice(0)) rmSync(d, {recursive: true, force: true})
    if (errors.length > 0) throw errors[0]
  }
}
