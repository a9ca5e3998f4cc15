/**
 * A simulated network of RawNodes for property tests. Messages wait in one queue and are
 * delivered in any order (reordering and delay), dropped, duplicated, or lost to a partition or
 * a crashed receiver; nodes tick independently (clock drift), crash (also in the middle of
 * handling a Ready) and restart from what they persisted. Random proposals and conf changes are
 * given to random nodes. A SafetyChecker checks every safety property after every step.
 *
 * runScenario(scenario, factory) runs a generated scenario over the storage the factory makes
 * (MemoryStorage in this repository's tests; any Storage that implements SimStorage, such as
 * the RocksDB storage, can be plugged in), then heals every fault and checks liveness.
 * checkRaftProperty(factory, options) runs the whole property test (fast-check) over a factory.
 */
import {LEAVE_JOINT, type AnyConfChange} from '../../../src/raft/conf_change.js'
import {type Config, seededRandom} from '../../../src/raft/config.js'
import {ProposalDroppedError, StepPeerNotFoundError} from '../../../src/raft/errors.js'
import {SnapshotStatus, StateRole} from '../../../src/raft/role.js'
import {
  type ConfChangeSingle, ConfChangeType, EMPTY_BYTES, EMPTY_CONF_STATE, type Message, MessageType, type Snapshot,
} from '../../../src/raft/types.js'
import {SafetyChecker} from './sim_invariants.js'
import {SimNode} from './sim_node.js'
import {type Action, describeAction, type Scenario} from './sim_scenario.js'
import type {StorageFactory} from './sim_storage.js'
import {settle} from './sim_liveness.js'

export {memoryStorageFactory, type SimStorage, type StorageFactory} from './sim_storage.js'
export {type Scenario, scenarioArb} from './sim_scenario.js'

const enc = new TextEncoder()

/** The election and heartbeat ticks of simulated nodes. */
export const ELECTION_TICK = 5

export class Simulator {
  readonly nodes: SimNode[] = []
  queue: Message[] = []
  readonly checker = new SafetyChecker()
  /** The last actions, for failure messages. */
  readonly trace: string[] = []
  /** Nodes switched off for good (removed members during the liveness phase). */
  readonly retired = new Set<number>()
  private groupA = 0
  private proposals = 0
  private incarnations = new Map<number, number>()

  private constructor(readonly sc: Scenario) {}

  /**
   * Creates the group: ids 1..voters are voters and the next `learners` ids learners, all
   * bootstrapped from a snapshot at index 1 naming them; the other ids start empty and can only
   * join through a conf change and a snapshot.
   */
  static async create(sc: Scenario, factory: StorageFactory): Promise<Simulator> {
    const sim = new Simulator(sc)
    const voters = range(1, sc.voters)
    const learners = range(sc.voters + 1, Math.min(sc.nodes, sc.voters + sc.learners))
    const boot: Snapshot = {
      data: EMPTY_BYTES,
      metadata: {index: 1, term: 1, confState: {...EMPTY_CONF_STATE, voters, learners}},
    }
    for (let id = 1; id <= sc.nodes; id++) {
      const store = await factory(id, id <= sc.voters + sc.learners ? boot : undefined)
      sim.nodes.push(new SimNode(id, sim.config(id), store, sim.checker))
    }
    return sim
  }

  /**
   * A node's config; the election randomness differs per scenario, node and incarnation. A third
   * of the scenarios apply committed entries one small page per Ready (maxCommittedSizePerReady).
   */
  private config(id: number): Config {
    const inc = this.incarnations.get(id) ?? 0
    return {
      id, electionTick: ELECTION_TICK, heartbeatTick: 1, maxSizePerMsg: 64, maxInflightMsgs: 4,
      maxCommittedSizePerReady: [0, 8, 1024 * 1024][Math.abs(this.sc.seed) % 3],
      preVote: this.sc.preVote, checkQuorum: this.sc.checkQuorum, stepDownOnRemoval: this.sc.stepDownOnRemoval,
      random: seededRandom(this.sc.seed * 7919 + id * 131 + inc),
    }
  }

  node(n: number): SimNode {
    return this.nodes[(n - 1) % this.nodes.length]
  }

  /** Runs one action, then checks every safety property. */
  async step(a: Action): Promise<void> {
    this.trace.push(describeAction(a))
    if (this.trace.length > 60) this.trace.shift()
    await this.apply(a)
    this.checker.check(this.nodes)
  }

  private async apply(a: Action): Promise<void> {
    switch (a.t) {
      case 'tick': return this.input(a.n, (n) => n.rn!.tick())
      case 'tickAll': return this.tickAll()
      case 'ready': await this.node(a.n).handleReady((m) => this.queue.push(m)); return
      case 'readyAll': await this.readyAll(); return
      case 'deliver': return this.deliverAt(a.k)
      case 'deliverAll': return void this.deliverAll()
      case 'round': await this.readyAll(); this.deliverAll(); return
      case 'drop': return this.dropAt(a.k)
      case 'dup': if (this.queue.length > 0) this.queue.push(this.queue[a.k % this.queue.length]); return
      case 'partition': this.groupA = a.mask; return
      case 'heal': this.groupA = 0; return
      case 'crash': return this.node(a.n).crash()
      case 'crashMidReady': await this.node(a.n).handleReady(() => {}, a.apply); return
      case 'restart': return this.restart(this.node(a.n))
      case 'propose': return this.input(a.n, (n) => n.rn!.propose(enc.encode(`p${++this.proposals}`)))
      case 'confChange': return this.input(a.n, (n) => n.rn!.proposeConfChange(this.confChange(a)))
      case 'leaveJoint': return this.input(a.n, (n) => n.rn!.proposeConfChange(LEAVE_JOINT))
      case 'compact': await this.compact(this.node(a.n), a.back); return
      case 'campaign': return this.input(a.n, (n) => n.rn!.campaign())
      case 'transfer': return this.input(a.n, (n) => n.rn!.transferLeader(this.node(a.to).id))
      case 'leaderLeaves': return this.leaderLeaves(a)
    }
  }

  /** The current leader (if any) proposes to demote itself to learner or to remove itself. */
  private leaderLeaves(a: Extract<Action, {t: 'leaderLeaves'}>): void {
    const l = this.leader()
    if (l === undefined) return
    const change: ConfChangeSingle = {type: a.demote ? ConfChangeType.AddLearnerNode : ConfChangeType.RemoveNode, nodeId: l.id}
    const cc: AnyConfChange = a.v1
      ? {kind: 'v1', id: 0, type: change.type, nodeId: change.nodeId, context: EMPTY_BYTES}
      : {kind: 'v2', transition: a.transition, changes: [change], context: EMPTY_BYTES}
    this.input(l.id, (n) => n.rn!.proposeConfChange(cc))
  }

  /** Gives an input to a running node; a dropped proposal is an expected outcome. */
  input(n: number, f: (n: SimNode) => void): void {
    const node = this.node(n)
    if (node.rn === undefined) return
    try {
      f(node)
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err
    }
  }

  private confChange(a: Extract<Action, {t: 'confChange'}>): AnyConfChange {
    const changes: ConfChangeSingle[] = a.changes.map((c) => ({type: c.type, nodeId: this.node(c.node).id}))
    if (a.v1) return {kind: 'v1', id: 0, type: changes[0].type, nodeId: changes[0].nodeId, context: EMPTY_BYTES}
    return {kind: 'v2', transition: a.transition, changes, context: EMPTY_BYTES}
  }

  tickAll(): void {
    for (const n of this.nodes) if (n.rn !== undefined) n.rn.tick()
  }

  /** Handles the Ready of every running node once; returns whether any had one. */
  async readyAll(): Promise<boolean> {
    let any = false
    for (const n of this.nodes) if (await n.handleReady((m) => this.queue.push(m))) any = true
    return any
  }

  /** Restarts a crashed node (a new incarnation, with new election randomness). */
  async restart(n: SimNode): Promise<void> {
    if (n.rn !== undefined || this.retired.has(n.id)) return
    this.incarnations.set(n.id, (this.incarnations.get(n.id) ?? 0) + 1)
    await n.restart(this.config(n.id))
  }

  /** Compacts a node's log up to `back` entries below its applied index. */
  async compact(n: SimNode, back: number): Promise<boolean> {
    if (n.rn === undefined) return false
    return n.compact(n.applied - back)
  }

  private takeAt(k: number): Message | undefined {
    if (this.queue.length === 0) return undefined
    return this.queue.splice(k % this.queue.length, 1)[0]
  }

  /**
   * Loses a message. A lost snapshot is reported to the sender as failed, as a transport must
   * (a snapshot stream that breaks is noticed; without the report the leader would keep the
   * follower in StateSnapshot forever, as in etcd-io/raft).
   */
  private dropAt(k: number): void {
    const m = this.takeAt(k)
    if (m === undefined || m.msgType !== MessageType.MsgSnapshot) return
    this.nodes[m.from - 1]?.rn?.reportSnapshot(m.to, SnapshotStatus.Failure)
  }

  private deliverAt(k: number): void {
    const m = this.takeAt(k)
    if (m !== undefined) this.deliver(m)
  }

  /** Delivers every queued message in order; returns whether there was any. */
  deliverAll(): boolean {
    const msgs = this.queue
    this.queue = []
    for (const m of msgs) this.deliver(m)
    return msgs.length > 0
  }

  /** Whether a and b are on the same side of the partition. */
  private connected(a: number, b: number): boolean {
    const side = (id: number): number => (this.groupA >> (id - 1)) & 1
    return side(a) === side(b)
  }

  /**
   * Delivers one message. A message lost to a partition or a crashed receiver is reported to
   * the sender as unreachable (as a transport would); a snapshot's fate is reported with
   * reportSnapshot. Refused proposals and responses from removed peers are expected.
   */
  deliver(m: Message): void {
    const to = this.nodes[m.to - 1]
    const lost = to === undefined || to.rn === undefined || !this.connected(m.from, m.to)
    if (!lost) {
      try {
        to.rn!.step(m)
      } catch (err) {
        if (!(err instanceof ProposalDroppedError) && !(err instanceof StepPeerNotFoundError)) throw err
      }
    }
    const from = this.nodes[m.from - 1]
    if (from?.rn === undefined) return
    if (m.msgType === MessageType.MsgSnapshot) {
      from.rn.reportSnapshot(m.to, lost ? SnapshotStatus.Failure : SnapshotStatus.Finish)
    } else if (lost && m.to !== 0) {
      from.rn.reportUnreachable(m.to)
    }
  }

  /** Removes every fault: heals the partition and restarts every crashed node (not retired ones). */
  async healAll(): Promise<void> {
    this.groupA = 0
    for (const n of this.nodes) await this.restart(n)
  }

  /** The running leader with the highest term, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined
    for (const n of this.nodes) {
      const r = n.rn?.raft
      if (r === undefined || r.state !== StateRole.Leader) continue
      if (best === undefined || r.term > best.rn!.raft.term) best = n
    }
    return best
  }

  /** Proposes `data` at a running node; false when it was dropped. */
  propose(n: SimNode, data: string): boolean {
    try {
      n.rn!.propose(enc.encode(data))
      return true
    } catch (err) {
      if (err instanceof ProposalDroppedError) return false
      throw err
    }
  }
}

/** Options of runScenario. */
export interface RunOptions {
  /** The most ticks the liveness phase may take (default 60 election timeouts). */
  readonly livenessTicks?: number
  /** Whether to run the liveness phase after the actions (default true). */
  readonly liveness?: boolean
}

/**
 * Runs a scenario: every action followed by the safety checks, then the liveness phase. Throws
 * (with the last actions in the message) on any violation, core exception or liveness failure.
 */
export async function runScenario(sc: Scenario, factory: StorageFactory, opts: RunOptions = {}): Promise<void> {
  const sim = await Simulator.create(sc, factory)
  try {
    for (const a of sc.actions) await sim.step(a)
    if (opts.liveness === false) return
    sim.trace.push('--- liveness phase ---')
    await settle(sim, opts.livenessTicks ?? 60 * ELECTION_TICK)
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err))
    e.message += `\n  scenario: nodes=${sc.nodes} voters=${sc.voters} learners=${sc.learners} ` +
      `preVote=${sc.preVote} checkQuorum=${sc.checkQuorum} stepDownOnRemoval=${sc.stepDownOnRemoval} seed=${sc.seed} actions=${sc.actions.length}` +
      `\n  last steps:\n    ${sim.trace.join('\n    ')}`
    throw e
  }
}

function range(from: number, to: number): number[] {
  const out: number[] = []
  for (let i = from; i <= to; i++) out.push(i)
  return out
}
