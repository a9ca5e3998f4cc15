/**
 * The liveness phase of the simulator (Raft paper §5.2, §9.3: with a healed network and a stable
 * membership, a leader is elected and makes progress). Every fault is removed: the partition is
 * healed, crashed nodes restart, messages are delivered reliably and in order, every node ticks
 * at the same rate, and no conf change is proposed any more — except the empty ConfChangeV2 that
 * an application must propose to leave an explicit joint config. Once the leader's configuration
 * is stable (not joint, nothing pending), nodes that are not members are switched off (as an
 * operator would) and a fresh proposal must be applied by every voter within the tick budget.
*/
import {LEAVE_JOINT} from '../../../src/raft/conf_change.js'
import {configToString} from '../../../src/raft/tracker/index.js'
import type {SimNode} from './sim_node.js'
import type {Simulator} from './simulator.js'

/** The most Ready/delivery rounds one tick may cause before the group must be quiet. */
const MAX_ROUNDS_PER_TICK = 200

/** Handles Readys and delivers messages until nothing is left, checking safety each round. */
export async function quiesce(sim: Simulator): Promise<void> {
  for (let round = 0; round < MAX_ROUNDS_PER_TICK; round++) {
    const readies = await sim.readyAll()
    const msgs = sim.deliverAll()
    sim.checker.check(sim.nodes)
    if (!readies && !msgs) return
  }
  throw new Error(`liveness: the group did not quiesce within ${MAX_ROUNDS_PER_TICK} rounds of one tick`)
}

function hasApplied(n: SimNode, data: string): boolean {
  return n.rn !== undefined && n.stateMachine().some((e) => e.data === data)
}

/** A proposal made for the liveness check, with the leadership it was made under. */
interface Marker {
  readonly data: string
  readonly leader: number
  readonly term: number
}

/**
 * Runs the liveness phase. Throws when no proposal is applied by every voter of the leader's
 * stable configuration within `maxTicks` ticks.
 */
export async function settle(sim: Simulator, maxTicks: number): Promise<void> {
  await sim.healAll()
  await quiesce(sim)
  let marker: Marker | undefined
  let attempts = 0
  for (let tick = 0; tick < maxTicks; tick++) {
    sim.tickAll()
    await quiesce(sim)
    const leader = sim.leader()
    if (leader === undefined) continue
    const r = leader.rn!.raft
    const cfg = r.trk.config
    const members = new Set([...cfg.voters.ids(), ...cfg.learners])
    // Only a leader whose term no member exceeds is authoritative: a stale leader's view of the
    // membership may miss changes committed in later terms. (A removed node may campaign at ever
    // higher terms that the members ignore; it does not count.)
    if (r.term < maxTerm(sim, members)) continue
    const joint = cfg.voters.isJoint()
    const pending = r.pendingConfIndex > r.raftLog.applied || r.raftLog.applied < r.raftLog.committed
    if (joint && !cfg.autoLeave && !pending) {
      sim.input(leader.id, (n) => n.rn!.proposeConfChange(LEAVE_JOINT))
      continue
    }
    if (joint || pending) continue
    for (const n of sim.nodes) {
      if (members.has(n.id)) continue
      n.crash()
      sim.retired.add(n.id)
    }
    // Defensive: a leader that is not a member was switched off just now (a removed leader
    // steps down by itself, but a stale view could name one): elect anew.
    if (leader.rn === undefined) continue
    if (marker === undefined || marker.leader !== leader.id || marker.term !== r.term) {
      const data = `live${++attempts}`
      if (sim.propose(leader, data)) marker = {data, leader: leader.id, term: r.term}
    }
    const voters = [...cfg.voters.ids()]
    if (marker !== undefined && voters.every((id) => hasApplied(sim.nodes[id - 1], marker!.data))) return
  }
  throw new Error(`liveness violated: after healing, no proposal was applied by every voter within ${maxTicks} ticks\n` +
    sim.nodes.map(describeNode).join('\n'))
}

/** The highest term of the running nodes in `ids`. */
function maxTerm(sim: Simulator, ids: ReadonlySet<number>): number {
  let t = 0
  for (const n of sim.nodes) if (n.rn !== undefined && ids.has(n.id)) t = Math.max(t, n.rn.raft.term)
  return t
}

function describeNode(n: SimNode): string {
  if (n.rn === undefined) return `  node ${n.id}: down`
  const r = n.rn.raft
  return `  node ${n.id}: ${r.state} term=${r.term} lead=${r.lead} commit=${r.raftLog.committed} ` +
    `applied=${r.raftLog.applied} last=${r.raftLog.lastIndex()} first=${r.raftLog.firstIndex()} ` +
    `pendingConf=${r.pendingConfIndex} config=${configToString(r.trk.config)}`
}
