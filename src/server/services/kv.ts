/**
 * The KV service. Writes (Put, DeleteRange, and Txn with writes) go through the Raft log on the
 * leader; a follower refuses them with the leader's client URL (errors.ts notLeader) and the
 * client retries there. Range is linearizable by default (ReadIndex, on any member) and local
 * with `serializable`. A Txn with only reads is still proposed, so its compares and reads see
 * one applied state (as in etcd, where a read-only txn is served by the leader's apply).
 *
 * Watches are served by etcd's Watch service (services/etcd/watch.ts) only.
 */
import {
  type DeleteRangeResponse, type KVServer, type PutResponse, type RangeRequest, type RangeResponse,
  type TxnResponse,
} from '../../generated/raftctl/v1/kv.js'
import {type ApplyResult, validateRange} from '../../kv/index.js'
import {proposeKv, readBarrier, requireLeader} from '../requests.js'
import {header, type ServiceContext, unary} from './common.js'
import {
  deleteFromEtcd, deleteToEtcd, putFromEtcd, putToEtcd, rangeFromEtcd, rangeToEtcd, txnFromEtcd,
  txnToEtcd,
} from './kv_convert.js'

/** The raftctl.v1.legacy client follows redirects: this service proposes on the leader only. */
const LEGACY = {leaderOnly: true}

function withHeader<T extends {header: unknown}>(ctx: ServiceContext, r: T | undefined, revision: number): T {
  if (r === undefined) throw new Error('internal error: the applied entry carries no result')
  return {...r, header: header(ctx.node, revision)}
}

function expect<K extends 'put' | 'deleteRange' | 'txn'>(r: ApplyResult, k: K): NonNullable<ApplyResult[K]> {
  const v = r[k]
  if (v === undefined) throw new Error(`internal error: the applied entry carries no ${k} result`)
  return v as NonNullable<ApplyResult[K]>
}

export function kvService(ctx: ServiceContext): KVServer {
  const node = ctx.node
  return {
    range: unary(ctx, 'Range', async (req: RangeRequest, ms): Promise<RangeResponse> => {
      const etcdReq = rangeToEtcd(req)
      validateRange(etcdReq)
      if (!req.serializable) await readBarrier(node, ms)
      const res = rangeFromEtcd(await node.kv.range(etcdReq))
      return {...res, header: header(node, res.header?.revision)}
    }),
    put: unary(ctx, 'Put', async (req, ms): Promise<PutResponse> => {
      requireLeader(node)
      const r = await proposeKv(node, {put: putToEtcd(req)}, ms, LEGACY)
      return withHeader(ctx, putFromEtcd(expect(r, 'put')), r.revision)
    }),
    deleteRange: unary(ctx, 'DeleteRange', async (req, ms): Promise<DeleteRangeResponse> => {
      requireLeader(node)
      const r = await proposeKv(node, {deleteRange: deleteToEtcd(req)}, ms, LEGACY)
      return withHeader(ctx, deleteFromEtcd(expect(r, 'deleteRange')), r.revision)
    }),
    txn: unary(ctx, 'Txn', async (req, ms): Promise<TxnResponse> => {
      requireLeader(node)
      const r = await proposeKv(node, {txn: txnToEtcd(req)}, ms, LEGACY)
      return withHeader(ctx, txnFromEtcd(expect(r, 'txn')), r.revision)
    }),
  }
}
