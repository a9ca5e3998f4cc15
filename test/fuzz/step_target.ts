/**
 * A Raft node to step fuzzed peer messages into: a 3-voter cluster (test/raft/scenario/cluster.ts)
 * brought to a chosen state — node 1 leading with a committed log, node 2 its follower — and a
 * driver that hands the target's Readies to its storage as the server does (persist, apply,
 * advance; a conf change the core refuses at apply changes nothing, as in src/server/applier.ts).
 *
 * `observe()` captures what a hostile message may never do to the node, whatever the core
 * legitimately does with it: lower its term or commit index, change its vote within a term,
 * commit beyond its log, or rewrite an entry it had already committed.
 */
import {decodeConfChange} from '../../src/raft/conf_change.js'
import {ConfChangeError} from '../../src/raft/errors.js'
import type {MemoryStorage} from '../../src/raft/memory_storage.js'
import type {RawNode} from '../../src/raft/raw_node.js'
import {type Entry, EntryType, type HardState} from '../../src/raft/types.js'
import {Cluster} from '../raft/scenario/cluster.js'

export type TargetRole = 'leader' | 'follower'

export interface StepTarget {
  readonly rn: RawNode
  readonly storage: MemoryStorage
  readonly id: number
  /** Handles every Ready of the target (bounded); messages it sends are dropped. */
  drain(): void
}

/**
 * Builds the cluster, elects node 1, commits `entries` proposals and returns node 1 (leader) or
 * node 2 (follower) as the target. The other nodes are never stepped again.
 */
export function buildTarget(role: TargetRole, entries = 5): StepTarget {
  const c = new Cluster([1, 2, 3])
  c.campaign(1)
  for (let i = 0; i < entries; i++) c.propose(1, `v${i}`)
  const id = role === 'leader' ? 1 : 2
  const n = c.node(id)
  const target: StepTarget = {
    rn: n.rn, storage: n.storage, id,
    drain: () => drainReadies(n.rn, n.storage),
  }
  target.drain()
  return target
}

function drainReadies(rn: RawNode, storage: MemoryStorage): void {
  for (let i = 0; i < 100 && rn.hasReady(); i++) {
    const rd = rn.ready()
    if (rd.snapshot !== undefined) storage.applySnapshot(rd.snapshot)
    storage.append(rd.entries)
    if (rd.hardState !== undefined) storage.setHardState(rd.hardState)
    for (const e of rd.committedEntries) applyEntry(rn, storage, e)
    rn.advance(rd)
  }
}

function applyEntry(rn: RawNode, storage: MemoryStorage, e: Entry): void {
  if (e.entryType === EntryType.EntryNormal) return
  try {
    storage.setConfState(rn.applyConfChange(decodeConfChange(e)), e.index)
  } catch (err) {
    if (!(err instanceof ConfChangeError)) throw err
  }
}

/** The durable facts a hostile message must not break (see the module comment). */
export interface Observed {
  readonly hardState: HardState
  readonly lastIndex: number
  /** Identity of each committed entry still in the log: index → "term/type/data". */
  readonly committed: Map<number, string>
}

const entryKey = (e: Entry): string => `${e.term}/${e.entryType}/${Buffer.from(e.data).toString('hex')}`

export function observe(t: StepTarget): Observed {
  const {hardState} = t.storage.initialState()
  const first = t.storage.firstIndex()
  const committed = new Map<number, string>()
  if (hardState.commit >= first) {
    for (const e of t.storage.entries(first, hardState.commit + 1)) committed.set(e.index, entryKey(e))
  }
  return {hardState, lastIndex: t.storage.lastIndex(), committed}
}

/**
 * Returns a sentence naming the first broken rule between `before` and `after`, or undefined.
 * Entries compacted into a snapshot in between are not compared (they are no longer in the log).
 */
export function brokenRule(t: StepTarget, before: Observed, after: Observed): string | undefined {
  const b = before.hardState
  const a = after.hardState
  if (a.term < b.term) return `term went down from ${b.term} to ${a.term}`
  if (a.commit < b.commit) return `commit went down from ${b.commit} to ${a.commit}`
  if (a.term === b.term && b.vote !== 0 && a.vote !== b.vote) return `vote changed from ${b.vote} to ${a.vote} within term ${a.term}`
  if (a.commit > after.lastIndex) return `commit ${a.commit} is beyond the last index ${after.lastIndex}`
  const first = t.storage.firstIndex()
  for (const [index, key] of before.committed) {
    if (index < first) continue
    const now = after.committed.get(index)
    if (now !== key) return `committed entry ${index} changed from ${key} to ${now ?? 'nothing'}`
  }
  return undefined
}
