/**
 * The interaction harness (etcd-io/raft rafttest.InteractionEnv in TypeScript): several RawNodes
 * over MemoryStorage driven by golden-file scripts through the datadriven runner. Messages go
 * into one queue when a node's Ready is handled and stay there until delivered (or dropped).
 *
 * Commands (ids are node ids; nodes are numbered 1, 2, ... in the order they are added):
 *
 *   add-nodes N [voters=(1,2,3)] [learners=(4)] [index=I] [content=S] [prevote=true]
 *       [checkquorum=true] [step-down-on-removal=false] [read-only=lease] [max-size-per-msg=N]
 *       [max-inflight=N]
 *     Adds N nodes. With voters/learners they are bootstrapped with that ConfState: by a
 *     snapshot at index I (term 1, data S) when index is given, else by the storage's ConfState.
 *     Without voters they start empty (a node that joins by conf change). Election tick 3,
 *     heartbeat tick 1, no timeout randomization (so tick-election is deterministic).
 *   campaign ID                     the node campaigns (MsgHup)
 *   propose ID DATA                 proposes DATA
 *   propose-conf-change ID [v1=true] [transition=auto|implicit|explicit]
 *       input: changes "v2 l3 r1 u4" (AddNode, AddLearnerNode, RemoveNode, UpdateNode);
 *       an empty input proposes the empty ConfChangeV2 that leaves a joint config
 *   process-ready ID...             handles each node's Ready (persist, send, apply, advance)
 *   deliver-msgs [ID...] [drop=(ID,...)]  delivers queued messages to the nodes (all when none
 *       given), in queue order; messages to nodes in drop= are dropped instead
 *   stabilize [ID...]               process-ready + deliver-msgs until nothing changes (bounded)
 *   tick-heartbeat ID / tick-election ID   ticks heartbeatTick / electionTick times
 *   raft-log ID                     the persisted log of the node
 *   raft-state                      role, term and leader of every node
 *   status ID                       term, vote, commit, applied, config, and progress on a leader
 *   partition (1,2) (3)  /  heal    drop messages between groups (unlisted nodes are alone)
 *   crash ID  /  restart ID         lose everything not persisted / restart from storage
 *   compact ID INDEX                snapshot at INDEX and compact the log
 *   transfer-leadership from=ID to=ID
 *   report-unreachable ID PEER      node ID reports PEER unreachable
 *   report-snapshot ID PEER [status=finish|failure]
 *   read-index ID CTX               a ReadIndex request with context CTX
 *
 * Errors the core reports on purpose (a dropped proposal, a refused conf change, a message from
 * an unknown peer) are printed as "ERROR <code> ..." lines; any other exception fails the test.
 */
import {ConfChangeTransition, ConfChangeType, type ConfChangeSingle, type ConfChange, type ConfChangeV2,
  EMPTY_BYTES, type Message} from '../../src/raft/types.js'
import {ProposalDroppedError, RaftError, RaftInvariantError} from '../../src/raft/errors.js'
import {SnapshotStatus} from '../../src/raft/role.js'
import type {AnyConfChange} from '../../src/raft/conf_change.js'
import {findArg, type TestData} from './datadriven.js'
import {describeMessage} from './interaction_format.js'
import {EnvNode} from './interaction_node.js'
import {addNodes, printRaftLog, printRaftState, printStatus} from './interaction_cmds.js'

/** The most rounds stabilize runs before it reports that the group does not settle. */
const MAX_STABILIZE_ROUNDS = 200

const enc = new TextEncoder()

export class InteractionEnv {
  readonly nodes: EnvNode[] = []
  /** Messages handed out by Readys and not yet delivered or dropped, in order. */
  queue: Message[] = []
  /** The partition groups (node id -> group number), empty when healed. */
  private groups = new Map<number, number>()

  /** Handles one test case and returns its output. */
  handle(td: TestData): string {
    const out: string[] = []
    this.run(td, out)
    return out.length === 0 ? 'ok' : out.join('\n')
  }

  /** The node with id `id`; throws naming the position when there is none. */
  node(id: number, td: TestData): EnvNode {
    const n = this.nodes[id - 1]
    if (n === undefined) throw new Error(`${td.pos}: no node ${id}`)
    return n
  }

  private run(td: TestData, out: string[]): void {
    switch (td.cmd) {
      case 'add-nodes': return addNodes(this, td, out)
      case 'campaign': return this.input(td, out, (n) => n.raw().campaign())
      case 'propose': return this.input(td, out, (n) => n.raw().propose(enc.encode(posArg(td, 1, 'data'))))
      case 'propose-conf-change': return this.input(td, out, (n) => n.raw().proposeConfChange(parseConfChange(td)))
      case 'process-ready': return this.eachNode(td, (n) => this.processReady(n, out))
      case 'deliver-msgs': return this.deliverCmd(td, out)
      case 'stabilize': return this.stabilize(td, out)
      case 'tick-heartbeat': return this.input(td, out, (n) => tickN(n, n.raw().raft.heartbeatTimeout))
      case 'tick-election': return this.input(td, out, (n) => tickN(n, n.raw().raft.electionTimeout))
      case 'raft-log': return printRaftLog(this.node(idArg(td, 0), td), out)
      case 'raft-state': return printRaftState(this, out)
      case 'status': return printStatus(this.node(idArg(td, 0), td), out)
      case 'partition': return this.partition(td, out)
      case 'heal': this.groups = new Map(); return
      case 'crash': return this.node(idArg(td, 0), td).crash(out)
      case 'restart': return this.node(idArg(td, 0), td).start(out)
      case 'compact': return this.node(idArg(td, 0), td).compact(numArg(td, 1, 'index'), out)
      case 'transfer-leadership': return this.transfer(td, out)
      case 'report-unreachable': return this.input(td, out, (n) => n.raw().reportUnreachable(idArg(td, 1)))
      case 'report-snapshot': return this.input(td, out, (n) => n.raw().reportSnapshot(idArg(td, 1), snapStatus(td)))
      case 'read-index': return this.input(td, out, (n) => n.raw().readIndex(enc.encode(posArg(td, 1, 'ctx'))))
      default: throw new Error(`${td.pos}: unknown command "${td.cmd}"`)
    }
  }

  /** Gives an input to the node named by the first argument and prints what it changed. */
  private input(td: TestData, out: string[], f: (n: EnvNode) => void): void {
    const n = this.node(idArg(td, 0), td)
    catchExpected(out, () => f(n))
    n.observe(out)
  }

  private transfer(td: TestData, out: string[]): void {
    const from = this.node(keyId(td, 'from'), td)
    const to = keyId(td, 'to')
    catchExpected(out, () => from.raw().transferLeader(to))
    from.observe(out)
  }

  private eachNode(td: TestData, f: (n: EnvNode) => void): void {
    if (td.args.length === 0) throw new Error(`${td.pos}: ${td.cmd} needs node ids`)
    for (let i = 0; i < td.args.length; i++) f(this.node(idArg(td, i), td))
  }

  private processReady(n: EnvNode, out: string[]): void {
    const rn = n.raw()
    if (!rn.hasReady()) {
      out.push(`> ${n.id} handling Ready`, '  <empty Ready>')
      return
    }
    n.handleReady(out, this.queue)
  }

  private deliverCmd(td: TestData, out: string[]): void {
    const drop = new Set((findArg(td, 'drop')?.vals ?? []).map(Number))
    const ids = td.args.filter((a) => a.vals.length === 0).map((a) => parseId(a.key, td))
    const targets = ids.length > 0 ? ids : [...new Set(this.queue.map((m) => m.to))].sort((a, b) => a - b)
    for (const id of targets) this.deliverTo(id, drop.has(id), out)
  }

  /** Delivers (or drops) every queued message to `id`; returns whether there was any. */
  deliverTo(id: number, drop: boolean, out: string[]): boolean {
    const msgs = this.queue.filter((m) => m.to === id)
    if (msgs.length === 0) return false
    this.queue = this.queue.filter((m) => m.to !== id)
    const n = this.nodes[id - 1]
    out.push(`> ${id} receiving messages`)
    for (const m of msgs) {
      const why = drop ? 'dropped' : n === undefined ? 'dropped (no such node)'
        : n.rn === undefined ? 'dropped (node crashed)' : !this.canTalk(m.from, m.to) ? 'dropped (partition)' : ''
      if (why !== '') {
        out.push(`  ${why}: ${describeMessage(m)}`)
        continue
      }
      out.push(`  ${describeMessage(m)}`)
      const lines: string[] = []
      catchExpected(lines, () => n!.raw().step(m))
      n!.observe(lines)
      out.push(...lines.map((l) => '  ' + l))
    }
    return true
  }

  private stabilize(td: TestData, out: string[]): void {
    const ids = td.args.length > 0 ? td.args.map((_, i) => idArg(td, i)) : this.nodes.map((n) => n.id)
    for (let round = 0; round < MAX_STABILIZE_ROUNDS; round++) {
      let done = true
      for (const id of ids) {
        const n = this.node(id, td)
        if (n.rn !== undefined && n.rn.hasReady()) {
          done = false
          n.handleReady(out, this.queue)
        }
      }
      for (const id of ids) if (this.deliverTo(id, false, out)) done = false
      if (done) return
    }
    throw new Error(`${td.pos}: stabilize did not settle within ${MAX_STABILIZE_ROUNDS} rounds`)
  }

  private partition(td: TestData, out: string[]): void {
    const groups = new Map<number, number>()
    td.args.forEach((a, g) => {
      if (!a.key.startsWith('(') || !a.key.endsWith(')') || a.vals.length > 0) {
        throw new Error(`${td.pos}: partition takes groups like (1,2) (3), got "${a.key}"`)
      }
      for (const s of a.key.slice(1, -1).split(',')) {
        const id = parseId(s.trim(), td)
        if (groups.has(id)) throw new Error(`${td.pos}: node ${id} is in two partition groups`)
        groups.set(id, g)
      }
    })
    let next = td.args.length
    for (const n of this.nodes) if (!groups.has(n.id)) groups.set(n.id, next++)
    this.groups = groups
    const byGroup = new Map<number, number[]>()
    for (const [id, g] of [...groups].sort((a, b) => a[0] - b[0])) byGroup.set(g, [...(byGroup.get(g) ?? []), id])
    out.push(`partitioned: ${[...byGroup.values()].map((ids) => `(${ids.join(' ')})`).join(' ')}`)
  }

  private canTalk(a: number, b: number): boolean {
    if (this.groups.size === 0) return true
    return this.groups.get(a) === this.groups.get(b)
  }
}

/**
 * Runs f; prints an error the core raises on purpose ("ERROR <code> ...") and rethrows any other
 * (an invariant violation or a harness bug must fail the test, not end up in a golden file).
 */
function catchExpected(out: string[], f: () => void): void {
  try {
    f()
  } catch (err) {
    if (!(err instanceof RaftError) || err instanceof RaftInvariantError) throw err
    const reason = err instanceof ProposalDroppedError ? ` (${err.reason})` : ''
    out.push(`ERROR ${err.code}${reason}: ${err.message}`)
  }
}

function tickN(n: EnvNode, count: number): void {
  for (let i = 0; i < count; i++) n.raw().tick()
}

function parseId(s: string, td: TestData): number {
  const id = Number(s)
  if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`${td.pos}: "${s}" is not a node id`)
  return id
}

/** The i-th positional argument as a node id. */
export function idArg(td: TestData, i: number): number {
  return parseId(posArg(td, i, 'node id'), td)
}

/** The i-th positional argument (a bare word). */
export function posArg(td: TestData, i: number, what: string): string {
  const a = td.args[i]
  if (a === undefined || a.vals.length > 0) throw new Error(`${td.pos}: ${td.cmd} needs a ${what} as argument ${i + 1}`)
  return a.key
}

function numArg(td: TestData, i: number, what: string): number {
  const v = Number(posArg(td, i, what))
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${td.pos}: ${what} must be a non-negative integer`)
  return v
}

function keyId(td: TestData, key: string): number {
  const v = findArg(td, key)?.vals[0]
  if (v === undefined) throw new Error(`${td.pos}: ${td.cmd} needs ${key}=ID`)
  return parseId(v, td)
}

function snapStatus(td: TestData): SnapshotStatus {
  const v = findArg(td, 'status')?.vals[0] ?? 'finish'
  if (v === 'finish') return SnapshotStatus.Finish
  if (v === 'failure') return SnapshotStatus.Failure
  throw new Error(`${td.pos}: status must be finish or failure, got "${v}"`)
}

const CHANGE_TYPES: Record<string, ConfChangeType> = {
  v: ConfChangeType.AddNode, l: ConfChangeType.AddLearnerNode, r: ConfChangeType.RemoveNode, u: ConfChangeType.UpdateNode,
}

const TRANSITIONS: Record<string, ConfChangeTransition> = {
  auto: ConfChangeTransition.Auto, implicit: ConfChangeTransition.Implicit, explicit: ConfChangeTransition.Explicit,
}

/** Parses "v2 l3 r1 u4" into single changes. */
export function parseChanges(input: string, pos: string): ConfChangeSingle[] {
  return input.split(/\s+/).filter((t) => t !== '').map((t) => {
    const m = /^([vlru])(\d+)$/.exec(t)
    if (m === null) throw new Error(`${pos}: bad change "${t}" (want v<id>, l<id>, r<id> or u<id>)`)
    return {type: CHANGE_TYPES[m[1]], nodeId: Number(m[2])}
  })
}

function parseConfChange(td: TestData): AnyConfChange {
  const changes = parseChanges(td.input, td.pos)
  const tr = findArg(td, 'transition')?.vals[0] ?? 'auto'
  if (!(tr in TRANSITIONS)) throw new Error(`${td.pos}: transition must be auto, implicit or explicit, got "${tr}"`)
  if (findArg(td, 'v1')?.vals[0] === 'true') {
    if (changes.length !== 1) throw new Error(`${td.pos}: a v1 conf change has exactly one change`)
    const cc: ConfChange = {kind: 'v1', id: 0, type: changes[0].type, nodeId: changes[0].nodeId, context: EMPTY_BYTES}
    return cc
  }
  const cc: ConfChangeV2 = {kind: 'v2', transition: TRANSITIONS[tr], changes, context: EMPTY_BYTES}
  return cc
}
