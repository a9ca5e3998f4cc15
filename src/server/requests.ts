/**
 * The requests a node serves for its client services, each entering the RawNode through the
 * loop:
 *
 * Writes go to the leader only (client redirect, not follower forwarding): a follower answers
 * notLeader with the leader's client URL, and the leader proposes itself, so a proposal the core
 * refuses is reported to the client at once. Each proposal is tracked by the (index, term) its
 * entry got, and settled when that index is applied (proposals.ts).
 *
 * Linearizable reads use ReadIndex (Raft thesis §6.4) and work on followers and learners too:
 * the leader confirms its commit index with a heartbeat round, then this node waits until it has
 * applied up to it. A ReadIndex request is dropped silently while no leader is known, so it is
 * re-issued every election timeout until the deadline.
 */
import {status} from '@grpc/grpc-js'
import type {ApplyResult} from '../kv/index.js'
import type {InternalRaftRequest} from '../generated/raftctl/v1/internal.js'
import {encodeInternalRequest, validateRequest} from '../kv/index.js'
import {type ConfChangeV2, type ConfState, type RawNode, StateRole} from '../raft/index.js'
import type {ProposalResult} from './applier.js'
import {NodeError, notLeader} from './errors.js'
import {encodeConfContext, encodeServerRequest, type MemberAttributes, SERVER_ENTRY_CONTEXT} from './internal.js'
import type {PlannedChange} from './membership.js'
import type {RaftNode} from './node.js'
import {DeadlineError} from './wait.js'

/** Throws notLeader unless this node currently leads. */
export function requireLeader(node: RaftNode): void {
  if (!node.isLeader) throw notLeader(node.id, node.leaderId, node.clientUrlOf())
}

/**
 * Proposes `append` inside the loop as leader and waits for its entry to be applied. Throws
 * notLeader when leadership moved before the proposal reached the core (nothing was proposed).
 */
async function proposeAndWait(
  node: RaftNode, what: string, requestId: number, timeoutMs: number, append: (rn: RawNode) => void,
): Promise<ProposalResult> {
  return node.loop.call((rn) => {
    const st = rn.status()
    if (st.role !== StateRole.Leader) throw notLeader(node.id, st.leaderId, node.clientUrlOf(st.leaderId))
    append(rn)
    return node.proposals.register(rn.lastIndex(), st.term, timeoutMs, what, requestId)
  })
}

/** Proposes a KV write and returns its apply result (previous value, revision, txn outcome). */
export async function proposeKv(node: RaftNode, req: Omit<InternalRaftRequest, 'id'>, timeoutMs: number): Promise<ApplyResult> {
  requireLeader(node)
  const full: InternalRaftRequest = {id: node.nextRequestId(), ...req}
  validateRequest(full)
  const data = encodeInternalRequest(full)
  const r = await proposeAndWait(node, 'the write', full.id, timeoutMs, (rn) => rn.propose(data))
  if (r.kind !== 'kv') throw new Error(`internal error: a KV write resolved as ${r.kind}`)
  return r.result
}

/** Proposes a planned conf change; resolves with the ConfState once it is applied. */
export async function proposeConfChange(node: RaftNode, plan: PlannedChange, timeoutMs: number): Promise<ConfState> {
  requireLeader(node)
  const requestId = node.nextRequestId()
  const cc: ConfChangeV2 = {...plan.cc, context: encodeConfContext({requestId, members: plan.added})}
  const r = await proposeAndWait(node, 'the membership change', requestId, timeoutMs, (rn) => rn.proposeConfChange(cc))
  if (r.kind !== 'conf') throw new Error(`internal error: a conf change resolved as ${r.kind}`)
  return r.confState
}

/** Proposes a change of a member's attributes (MemberUpdate). */
export async function proposeMemberAttributes(node: RaftNode, attrs: MemberAttributes, timeoutMs: number): Promise<void> {
  requireLeader(node)
  const requestId = node.nextRequestId()
  const data = encodeServerRequest(requestId, attrs)
  await proposeAndWait(node, 'the member update', requestId, timeoutMs, (rn) => rn.propose(data, SERVER_ENTRY_CONTEXT))
}

/**
 * Waits until a read at this node is linearizable: a ReadIndex confirmed by the leader, then
 * this node applied up to it. Throws UNAVAILABLE (safe to retry) when no leader confirmed a read
 * within the deadline.
 */
export async function readBarrier(node: RaftNode, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  const retryMs = Math.max(100, node.electionTimeoutMs)
  let index: number | undefined
  while (index === undefined) {
    const left = deadline - Date.now()
    if (left <= 0) {
      throw new NodeError(status.UNAVAILABLE,
        `node ${node.id} could not confirm a linearizable read within ${timeoutMs} ms (no leader answered); retry, or read with serializable`, undefined, true)
    }
    const ctx = node.nextReadContext()
    const key = node.readKey(ctx)
    const wait = node.reads.register(key, Math.min(left, retryMs), 'the read index')
    wait.catch(() => {}) // observed below; never an unhandled rejection
    try {
      await node.loop.call((rn) => rn.readIndex(ctx))
    } catch (err) {
      node.reads.reject(key, err as Error)
      throw err
    }
    try {
      index = await wait
    } catch (err) {
      if (!(err instanceof DeadlineError)) throw err
    }
  }
  await node.applied.wait(index, Math.max(1, deadline - Date.now()), 'the linearizable read')
}

/**
 * Election timeouts a transfer may take: the core aborts one the target has not completed within
 * an election timeout (thesis §3.10), and the target's campaign takes about one more.
 */
const TRANSFER_ELECTIONS = 3

/** The time kept before the client's deadline to answer it ourselves, saying why. */
const answerMargin = (timeoutMs: number): number => Math.min(1000, Math.floor(timeoutMs / 5))

/**
 * Transfers leadership to `target` (a voter); resolves once it leads. Otherwise it answers
 * DEADLINE_EXCEEDED before the client's own deadline — after at most TRANSFER_ELECTIONS election
 * timeouts — naming the target and `obstacle()`, the reason as the leader sees it then.
 */
export async function transferLeader(node: RaftNode, target: number, timeoutMs: number, obstacle: () => string): Promise<number> {
  requireLeader(node)
  if (target === node.id) return node.id
  await node.loop.call((rn) => rn.transferLeader(target))
  const waitMs = Math.max(1, Math.min(timeoutMs - answerMargin(timeoutMs), TRANSFER_ELECTIONS * node.electionTimeoutMs + 1000))
  if (await node.waitForLeader((l) => l === target, waitMs)) return target
  const now = node.leaderId
  const who = now === node.id ? `node ${now} still leads` : now === 0 ? 'no leader is known now' : `node ${now} leads now`
  throw new NodeError(status.DEADLINE_EXCEEDED, `leadership did not move to node ${target} within ${waitMs} ms: ${obstacle()}; ${who}`)
}
