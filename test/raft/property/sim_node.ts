/**
 * One simulated node: a RawNode over a SimStorage plus the application around it — a state
 * machine that records applied entries, the ConfState history needed to take snapshots at any
 * applied index, and the Ready loop (persist, send, apply, advance).
 *
 * Durability model: the storage holds the log, hard state, ConfState and snapshot; the applied
 * index, the state machine and the ConfState history are persisted together with each applied
 * entry (as DESIGN.md §3 does in one write batch). A crash drops the RawNode and everything it
 * held in memory; restart() reopens the storage and starts a RawNode with config.applied set to
 * the persisted applied index.
 */
import {decodeConfChange} from '../../../src/raft/conf_change.js'
import type {Config} from '../../../src/raft/config.js'
import {type Ready, RawNode} from '../../../src/raft/raw_node.js'
import {type ConfState, type Entry, EntryType, type Message, type Snapshot} from '../../../src/raft/types.js'
import type {SimStorage} from './sim_storage.js'

/** What a node reports to the safety checker while it persists and applies. */
export interface ApplyObserver {
  /** Called after a node persisted a Ready. */
  persisted(node: number, rd: Ready): void
  /** Called for every entry a node applies, in order. */
  applied(node: number, e: Entry): void
  /** Called when a node installs a snapshot into its state machine. */
  restored(node: number, snap: Snapshot): void
}

/** The identity of an entry: index, term, type and payload. Equal ids mean the same entry. */
export function entryId(e: Entry): string {
  let id = idCache.get(e)
  if (id === undefined) {
    let hex = ''
    for (const b of e.data) hex += b.toString(16).padStart(2, '0')
    id = `${e.index}/${e.term}/${e.entryType}/${hex}`
    idCache.set(e, id)
  }
  return id
}

/** Entries are immutable, so their ids are computed once. */
const idCache = new WeakMap<Entry, string>()

const enc = new TextEncoder()
const dec = new TextDecoder()

/** One applied normal entry of the state machine: its id (so snapshots can be checked) and data. */
export interface SmEntry {
  readonly index: number
  readonly id: string
  readonly data: string
}

export class SimNode {
  rn: RawNode | undefined
  store: SimStorage
  applied: number
  private sm: SmEntry[] = []
  private confHistory: Array<{index: number; cs: ConfState}>

  constructor(readonly id: number, readonly config: Config, store: SimStorage, private readonly obs: ApplyObserver) {
    this.store = store
    const snapIndex = store.storage.firstIndex() - 1
    this.applied = snapIndex
    this.confHistory = [{index: snapIndex, cs: store.storage.initialState().confState}]
    this.rn = new RawNode({...config, applied: snapIndex}, store.storage)
  }

  get alive(): boolean {
    return this.rn !== undefined
  }

  /** Drops the RawNode: only what the storage and the applied state persisted survives. */
  crash(): void {
    this.rn = undefined
  }

  /** Restarts from persisted state with `config` (no-op when running). */
  async restart(config: Config): Promise<void> {
    if (this.rn !== undefined) return
    this.store = await this.store.reopen()
    this.rn = new RawNode({...config, applied: this.applied}, this.store.storage)
    await this.snapshotAfterConfChange()
  }

  /**
   * Handles the node's Ready if it has one: persist, hand the messages to `send`, apply the
   * committed entries (at most `applyLimit` of them, then crash, to model a crash in the
   * middle of applying) and advance. Returns whether there was a Ready.
   */
  async handleReady(send: (m: Message) => void, applyLimit = Infinity): Promise<boolean> {
    const rn = this.rn
    if (rn === undefined || !rn.hasReady()) return false
    const rd = rn.ready()
    await this.store.persist(rd)
    this.obs.persisted(this.id, rd)
    if (rd.snapshot) this.installSnapshot(rd.snapshot)
    if (applyLimit !== Infinity) {
      // A crash after persisting: the messages are never sent, only some entries are applied.
      for (const e of rd.committedEntries.slice(0, applyLimit)) await this.apply(rn, e)
      this.crash()
      return true
    }
    for (const m of rd.messages) send(m)
    for (const e of rd.committedEntries) await this.apply(rn, e)
    rn.advance(rd)
    await this.snapshotAfterConfChange()
    return true
  }

  /**
   * The application policy of DESIGN.md §2: after applying a conf change, take a snapshot, so that
   * the latest snapshot always names every member and a new node can catch up from it. (Without
   * it, a leader whose latest snapshot predates the change that added a node sends that snapshot,
   * the node refuses it, and the leader sends it again after every answer.)
   */
  async snapshotAfterConfChange(): Promise<void> {
    if (this.rn !== undefined && this.needsConfSnapshot()) await this.compact(this.applied)
  }

  private installSnapshot(s: Snapshot): void {
    const m = s.metadata
    if (m.index <= this.applied) throw new Error(`node ${this.id}: snapshot ${m.index} is not newer than applied ${this.applied}`)
    this.sm = decodeSnapshotSm(s.data)
    this.applied = m.index
    this.confHistory = [{index: m.index, cs: m.confState}]
    this.obs.restored(this.id, s)
  }

  private async apply(rn: RawNode, e: Entry): Promise<void> {
    if (e.index !== this.applied + 1) {
      throw new Error(`node ${this.id}: applies entry ${e.index} but its applied index is ${this.applied}`)
    }
    this.obs.applied(this.id, e)
    this.applied = e.index
    if (e.entryType === EntryType.EntryNormal) {
      if (e.data.length > 0) this.sm.push({index: e.index, id: entryId(e), data: dec.decode(e.data)})
      return
    }
    const cs = rn.applyConfChange(decodeConfChange(e))
    await this.store.saveConfState(cs, e.index)
    this.confHistory.push({index: e.index, cs})
  }

  /** The ConfState after applying index i (snapshot index <= i <= applied). */
  confStateAt(i: number): ConfState {
    let cs: ConfState | undefined
    for (const h of this.confHistory) if (h.index <= i) cs = h.cs
    if (cs === undefined) throw new Error(`node ${this.id}: no ConfState known at index ${i}`)
    return cs
  }

  /**
   * Whether the node applied a conf change after its latest snapshot: the application policy of
   * DESIGN.md §2 then takes a snapshot, so that a newly added node can catch up from it.
   */
  needsConfSnapshot(): boolean {
    const last = this.confHistory[this.confHistory.length - 1].index
    return last > this.store.storage.firstIndex() - 1
  }

  /** Snapshots at `index` (clamped into (snapshot index, applied]) and compacts; false if nothing to do. */
  async compact(index: number): Promise<boolean> {
    const first = this.store.storage.firstIndex()
    const i = Math.min(index, this.applied)
    if (i < first) return false
    const data = enc.encode(JSON.stringify(this.sm.filter((e) => e.index <= i)))
    await this.store.compact(i, this.confStateAt(i), data)
    return true
  }

  /** The state machine: the applied normal entries with data, in index order. */
  stateMachine(): readonly SmEntry[] {
    return this.sm
  }
}

/** Decodes the state machine carried by snapshot data. */
export function decodeSnapshotSm(data: Uint8Array): SmEntry[] {
  return data.length === 0 ? [] : JSON.parse(dec.decode(data)) as SmEntry[]
}
