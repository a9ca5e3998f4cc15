/**
 * The KV service. Writes (Put, DeleteRange, and Txn with writes) go through the Raft log on the
 * leader; a follower refuses them with the leader's client URL (errors.ts notLeader) and the
 * client retries there. Range is linearizable by default (ReadIndex, on any member) and local
 * with `serializable`. A Txn with only reads is still proposed, so its compares and reads see
 * one applied state (as in etcd, where a read-only txn is served by the leader's apply).
 *
 * Watch streams events of applied entries from this node: the first response has no events and
 * its header's revision is the revision the watch starts after (start_revision - 1), so a client
 * whose stream breaks can resume at the last revision it saw + 1 on any member.
 */
import type {ServerWritableStream} from '@grpc/grpc-js'
import {
  type DeleteRangeResponse, type KVServer, type PutResponse, type RangeRequest, type RangeResponse,
  type TxnResponse, type WatchRequest, type WatchResponse,
} from '../../generated/raftctl/v1/kv.js'
import {type ApplyResult, KvError, validateRange, type Watcher} from '../../kv/index.js'
import {toServiceError} from '../errors.js'
import {proposeKv, readBarrier, requireLeader} from '../requests.js'
import {checkAccepting, header, requestOf, type ServiceContext, unary} from './common.js'
import {
  deleteFromEtcd, deleteToEtcd, eventFromEtcd, putFromEtcd, putToEtcd, rangeFromEtcd, rangeToEtcd, txnFromEtcd,
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
    watch: (call) => void watch(ctx, call),
  }
}

function cancelResponse(ctx: ServiceContext, err: KvError): WatchResponse {
  return {header: header(ctx.node), events: [], compactRevision: err.compactRevision, canceled: true, cancelReason: err.message}
}

async function watch(ctx: ServiceContext, call: ServerWritableStream<WatchRequest, WatchResponse>): Promise<void> {
  let w: Watcher
  try {
    checkAccepting(ctx)
    w = ctx.node.kv.watch(requestOf(call))
  } catch (err) {
    if (err instanceof KvError && err.code === 'COMPACTED') {
      call.write(cancelResponse(ctx, err))
      call.end()
    } else {
      call.emit('error', toServiceError(err))
    }
    return
  }
  call.on('cancelled', () => w.cancel())
  call.on('error', () => w.cancel())
  try {
    await write(call, {header: header(ctx.node, w.startRevision - 1), events: [], compactRevision: 0, canceled: false, cancelReason: ''})
    for await (const batch of w) {
      await write(call, {header: header(ctx.node, batch.revision), events: batch.events.map(eventFromEtcd), compactRevision: 0, canceled: false, cancelReason: ''})
    }
  } catch (err) {
    if (err instanceof KvError) await write(call, cancelResponse(ctx, err)).catch(() => {})
  } finally {
    w.cancel()
    if (!call.cancelled) call.end()
  }
}

/** Writes one response, waiting for the stream to drain when its buffer is full. */
function write(call: ServerWritableStream<WatchRequest, WatchResponse>, res: WatchResponse): Promise<void> {
  if (call.cancelled) return Promise.reject(new Error('the watch was cancelled'))
  if (call.write(res)) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const settle = (ok: boolean) => (): void => {
      call.off('drain', onDrain)
      call.off('cancelled', onCancel)
      if (ok) resolve()
      else reject(new Error('the watch was cancelled'))
    }
    const onDrain = settle(true)
    const onCancel = settle(false)
    call.once('drain', onDrain)
    call.once('cancelled', onCancel)
  })
}
