/**
 * The requests a node serves for its client services, each entering the RawNode through the
 * loop. Any member serves any request, as etcd's members do (etcd clients do not follow
 * redirects):
 *
 * Writes are proposed on the member that got them: a follower's core forwards the proposal to
 * the leader. The member waits until it applies the entry carrying the request's id and answers
 * from that apply result (proposals.ts). The leader also knows the (index, term) its entry got,
 * so an entry overwritten by a new leader is reported at once as lost, safe to retry. Without a
 * known leader, a request that asked for one (etcd's `hasleader` metadata) is refused at once
 * with "etcdserver: no leader"; any other waits for a leader until its deadline, as in etcd. A
 * proposal not applied by its deadline is answered with etcd's "etcdserver: request timed out"
 * (UNAVAILABLE), its outcome unknown: it may still be applied.
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
import {type ConfChangeV2, type ConfState, ProposalDroppedError, type RawNode, StateRole} from '../raft/index.js'
import type {ProposalResult} from './applier.js'
import {etcdError, NodeError, notLeader} from './errors.js'
import {encodeConfContext, encodeServerRequest, type MemberAttributes, SERVER_ENTRY_CONTEXT} from './internal.js'
import type {PlannedChange} from './membership.js'
import type {RaftNode} from './node.js'
import {DeadlineError} from './wait.js'

/** How a request waits: whether it asked for a leader (etcd's `hasleader`). */
export interface RequestOptions {
  /** Refuse at once with "etcdserver: no leader" when no leader is known, instead of waiting. */
  readonly requireLeader?: boolean
}

/** Throws notLeader unless this node currently leads (the raftctl.v1 services). */
export function requireLeader(node: RaftNode): void {
  if (!node.isLeader) throw notLeader(node.id, node.leaderId, node.clientUrlOf())
}

/** The time kept before the client's deadline to answer it ourselves, saying why. */
export const answerMargin = (timeoutMs: number): number => Math.min(1000, Math.floor(timeoutMs / 5))

/**
 * Waits until this node knows a leader, for at most `timeoutMs`. Refuses at once with etcd's "no
 * leader" when the request asked for one; after the deadline answers etcd's (and gRPC's)
 * "context deadline exceeded", safe to retry since nothing was done.
 */
export async function awaitLeader(node: RaftNode, timeoutMs: number, opts: RequestOptions = {}): Promise<number> {
  if (node.leaderId !== 0) return node.leaderId
  if (opts.requireLeader === true) throw noLeader(node)
  if (await node.waitForLeader((l) => l !== 0, timeoutMs)) return node.leaderId
  throw etcdError('deadlineExceeded', `node ${node.id} knew no leader for the ${timeoutMs} ms the request could wait; ` +
    'nothing was done, so it is safe to retry', {retrySafe: true})
}

/**
 * The answer of a node that applied its own removal: it will apply no more entries, so it
 * proposes nothing (safe to retry elsewhere).
 */
const removed = (node: RaftNode): NodeError => etcdError('stopped',
  `node ${node.id} was removed from the cluster and serves no more requests; send the request to another member`, {retrySafe: true})

/** etcd's "no leader" answer of this node, safe to retry. */
export const noLeader = (node: RaftNode): NodeError =>
  etcdError('noLeader', `node ${node.id} knows no leader now (an election is under way or no quorum is reachable); retry shortly`, {retrySafe: true})

/**
 * Proposes `append` inside the loop and waits for its entry, carrying `requestId`, to be applied
 * on this node; see the module comment. The waiter is registered in the same loop input as the
 * proposal, so it exists before the entry can be applied, and is forgotten when the core refuses
 * the proposal (nothing was proposed). The input goes through the loop's admission control
 * (NodeLoop.propose), which refuses with RESOURCE_EXHAUSTED "too many requests" when the node is
 * overloaded — nothing was proposed then either.
 */
async function proposeAndWait(
  node: RaftNode, what: string, requestId: number, timeoutMs: number, opts: RequestOptions, append: (rn: RawNode) => void,
): Promise<ProposalResult> {
  const deadline = Date.now() + Math.max(1, timeoutMs - answerMargin(timeoutMs))
  for (;;) {
    const left = Math.max(1, deadline - Date.now())
    try {
      return await node.loop.propose((rn) => {
        const st = rn.status()
        if (!node.isMember) throw removed(node)
        const wait = node.proposals.register(requestId, st.commit + 1, left, what)
        try {
          append(rn)
        } catch (err) {
          node.proposals.discard(requestId)
          throw err
        }
        if (st.role === StateRole.Leader) node.proposals.appended(requestId, rn.lastIndex(), st.term)
        return {wait}
      }).then((r) => r.wait)
    } catch (err) {
      if (!(err instanceof ProposalDroppedError && err.reason === 'no-leader')) throw err
      if (opts.requireLeader === true) throw noLeader(node)
      await awaitLeader(node, Math.max(1, deadline - Date.now()))
    }
  }
}

/** Proposes a KV write and returns its apply result (previous value, revision, txn outcome). */
export async function proposeKv(node: RaftNode, req: Omit<InternalRaftRequest, 'id'>, timeoutMs: number, opts: RequestOptions = {}): Promise<ApplyResult> {
  const full: InternalRaftRequest = {id: node.nextRequestId(), ...req}
  validateRequest(full)
  const data = encodeInternalRequest(full)
  const r = await proposeAndWait(node, 'the write', full.id, timeoutMs, opts, (rn) => rn.propose(data))
  if (r.kind !== 'kv') throw new Error(`internal error: a KV write resolved as ${r.kind}`)
  return r.result
}

/** Proposes a planned conf change; resolves with the ConfState once it is applied. */
export async function proposeConfChange(node: RaftNode, plan: PlannedChange, timeoutMs: number, opts: RequestOptions = {}): Promise<ConfState> {
  const requestId = node.nextRequestId()
  const cc: ConfChangeV2 = {...plan.cc, context: encodeConfContext({requestId, members: plan.added})}
  const r = await proposeAndWait(node, 'the membership change', requestId, timeoutMs, opts, (rn) => rn.proposeConfChange(cc))
  if (r.kind !== 'conf') throw new Error(`internal error: a conf change resolved as ${r.kind}`)
  return r.confState
}

/** Proposes a change of a member's attributes (MemberUpdate). */
export async function proposeMemberAttributes(node: RaftNode, attrs: MemberAttributes, timeoutMs: number, opts: RequestOptions = {}): Promise<void> {
  const requestId = node.nextRequestId()
  const data = encodeServerRequest(requestId, attrs)
  await proposeAndWait(node, 'the member update', requestId, timeoutMs, opts, (rn) => rn.propose(data, SERVER_ENTRY_CONTEXT))
}

/**
 * Waits until a read at this node is linearizable: a ReadIndex confirmed by the leader, then
 * this node applied up to it. Throws UNAVAILABLE (safe to retry) when no leader confirmed a read
 * within the deadline, or at once without a leader when the request asked for one.
 */
export async function readBarrier(node: RaftNode, timeoutMs: number, opts: RequestOptions = {}): Promise<void> {
  if (opts.requireLeader === true && node.leaderId === 0) throw noLeader(node)
  const deadline = Date.now() + timeoutMs
  const retryMs = Math.max(100, node.electionTimeoutMs)
  let index: number | undefined
  while (index === undefined) {
    const left = deadline - Date.now()
    if (left <= 0) {
      throw etcdError('timeout', `node ${node.id} could not confirm a linearizable read within ${timeoutMs} ms (no leader answered); ` +
        'retry, or read with serializable', {retrySafe: true})
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
