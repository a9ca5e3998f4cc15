/**
 * The safety properties of Raft (paper Figure 3) checked over a simulated group after every step,
 * plus the ConfState invariants of DESIGN.md §2 and the persistence rules a node must keep:
 *
 * - Election safety: at most one leader per term (over the whole run, not just at one instant).
 * - Log matching: if two logs contain an entry with the same index and term, the logs are
 *   identical in all entries up through that index.
 * - Leader completeness: an entry known committed while some node was at term T is in the log of
 *   every leader of a term > T (unless that leader compacted it into a snapshot).
 * - State machine safety: no two nodes apply different entries at the same index; every applied
 *   entry is the committed one; snapshots carry only applied entries.
 * - Committed entries agree: every node's log below its commit index holds the same entries.
 * - applied <= committed <= last index on every node.
 * - ConfState: learners ∩ voters = ∅ (both halves), learnersNext ⊆ votersOutgoing, autoLeave ⇒
 *   joint, a joint config has voters in both halves.
 * - Persisted hard state: the term never decreases, a vote is never changed within a term, the
 *   commit index never decreases.
 *
 * Every violation throws a SafetyViolation naming the property, the nodes and the values.
 */
import type {Ready} from '../../../src/raft/raw_node.js'
import {StateRole} from '../../../src/raft/role.js'
import type {ConfState, Entry, HardState, Snapshot} from '../../../src/raft/types.js'
import {decodeSnapshotSm, entryId, type ApplyObserver, type SimNode} from './sim_node.js'

/** A broken safety property. */
export class SafetyViolation extends Error {
  constructor(property: string, detail: string) {
    super(`${property} violated: ${detail}`)
    this.name = 'SafetyViolation'
  }
}

/** Throws if `cs` breaks a ConfState invariant; `who` names its owner in the message. */
export function checkConfState(cs: ConfState, who: string): void {
  const voters = new Set([...cs.voters, ...cs.votersOutgoing])
  const fail = (why: string): never => {
    throw new SafetyViolation('ConfState invariant', `${who}: ${why} in ${JSON.stringify(cs)}`)
  }
  for (const l of cs.learners) if (voters.has(l)) fail(`learner ${l} is also a voter`)
  const outgoing = new Set(cs.votersOutgoing)
  for (const l of cs.learnersNext) if (!outgoing.has(l)) fail(`learners_next ${l} is not an outgoing voter`)
  const joint = cs.votersOutgoing.length > 0
  if (cs.autoLeave && !joint) fail('autoLeave without a joint config')
  if (joint && cs.voters.length === 0) fail('joint config with no incoming voter')
}

export class SafetyChecker implements ApplyObserver {
  /** term -> the leader of that term. */
  private readonly leaders = new Map<number, number>()
  /** index -> the committed entry's id and the term at which it was first seen committed. */
  private readonly committed = new Map<number, {id: string; term: number}>()
  /** index -> the id of the entry applied at that index. */
  private readonly appliedIds = new Map<number, string>()
  /** node -> its last persisted hard state. */
  private readonly hardStates = new Map<number, HardState>()

  persisted(node: number, rd: Ready): void {
    const hs = rd.hardState
    if (hs === undefined) return
    const prev = this.hardStates.get(node)
    if (prev !== undefined) {
      const fail = (why: string): never => {
        throw new SafetyViolation('persisted hard state', `node ${node} ${why}: ${JSON.stringify(prev)} -> ${JSON.stringify(hs)}`)
      }
      if (hs.term < prev.term) fail('decreased its term')
      if (hs.term === prev.term && prev.vote !== 0 && hs.vote !== prev.vote) fail('changed its vote within a term')
      if (hs.commit < prev.commit) fail('decreased its commit index')
    }
    this.hardStates.set(node, hs)
  }

  applied(node: number, e: Entry): void {
    const id = entryId(e)
    const prev = this.appliedIds.get(e.index)
    if (prev !== undefined && prev !== id) {
      throw new SafetyViolation('state machine safety', `node ${node} applies ${id} at index ${e.index}, another node applied ${prev}`)
    }
    const c = this.committed.get(e.index)
    if (c !== undefined && c.id !== id) {
      throw new SafetyViolation('state machine safety', `node ${node} applies ${id} at index ${e.index}, but ${c.id} is committed there`)
    }
    this.appliedIds.set(e.index, id)
  }

  restored(node: number, snap: Snapshot): void {
    checkConfState(snap.metadata.confState, `snapshot ${snap.metadata.index} restored by node ${node}`)
    for (const e of decodeSnapshotSm(snap.data)) {
      const prev = this.appliedIds.get(e.index)
      if (prev !== undefined && prev !== e.id) {
        throw new SafetyViolation('state machine safety', `node ${node} restores a snapshot holding ${e.id} at index ${e.index}, but ${prev} was applied there`)
      }
    }
  }

  /** Checks every property over the running nodes (call after every step). */
  check(nodes: readonly SimNode[]): void {
    const logs = new Map<number, Entry[]>()
    for (const n of nodes) {
      if (n.rn === undefined) continue
      const r = n.rn.raft
      logs.set(n.id, r.raftLog.allEntries())
      this.checkNode(n)
      this.recordCommitted(n, logs.get(n.id)!)
    }
    for (const n of nodes) {
      if (n.rn !== undefined && n.rn.raft.state === StateRole.Leader) this.checkLeaderCompleteness(n, logs.get(n.id)!)
    }
    const ids = [...logs.keys()]
    for (let a = 0; a < ids.length; a++) {
      for (let b = a + 1; b < ids.length; b++) checkLogMatching(ids[a], logs.get(ids[a])!, ids[b], logs.get(ids[b])!)
    }
  }

  private checkNode(n: SimNode): void {
    const r = n.rn!.raft
    const log = r.raftLog
    if (!(log.applied <= log.committed && log.committed <= log.lastIndex())) {
      throw new SafetyViolation('applied <= committed <= last', `node ${n.id}: applied ${log.applied}, committed ${log.committed}, last ${log.lastIndex()}`)
    }
    if (n.applied > log.committed) {
      throw new SafetyViolation('applied <= committed', `node ${n.id} applied ${n.applied} but committed is ${log.committed}`)
    }
    checkConfState(r.trk.confState(), `node ${n.id}`)
    if (r.state === StateRole.Leader) {
      const other = this.leaders.get(r.term)
      if (other !== undefined && other !== n.id) {
        throw new SafetyViolation('election safety', `nodes ${other} and ${n.id} were both leader in term ${r.term}`)
      }
      this.leaders.set(r.term, n.id)
    }
  }

  /** Records the node's committed entries and checks them against those of other nodes. */
  private recordCommitted(n: SimNode, log: Entry[]): void {
    const r = n.rn!.raft
    for (const e of log) {
      if (e.index > r.raftLog.committed) break
      const id = entryId(e)
      const c = this.committed.get(e.index)
      if (c === undefined) {
        const applied = this.appliedIds.get(e.index)
        if (applied !== undefined && applied !== id) {
          throw new SafetyViolation('state machine safety', `node ${n.id} has ${id} committed at index ${e.index}, but ${applied} was applied there`)
        }
        this.committed.set(e.index, {id, term: r.term})
      } else if (c.id !== id) {
        throw new SafetyViolation('committed entries agree', `node ${n.id} has ${id} committed at index ${e.index}, another node had ${c.id}`)
      }
    }
  }

  /** Every entry committed at a term below the leader's must be in the leader's log. */
  private checkLeaderCompleteness(n: SimNode, log: Entry[]): void {
    const r = n.rn!.raft
    const first = r.raftLog.firstIndex()
    for (const [index, c] of this.committed) {
      if (c.term >= r.term || index < first) continue
      const e = log[index - first]
      if (e === undefined || entryId(e) !== c.id) {
        throw new SafetyViolation('leader completeness', `leader ${n.id} of term ${r.term} lacks entry ${c.id} ` +
          `committed by term ${c.term} (it has ${e === undefined ? 'nothing' : entryId(e)} at index ${index})`)
      }
    }
  }
}

/**
 * Log matching between two logs (arrays of consecutive entries): find the last index both have
 * with the same term; every entry both have up to it must be identical.
 */
export function checkLogMatching(a: number, la: Entry[], b: number, lb: Entry[]): void {
  if (la.length === 0 || lb.length === 0) return
  const fa = la[0].index
  const fb = lb[0].index
  const lo = Math.max(fa, fb)
  const hi = Math.min(fa + la.length - 1, fb + lb.length - 1)
  let match = -1
  for (let i = hi; i >= lo; i--) {
    if (la[i - fa].term === lb[i - fb].term) {
      match = i
      break
    }
  }
  for (let i = lo; i <= match; i++) {
    const x = entryId(la[i - fa])
    const y = entryId(lb[i - fb])
    if (x !== y) {
      throw new SafetyViolation('log matching', `nodes ${a} and ${b} both have term ${la[match - fa].term} at index ${match} but differ at index ${i}: ${x} vs ${y}`)
    }
  }
}
