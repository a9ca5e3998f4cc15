/**
 * etcd's KV service over the MVCC store (src/kv). Any member serves every call, as etcd's members
 * do:
 *
 * - Put, DeleteRange, a Txn with writes and Compact are validated with etcd's rules before
 *   anything is proposed (proposeKv; a txn also against --max-txn-ops, which only the receiving
 *   member checks, as in etcd), then proposed on this member (a follower's core forwards the proposal) and answered from the
 *   apply result of the entry carrying the request's id (requests.ts proposeKv). A request
 *   refused at apply (e.g. `key not found` for ignore_value) gets etcd's error from the apply.
 * - Range is linearizable by default: a ReadIndex confirmed by the leader, then read locally once
 *   this member applied up to it; `serializable` reads this member's applied state at once. A Txn
 *   whose ops are all reads is served like a Range, without a proposal (as etcd does): it is
 *   serializable only when every range in it asks to be.
 * - Compact with `physical` also waits until this member deleted the compacted history.
 *
 * Headers are etcd's: cluster_id, member_id, raft_term, and the revision the store gave the
 * answer (for a write, the revision it created; for a read, the store's revision when read).
 * Op responses inside a Txn keep the store's header, which carries only their revision, as
 * etcd's do. Admission control (request size, overload) applies as to every call (common.ts,
 * loop.ts).
 */
import type {ServerUnaryCall} from '@grpc/grpc-js'
import type {ResponseHeader} from '../../../generated/etcd/etcdserverpb/header.js'
import {
  type CompactionRequest, type CompactionResponse, type DeleteRangeResponse, type KVServer, type PutResponse,
  type RangeResponse, type RequestOp, type TxnRequest, type TxnResponse,
} from '../../../generated/etcd/etcdserverpb/kv.js'
import {
  type ApplyResult, isReadOnlyTxn, leaseNotFound, validatePut, validateRange, validateTxn,
} from '../../../kv/index.js'
import {etcdError} from '../../errors.js'
import type {RaftNode} from '../../node.js'
import {proposeKv, readBarrier, type RequestOptions} from '../../requests.js'
import {etcdHeader, requestOptions, type ServiceContext, unary} from '../common.js'

/** The response with this member's full etcd header at the revision the store gave it. */
function withHeader<T extends {header?: ResponseHeader}>(node: RaftNode, res: T): T {
  return {...res, header: etcdHeader(node, res.header?.revision ?? node.kv.revision)}
}

/** The response of kind `k` the applied entry carries. */
function resultOf<K extends 'put' | 'deleteRange' | 'txn' | 'compaction'>(r: ApplyResult, k: K): NonNullable<ApplyResult[K]> {
  const v = r[k]
  if (v === undefined) throw new Error(`internal error: the applied entry carries no ${k} result`)
  return v as NonNullable<ApplyResult[K]>
}

/** True when every range of a read-only txn (nested ones included) asks for a serializable read. */
function isSerializableTxn(t: TxnRequest): boolean {
  const serializable = (op: RequestOp): boolean =>
    op.requestRange !== undefined ? op.requestRange.serializable : op.requestTxn === undefined || isSerializableTxn(op.requestTxn)
  return [...t.success, ...t.failure].every(serializable)
}

/** Waits, at most `timeoutMs`, until this member physically deleted the history below `revision`. */
async function physicalCompaction(node: RaftNode, revision: number, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(etcdError('timeout', `the compaction to revision ${revision} was applied, but node ${node.id} ` +
      `had not finished deleting the older history within ${timeoutMs} ms; it goes on in the background`)), timeoutMs)
  })
  try {
    await Promise.race([node.kv.waitPhysicalCompaction(revision), expired])
  } finally {
    clearTimeout(timer)
  }
}

/** Reads linearizably unless the request asked for a serializable read. */
async function readFence(node: RaftNode, serializable: boolean, timeoutMs: number, opts: RequestOptions): Promise<void> {
  if (!serializable) await readBarrier(node, timeoutMs, opts)
}

export function etcdKvService(ctx: ServiceContext): KVServer {
  const node = ctx.node
  const opts = (call: ServerUnaryCall<unknown, unknown>): RequestOptions => requestOptions(call.metadata)
  return {
    range: unary(ctx, 'Range', async (req, ms, call): Promise<RangeResponse> => {
      validateRange(req)
      await readFence(node, req.serializable, ms, opts(call))
      return withHeader(node, await node.kv.range(req))
    }),
    put: unary(ctx, 'Put', async (req, ms, call): Promise<PutResponse> => {
      // The leader applied every grant a client was answered for, so a lease it lacks is gone:
      // refuse without a proposal (apply refuses it anyway, on any member), after etcd's checks.
      validatePut(req)
      if (req.lease !== 0n && node.isLeader && !node.kv.leases.exists(req.lease)) throw leaseNotFound(req.lease)
      const r = await proposeKv(node, {put: req}, ms, opts(call))
      return withHeader(node, resultOf(r, 'put'))
    }),
    deleteRange: unary(ctx, 'DeleteRange', async (req, ms, call): Promise<DeleteRangeResponse> => {
      const r = await proposeKv(node, {deleteRange: req}, ms, opts(call))
      return withHeader(node, resultOf(r, 'deleteRange'))
    }),
    txn: unary(ctx, 'Txn', async (req, ms, call): Promise<TxnResponse> => {
      validateTxn(req, node.config.maxTxnOps)
      if (isReadOnlyTxn(req)) {
        await readFence(node, isSerializableTxn(req), ms, opts(call))
        return withHeader(node, await node.kv.txnRead(req))
      }
      const r = await proposeKv(node, {txn: req}, ms, opts(call))
      return withHeader(node, resultOf(r, 'txn'))
    }),
    compact: unary(ctx, 'Compact', async (req: CompactionRequest, ms, call): Promise<CompactionResponse> => {
      const started = Date.now()
      const r = await proposeKv(node, {compaction: req}, ms, opts(call))
      if (req.physical) await physicalCompaction(node, req.revision, Math.max(1, ms - (Date.now() - started)))
      return withHeader(node, resultOf(r, 'compaction'))
    }),
  }
}
