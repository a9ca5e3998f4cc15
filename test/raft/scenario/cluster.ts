/**
 * A cluster of RawNodes over MemoryStorage driven exactly as an application drives them: each
 * Ready is persisted (snapshot, entries, hard state), its messages queued, its committed entries
 * applied (conf changes decoded and passed to applyConfChange, the ConfState saved), then
 * advanced. Messages are delivered in rounds; links can be cut and nodes isolated, crashed and
 * restarted from what they persisted. Used by the end-to-end scenario tests.
 */
import {decodeConfChange} from '../../../src/raft/conf_change.js'
import type {Config} from '../../../src/raft/config.js'
import {ProposalDroppedError, StepPeerNotFoundError} from '../../../src/raft/errors.js'
import {MemoryStorage} from '../../../src/raft/memory_storage.js'
import {type Ready, RawNode} from '../../../src/raft/raw_node.js'
import type {ReadState} from '../../../src/raft/read_only.js'
import {StateRole} from '../../../src/raft/role.js'
import {
  type ConfChange, type ConfChangeV2, type ConfState, EMPTY_CONF_STATE, type Entry, EntryType,
  type Message, MessageType,
} from '../../../src/raft/types.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

export interface ClusterNode {
  readonly id: number
  rn: RawNode
  readonly storage: MemoryStorage
  /** The state machine: data of applied normal entries, in order. */
  applied: string[]
  /** Index of every applied entry (normal or conf change), for safety checks. */
  appliedIndexes: Map<number, string>
  /** The ConfState after the last applied conf change or snapshot. */
  confState: ConfState
  /** Every ConfState this node applied, in order (bootstrap first). */
  confHistory: ConfState[]
  readStates: ReadState[]
  /** Every Ready seen, for assertions on Ready contents. */
  readies: Ready[]
}

export class Cluster {
  readonly nodes = new Map<number, ClusterNode>()
  queue: Message[] = []
  /** Every message delivered, for assertions. */
  readonly delivered: Message[] = []
  private readonly cutLinks = new Set<string>()
  private readonly down = new Set<number>()
  private readonly config: (id: number) => Partial<Config>
  /** When set, a queued message is delivered only if the hook returns true. */
  msgHook: ((m: Message) => boolean) | undefined = undefined

  /**
   * Starts a bootstrapped cluster: every node's storage begins with a snapshot at index 1 whose
   * ConfState names `voters` and `learners` (as etcd's bootstrap does), so that a node added
   * later with an empty log must receive a snapshot to learn the configuration.
   */
  constructor(voters: number[], opts: {learners?: number[]; config?: (id: number) => Partial<Config>} = {}) {
    this.config = opts.config ?? (() => ({}))
    const cs: ConfState = {...EMPTY_CONF_STATE, voters, learners: opts.learners ?? []}
    for (const id of [...voters, ...(opts.learners ?? [])]) this.addNode(id, cs)
  }

  /** Adds a node; `cs` is its bootstrap ConfState (empty for a node joining via conf change). */
  addNode(id: number, cs: ConfState = EMPTY_CONF_STATE): ClusterNode {
    const storage = new MemoryStorage()
    if (cs.voters.length > 0) {
      storage.applySnapshot({data: enc.encode('[]'), metadata: {index: 1, term: 0, confState: cs}})
    }
    const node: ClusterNode = {
      id, storage, rn: this.newRawNode(id, storage, 0), applied: [], appliedIndexes: new Map(), confState: cs,
      confHistory: [cs], readStates: [], readies: [],
    }
    this.nodes.set(id, node)
    return node
  }

  private newRawNode(id: number, storage: MemoryStorage, applied: number): RawNode {
    return new RawNode({
      id, electionTick: 10, heartbeatTick: 1, maxSizePerMsg: Number.MAX_SAFE_INTEGER, maxInflightMsgs: 256,
      applied, ...this.config(id),
    }, storage)
  }

  node(id: number): ClusterNode {
    const n = this.nodes.get(id)
    if (n === undefined) throw new Error(`no node ${id}`)
    return n
  }

  rn(id: number): RawNode {
    return this.node(id).rn
  }

  /** Handles one Ready of node `id` as an application would; returns false if none. */
  processReady(id: number): boolean {
    const n = this.node(id)
    if (this.down.has(id) || !n.rn.hasReady()) return false
    const rd = n.rn.ready()
    n.readies.push(rd)
    if (rd.snapshot) this.persistSnapshot(n, rd)
    n.storage.append(rd.entries)
    if (rd.hardState) n.storage.setHardState(rd.hardState)
    this.queue.push(...rd.messages)
    for (const e of rd.committedEntries) this.apply(n, e)
    n.readStates.push(...rd.readStates)
    n.rn.advance(rd)
    return true
  }

  private persistSnapshot(n: ClusterNode, rd: Ready): void {
    const s = rd.snapshot!
    n.storage.applySnapshot(s)
    n.applied = JSON.parse(dec.decode(s.data)) as string[]
    n.confState = s.metadata.confState
    n.confHistory.push(n.confState)
  }

  private apply(n: ClusterNode, e: Entry): void {
    const prev = n.appliedIndexes.get(e.index)
    const key = `${e.term}/${e.entryType}/${dec.decode(e.data)}`
    if (prev !== undefined && prev !== key) throw new Error(`node ${n.id} applied two entries at ${e.index}`)
    n.appliedIndexes.set(e.index, key)
    if (e.entryType === EntryType.EntryNormal) {
      if (e.data.length > 0) n.applied.push(dec.decode(e.data))
      return
    }
    const cs = n.rn.applyConfChange(decodeConfChange(e))
    n.confState = cs
    n.confHistory.push(cs)
    n.storage.setConfState(cs, e.index)
  }

  /** Delivers the queued messages once (messages they cause are queued for the next round). */
  deliver(): number {
    const msgs = this.queue
    this.queue = []
    let count = 0
    for (const m of msgs) {
      if (!this.deliverable(m)) continue
      count++
      this.delivered.push(m)
      try {
        this.node(m.to).rn.step(m)
      } catch (err) {
        if (!(err instanceof ProposalDroppedError) && !(err instanceof StepPeerNotFoundError)) throw err
      }
    }
    return count
  }

  private deliverable(m: Message): boolean {
    if (!this.nodes.has(m.to) || this.down.has(m.to) || this.down.has(m.from)) return false
    if (this.cutLinks.has(`${m.from}-${m.to}`)) return false
    return this.msgHook === undefined || this.msgHook(m)
  }

  /** Processes Readies and delivers messages until nothing is left (bounded). */
  stabilize(maxRounds = 500): void {
    for (let round = 0; round < maxRounds; round++) {
      let busy = false
      for (const id of [...this.nodes.keys()].sort((a, b) => a - b)) {
        while (this.processReady(id)) busy = true
      }
      if (this.deliver() > 0) busy = true
      if (!busy && this.queue.length === 0) return
    }
    throw new Error(`cluster did not stabilize in ${maxRounds} rounds`)
  }

  /** Ticks node `id` (or every running node) n times, stabilizing after each tick. */
  tick(n = 1, id?: number): void {
    for (let i = 0; i < n; i++) {
      for (const nid of id === undefined ? [...this.nodes.keys()] : [id]) {
        if (!this.down.has(nid)) this.rn(nid).tick()
      }
      this.stabilize()
    }
  }

  /** Makes `id` campaign and stabilizes. */
  campaign(id: number): void {
    this.rn(id).campaign()
    this.stabilize()
  }

  /** Proposes `data` at `id` and stabilizes. */
  propose(id: number, data: string): void {
    this.rn(id).propose(enc.encode(data))
    this.stabilize()
  }

  /** Proposes a conf change at `id` and stabilizes. */
  proposeConfChange(id: number, cc: ConfChange | ConfChangeV2): void {
    this.rn(id).proposeConfChange(cc)
    this.stabilize()
  }

  /** The id of the running leader of the highest term, or 0. */
  leader(): number {
    let best = 0
    let bestTerm = -1
    for (const [id, n] of this.nodes) {
      const st = n.rn.status()
      if (!this.down.has(id) && st.role === StateRole.Leader && st.term > bestTerm) {
        best = id
        bestTerm = st.term
      }
    }
    return best
  }

  cut(a: number, b: number): void {
    this.cutLinks.add(`${a}-${b}`)
    this.cutLinks.add(`${b}-${a}`)
  }

  /** Cuts every link of `id`. */
  isolate(id: number): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cut(id, other)
  }

  /** Heals every cut link. */
  heal(): void {
    this.cutLinks.clear()
  }

  /** Stops a node: it keeps only what its storage persisted. */
  crash(id: number): void {
    this.down.add(id)
  }

  /** Restarts a crashed node from its storage, with its applied index restored. */
  restart(id: number): void {
    const n = this.node(id)
    this.down.delete(id)
    const applied = Math.max(...n.appliedIndexes.keys(), n.storage.firstIndex() - 1, 0)
    n.rn = this.newRawNode(id, n.storage, Math.min(applied, n.storage.initialState().hardState.commit))
  }

  /** Takes a snapshot of `id`'s state machine at its applied index and compacts its log there. */
  compact(id: number, keep = 0): void {
    const n = this.node(id)
    const applied = n.rn.status().applied
    if (applied <= n.storage.snapshot(0, id).metadata.index) return
    n.storage.createSnapshot(applied, n.confState, enc.encode(JSON.stringify(n.applied)))
    if (applied - keep > n.storage.firstIndex() - 1) n.storage.compact(applied - keep)
  }

  /** The messages of type t delivered so far. */
  deliveredOf(t: MessageType): Message[] {
    return this.delivered.filter((m) => m.msgType === t)
  }
}
