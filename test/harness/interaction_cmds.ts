/**
 * The interaction-harness commands that create nodes or only print state: add-nodes, raft-log,
 * raft-state and status. The commands that drive nodes live in interaction.ts.
 */
import type {Config, ReadOnlyOption} from '../../src/raft/config.js'
import {MemoryStorage} from '../../src/raft/memory_storage.js'
import {type ConfState, EMPTY_CONF_STATE} from '../../src/raft/types.js'
import {findArg, type TestData} from './datadriven.js'
import type {InteractionEnv} from './interaction.js'
import {describeConfState, describeEntry, describeProgress} from './interaction_format.js'
import {EnvNode, encodeSm, type SmEntry} from './interaction_node.js'

const ADD_NODES_KEYS = new Set([
  'voters', 'learners', 'index', 'content', 'prevote', 'checkquorum', 'step-down-on-removal', 'read-only',
  'max-size-per-msg', 'max-inflight',
])

function idList(td: TestData, key: string): number[] {
  return (findArg(td, key)?.vals ?? []).map((v) => {
    const id = Number(v)
    if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`${td.pos}: ${key} has a bad node id "${v}"`)
    return id
  })
}

function boolKey(td: TestData, key: string, dflt: boolean): boolean {
  const v = findArg(td, key)?.vals[0]
  if (v === undefined) return dflt
  if (v !== 'true' && v !== 'false') throw new Error(`${td.pos}: ${key} must be true or false, got "${v}"`)
  return v === 'true'
}

function intKey(td: TestData, key: string, dflt: number): number {
  const v = findArg(td, key)?.vals[0]
  if (v === undefined) return dflt
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${td.pos}: ${key} must be a non-negative integer, got "${v}"`)
  return n
}

/** The config of every scripted node (etcd's interaction tests use election 3, heartbeat 1). */
function nodeConfig(td: TestData, id: number): Config {
  const readOnly = findArg(td, 'read-only')?.vals[0] ?? 'safe'
  if (readOnly !== 'safe' && readOnly !== 'lease') throw new Error(`${td.pos}: read-only must be safe or lease`)
  return {
    id, electionTick: 3, heartbeatTick: 1, random: () => 0,
    maxSizePerMsg: intKey(td, 'max-size-per-msg', Number.MAX_SAFE_INTEGER),
    maxInflightMsgs: intKey(td, 'max-inflight', 256),
    preVote: boolKey(td, 'prevote', false),
    checkQuorum: boolKey(td, 'checkquorum', false),
    stepDownOnRemoval: boolKey(td, 'step-down-on-removal', true),
    readOnlyOption: readOnly as ReadOnlyOption,
  }
}

/** add-nodes N [voters=(..)] [learners=(..)] [index=I] [content=S] [config keys]. */
export function addNodes(env: InteractionEnv, td: TestData, out: string[]): void {
  const count = Number(td.args[0]?.key)
  if (td.args[0]?.vals.length !== 0 || !Number.isSafeInteger(count) || count <= 0) {
    throw new Error(`${td.pos}: add-nodes needs a positive node count as its first argument`)
  }
  for (const a of td.args.slice(1)) {
    if (!ADD_NODES_KEYS.has(a.key)) throw new Error(`${td.pos}: add-nodes has no option "${a.key}"`)
  }
  const cs: ConfState = {...EMPTY_CONF_STATE, voters: idList(td, 'voters'), learners: idList(td, 'learners')}
  const index = intKey(td, 'index', 0)
  const content = findArg(td, 'content')?.vals[0]
  if (content !== undefined && index === 0) throw new Error(`${td.pos}: content= needs index= (it is snapshot data)`)
  for (let k = 0; k < count; k++) {
    const id = env.nodes.length + 1
    const storage = new MemoryStorage()
    let sm: SmEntry[] = []
    if (index > 0) {
      sm = content === undefined ? [] : [{index, data: content}]
      storage.applySnapshot({data: encodeSm(sm), metadata: {index, term: 1, confState: cs}})
    } else if (cs.voters.length > 0 || cs.learners.length > 0) {
      storage.setConfState(cs, 0)
    }
    const node = new EnvNode(id, storage, nodeConfig(td, id), index, sm)
    env.nodes.push(node)
    node.start(out)
  }
}

/** raft-log ID: the entries in the node's storage. */
export function printRaftLog(n: EnvNode, out: string[]): void {
  const first = n.storage.firstIndex()
  const last = n.storage.lastIndex()
  if (last < first) {
    out.push(`log is empty: first index=${first}, last index=${last}`)
    return
  }
  for (const e of n.storage.entries(first, last + 1)) out.push(describeEntry(e))
}

/** raft-state: "1: StateLeader (Voter) Term:1 Lead:1" per node, or "2: crashed". */
export function printRaftState(env: InteractionEnv, out: string[]): void {
  for (const n of env.nodes) {
    if (n.rn === undefined) {
      out.push(`${n.id}: crashed`)
      continue
    }
    const r = n.rn.raft
    const cfg = r.trk.config
    const kind = cfg.voters.has(r.id) ? 'Voter' : cfg.learners.has(r.id) ? 'Learner' : 'Non-Voter'
    out.push(`${n.id}: ${r.state} (${kind}) Term:${r.term} Lead:${r.lead}`)
  }
}

/** status ID: RawNode.status() — the node's state, its config, and on a leader every progress. */
export function printStatus(n: EnvNode, out: string[]): void {
  const s = n.raw().status()
  let head = `${s.id}: ${s.role} term=${s.term} vote=${s.vote} commit=${s.commit} applied=${s.applied} lead=${s.leaderId}`
  if (s.leadTransferee !== 0) head += ` transferee=${s.leadTransferee}`
  out.push(head, `config: ${describeConfState(s.confState)}`)
  if (s.progress === undefined) return
  for (const [id, p] of [...s.progress].sort((a, b) => a[0] - b[0])) out.push(`${id}: ${describeProgress(p)}`)
}
