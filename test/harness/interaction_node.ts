/**
 * One node of the interaction harness: a RawNode over a MemoryStorage, driven exactly as an
 * application drives it (persist snapshot, hard state and entries; queue messages; apply
 * committed entries, calling applyConfChange for conf changes and saving the ConfState; then
 * advance), plus a tiny state machine (the data of applied normal entries) so that snapshots
 * carry real content.
 *
 * Persistence model: handleReady persists and applies a whole Ready at once, so what a crash
 * loses is the in-memory Raft state changed since the last handled Ready (entries received but
 * not yet persisted, the commit index learned, outgoing messages not yet handed out). The
 * storage, the applied index, the state machine and the ConfState history survive.
 *
 * The core has no logger, so the harness writes etcd-like "INFO" lines itself by comparing the
 * node's role, term, leader, vote and configuration after every input: several transitions
 * inside one input show as one line (e.g. follower -> candidate -> leader prints "became leader").
 */
import {decodeConfChange} from '../../src/raft/conf_change.js'
import type {Config} from '../../src/raft/config.js'
import type {MemoryStorage} from '../../src/raft/memory_storage.js'
import {RawNode} from '../../src/raft/raw_node.js'
import {StateRole} from '../../src/raft/role.js'
import {configToString} from '../../src/raft/tracker/index.js'
import {type ConfState, type Entry, EntryType, type Message, type Snapshot} from '../../src/raft/types.js'
import {describeHardState, describeReady, describeSnapshot, text} from './interaction_format.js'

/** One applied normal entry of the state machine. */
export interface SmEntry {
  readonly index: number
  readonly data: string
}

/** What was last reported about a node, to print only changes. */
interface Observed {
  state: StateRole
  term: number
  lead: number
  vote: number
  conf: string
}

const ROLE_WORD: Record<StateRole, string> = {
  [StateRole.Follower]: 'follower',
  [StateRole.Candidate]: 'candidate',
  [StateRole.PreCandidate]: 'pre-candidate',
  [StateRole.Leader]: 'leader',
}

const enc = new TextEncoder()

/** Encodes a state machine (the applied entries up to a snapshot index) as snapshot data. */
export function encodeSm(sm: readonly SmEntry[]): Uint8Array {
  return enc.encode(JSON.stringify(sm))
}

/** Decodes snapshot data written by encodeSm; empty data is an empty state machine. */
export function decodeSm(data: Uint8Array): SmEntry[] {
  if (data.length === 0) return []
  return JSON.parse(text(data)) as SmEntry[]
}

export class EnvNode {
  /** The running node, or undefined while crashed (and before start()). */
  rn: RawNode | undefined = undefined
  /** The applied index, persisted together with the state machine. */
  applied: number
  /** The state machine: applied normal entries with data. */
  sm: SmEntry[]
  /** The ConfState after each applied conf change or snapshot (ascending index). */
  confHistory: Array<{index: number; cs: ConfState}>
  private seen: Observed | undefined = undefined

  /**
   * Creates and starts a node whose storage is already bootstrapped. `applied` is the index the
   * state machine `sm` reflects (the bootstrap snapshot index, or 0).
   */
  constructor(readonly id: number, readonly storage: MemoryStorage, readonly config: Config, applied: number, sm: SmEntry[]) {
    this.applied = applied
    this.sm = sm
    this.confHistory = [{index: applied, cs: storage.initialState(applied).confState}]
  }

  /** The running RawNode; throws when the node is crashed. */
  raw(): RawNode {
    if (this.rn === undefined) throw new Error(`node ${this.id} is crashed; restart it first`)
    return this.rn
  }

  /** Starts (or restarts) the RawNode from storage with config.applied = the applied index. */
  start(out: string[]): void {
    if (this.rn !== undefined) throw new Error(`node ${this.id} is running; crash it before restarting it`)
    this.rn = new RawNode({...this.config, applied: this.applied}, this.storage)
    const r = this.rn.raft
    this.seen = undefined
    this.observe(out)
    const last = r.raftLog.lastIndex()
    out.push(`INFO newRaft ${this.id} [term: ${r.term}, commit: ${r.raftLog.committed}, applied: ${r.raftLog.applied}, ` +
      `lastindex: ${last}, lastterm: ${r.raftLog.lastTerm()}]`)
  }

  /** Drops the RawNode: everything not persisted by a handled Ready is lost. */
  crash(out: string[]): void {
    this.raw()
    this.rn = undefined
    const hs = this.storage.initialState().hardState
    out.push(`INFO ${this.id} crashed; persisted: HardState ${describeHardState(hs)}, ` +
      `log [${this.storage.firstIndex()}, ${this.storage.lastIndex()}], applied ${this.applied}`)
  }

  /**
   * Prints what changed since the last observation: the configuration, the role and term, the
   * vote (a vote for another node) and the leader (when the role did not change).
   */
  observe(out: string[]): void {
    if (this.rn === undefined) return
    const r = this.rn.raft
    const now: Observed = {state: r.state, term: r.term, lead: r.lead, vote: r.vote, conf: configToString(r.trk.config)}
    const was = this.seen
    this.seen = now
    if (was === undefined || was.conf !== now.conf) out.push(`INFO ${this.id} switched to configuration ${now.conf}`)
    const roleChanged = was === undefined || was.state !== now.state || was.term !== now.term
    if (roleChanged) out.push(`INFO ${this.id} became ${ROLE_WORD[now.state]} at term ${now.term}`)
    if (now.vote !== 0 && now.vote !== this.id && (was === undefined || was.vote !== now.vote || was.term !== now.term)) {
      out.push(`INFO ${this.id} cast vote for ${now.vote} at term ${now.term}`)
    }
    if (!roleChanged && was !== undefined && was.lead !== now.lead) {
      out.push(now.lead === 0 ? `INFO ${this.id} lost its leader at term ${now.term}`
        : `INFO ${this.id} follows leader ${now.lead} at term ${now.term}`)
    }
  }

  /**
   * Handles one Ready: prints it, persists snapshot, hard state and entries, queues the
   * messages, applies the committed entries and advances. Throws if the committed entries do
   * not continue the applied index (a core bug).
   */
  handleReady(out: string[], queue: Message[]): void {
    const rn = this.raw()
    const rd = rn.ready()
    out.push(`> ${this.id} handling Ready`, ...describeReady(rd).map((l) => '  ' + l))
    const lines: string[] = []
    if (rd.snapshot) this.applySnapshot(rd.snapshot)
    if (rd.hardState) this.storage.setHardState(rd.hardState)
    this.storage.append(rd.entries)
    queue.push(...rd.messages)
    for (const e of rd.committedEntries) this.applyEntry(rn, e, lines)
    rn.advance(rd)
    this.observe(lines)
    out.push(...lines.map((l) => '  ' + l))
  }

  private applySnapshot(s: Snapshot): void {
    this.storage.applySnapshot(s)
    this.sm = decodeSm(s.data)
    this.applied = s.metadata.index
    this.confHistory = [{index: s.metadata.index, cs: s.metadata.confState}]
  }

  private applyEntry(rn: RawNode, e: Entry, lines: string[]): void {
    if (e.index !== this.applied + 1) {
      throw new Error(`node ${this.id}: committed entry ${e.index} does not follow applied index ${this.applied}`)
    }
    this.applied = e.index
    if (e.entryType === EntryType.EntryNormal) {
      if (e.data.length > 0) this.sm.push({index: e.index, data: text(e.data)})
      return
    }
    const cs = rn.applyConfChange(decodeConfChange(e))
    this.storage.setConfState(cs, e.index)
    this.confHistory.push({index: e.index, cs})
    this.observe(lines)
  }

  /** The ConfState in force after applying index `i` (i must be >= the oldest history entry). */
  confStateAt(i: number): ConfState {
    let cs: ConfState | undefined
    for (const h of this.confHistory) if (h.index <= i) cs = h.cs
    if (cs === undefined) throw new Error(`node ${this.id}: no ConfState known at index ${i}`)
    return cs
  }

  /**
   * Takes a snapshot at `index` (<= applied) with the state machine and ConfState of that index
   * and compacts the log up to it, as an application does.
   */
  compact(index: number, out: string[]): void {
    if (!Number.isSafeInteger(index) || index <= 0 || index > this.applied) {
      throw new Error(`node ${this.id}: cannot compact to ${index}: must be in [1, applied=${this.applied}]`)
    }
    const snap = this.storage.createSnapshot(index, this.confStateAt(index), encodeSm(this.sm.filter((e) => e.index <= index)))
    this.storage.compact(index)
    out.push(`INFO ${this.id} compacted log to ${index}; snapshot ${describeSnapshot(snap)}`)
  }
}
