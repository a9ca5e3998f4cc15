/**
 * The persistent storage of a simulated node, abstracted so that the same property test can run
 * over MemoryStorage (here) and later over the RocksDB storage: a StorageFactory makes one
 * SimStorage per node, and the simulator only ever writes through it.
 *
 * Contract (what the simulator assumes, and what a real storage must provide):
 * - persist(rd) makes the Ready's snapshot, hard state and entries durable, in that order and
 *   atomically, before any of the Ready's messages is sent;
 * - saveConfState(cs, index) makes durable the ConfState applyConfChange returned for the
 *   conf-change entry at `index`;
 * - compact(index, cs, data) makes durable a snapshot at `index` (already applied) with that
 *   ConfState and state-machine data, and discards the log up to and including `index`;
 * - reopen() is a process restart: it returns a storage that holds exactly what was made durable
 *   (nothing that lives only in memory), which the restarted RawNode reads.
 * Every method may return a promise (a disk-backed storage writes asynchronously); the simulator
 * awaits it before doing anything else, so a write completes before the Ready's messages are
 * sent. The Storage reads of the core stay synchronous, as the Storage interface requires.
 */
import {MemoryStorage} from '../../../src/raft/memory_storage.js'
import type {Ready} from '../../../src/raft/raw_node.js'
import type {Storage} from '../../../src/raft/storage.js'
import {type ConfState, EntryType, type Snapshot} from '../../../src/raft/types.js'

/** One node's persistent storage as the simulator uses it. */
export interface SimStorage {
  /** The core's read-only view, passed to `new RawNode(config, storage)`. */
  readonly storage: Storage
  /** Persists rd.snapshot, rd.hardState and rd.entries (atomically, before sending messages). */
  persist(rd: Ready): void | Promise<void>
  /** Persists the ConfState applyConfChange returned for the conf-change entry at `index`. */
  saveConfState(cs: ConfState, index: number): void | Promise<void>
  /** Persists a snapshot at `index` (<= applied) and compacts the log up to it. */
  compact(index: number, cs: ConfState, data: Uint8Array): void | Promise<void>
  /** Simulates a restart: a storage holding exactly what was persisted. */
  reopen(): SimStorage | Promise<SimStorage>
}

/**
 * Makes the storage of node `id`: bootstrapped from `boot` (a snapshot naming the initial
 * members) when given, otherwise empty (a node that can only join by receiving a snapshot).
 */
export type StorageFactory = (id: number, boot: Snapshot | undefined) => SimStorage | Promise<SimStorage>

/**
 * A SimStorage over MemoryStorage. reopen() copies the persisted snapshot, entries, hard state
 * and the ConfState of every conf-change entry saved so far into a fresh MemoryStorage, so that
 * a restarted node shares no object with its previous incarnation.
 */
export class MemorySimStorage implements SimStorage {
  /** The index of the last conf-change entry whose ConfState was saved. */
  private savedConf = 0

  constructor(readonly storage: MemoryStorage) {}

  persist(rd: Ready): void {
    if (rd.snapshot) this.storage.applySnapshot(rd.snapshot)
    if (rd.hardState) this.storage.setHardState(rd.hardState)
    this.storage.append(rd.entries)
  }

  saveConfState(cs: ConfState, index: number): void {
    this.storage.setConfState(cs, index)
    this.savedConf = index
  }

  compact(index: number, cs: ConfState, data: Uint8Array): void {
    this.storage.createSnapshot(index, cs, data)
    this.storage.compact(index)
  }

  reopen(): SimStorage {
    const s = this.storage
    const fresh = new MemoryStorage()
    const snap = s.snapshot(0, 0)
    if (snap.metadata.index > 0) fresh.applySnapshot(snap)
    const first = s.firstIndex()
    const last = s.lastIndex()
    const ents = last >= first ? s.entries(first, last + 1) : []
    fresh.append(ents)
    fresh.setHardState(s.initialState().hardState)
    for (const e of ents) {
      if (e.entryType !== EntryType.EntryNormal && e.index <= this.savedConf) fresh.setConfState(s.initialState(e.index).confState, e.index)
    }
    const reopened = new MemorySimStorage(fresh)
    reopened.savedConf = this.savedConf
    return reopened
  }
}

/** The StorageFactory of MemoryStorage. */
export const memoryStorageFactory: StorageFactory = (_id, boot) => {
  const s = new MemoryStorage()
  if (boot !== undefined) s.applySnapshot(boot)
  return new MemorySimStorage(s)
}
