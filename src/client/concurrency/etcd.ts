/**
 * The few etcd v3 calls the concurrency recipes make (Range, Put, DeleteRange, Txn, LeaseGrant,
 * LeaseRevoke, and the LeaseKeepAlive and Watch streams), over our generated grpc-js clients of
 * one endpoint. It works against any etcd v3 server: etcd itself, or raftctl once it serves
 * leases.
 *
 * Every unary call takes an optional AbortSignal, the counterpart of the Go recipes' context:
 * when the signal fires the call is cancelled and rejects with the signal's reason. Each call also
 * has its own deadline (`callTimeoutMs`), so a server that stops answering never holds a caller
 * forever. Within it, a call that fails with UNAVAILABLE is tried again as clientv3 does: a Range
 * always, a write only when the server was never reached (so a write is never applied twice). A failed call rejects with grpc-js's ServiceError unchanged (its `details` is etcd's
 * message, e.g. "etcdserver: requested lease not found"), so callers and the Lock/Election
 * services can pass it on as etcd does.
 */
import {
  type CallOptions, type ChannelCredentials, type ClientDuplexStream, credentials as grpcCredentials, Metadata,
  type ServiceError, status,
} from '@grpc/grpc-js'
import type {ResponseHeader} from '../../generated/etcd/etcdserverpb/header.js'
import {
  type Compare, Compare_CompareResult, Compare_CompareTarget, type DeleteRangeRequest, type DeleteRangeResponse, KVClient,
  type PutRequest, type PutResponse, type RangeRequest, RangeRequest_SortOrder, RangeRequest_SortTarget, type RangeResponse,
  type RequestOp, type TxnRequest, type TxnResponse,
} from '../../generated/etcd/etcdserverpb/kv.js'
import {
  LeaseClient, type LeaseGrantResponse, type LeaseKeepAliveRequest, type LeaseKeepAliveResponse, type LeaseLeasesResponse,
  type LeaseRevokeResponse, type LeaseTimeToLiveResponse,
} from '../../generated/etcd/etcdserverpb/lease.js'
import {WatchClient, type WatchRequest, type WatchResponse} from '../../generated/etcd/etcdserverpb/watch.js'
import {prefixEnd} from '../keys.js'
import {isConnectFailure} from '../rpc.js'

/** Delay before a failed keep-alive or watch stream is opened again (clientv3's lease client: 500 ms). */
export const RETRY_MS = 500

/** Default deadline of one unary call. */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000

export interface EtcdClientOptions {
  /** Deadline of each unary call (default DEFAULT_CALL_TIMEOUT_MS). */
  readonly callTimeoutMs?: number
  /** Channel credentials (default: insecure, plain TCP). */
  readonly credentials?: ChannelCredentials
}

type Callback<Res> = (err: ServiceError | null, res: Res) => void
type Unary<Req, Res> = (req: Req, md: Metadata, opts: Partial<CallOptions>, cb: Callback<Res>) => {cancel(): void}

/** The reason of an aborted signal as an Error (AbortSignal.reason may be anything). */
export function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason
  return r instanceof Error ? r : new Error(typeof r === 'string' ? r : 'the operation was aborted')
}

/** A client of one etcd v3 endpoint (host:port) for the concurrency recipes. */
export class EtcdClient {
  readonly kv: KVClient
  readonly watchClient: WatchClient
  readonly leaseClient: LeaseClient
  private readonly callTimeoutMs: number

  constructor(readonly endpoint: string, opts: EtcdClientOptions = {}) {
    const creds = opts.credentials ?? grpcCredentials.createInsecure()
    this.kv = new KVClient(endpoint, creds)
    this.watchClient = new WatchClient(endpoint, creds)
    this.leaseClient = new LeaseClient(endpoint, creds)
    this.callTimeoutMs = opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS
  }

  range(req: RangeRequest, signal?: AbortSignal): Promise<RangeResponse> {
    return this.unary(this.kv, this.kv.range, req, signal, true)
  }

  put(req: PutRequest, signal?: AbortSignal): Promise<PutResponse> {
    return this.unary(this.kv, this.kv.put, req, signal)
  }

  deleteRange(req: DeleteRangeRequest, signal?: AbortSignal): Promise<DeleteRangeResponse> {
    return this.unary(this.kv, this.kv.deleteRange, req, signal)
  }

  txn(req: TxnRequest, signal?: AbortSignal): Promise<TxnResponse> {
    return this.unary(this.kv, this.kv.txn, req, signal)
  }

  leaseGrant(ttlSeconds: number, signal?: AbortSignal): Promise<LeaseGrantResponse> {
    return this.unary(this.leaseClient, this.leaseClient.leaseGrant, {TTL: ttlSeconds, ID: 0n}, signal)
  }

  leaseRevoke(id: bigint, signal?: AbortSignal): Promise<LeaseRevokeResponse> {
    return this.unary(this.leaseClient, this.leaseClient.leaseRevoke, {ID: id}, signal)
  }

  /** The lease's remaining and granted TTL (-1 remaining when it does not exist), and its keys with `keys`. */
  leaseTimeToLive(id: bigint, keys: boolean, signal?: AbortSignal): Promise<LeaseTimeToLiveResponse> {
    return this.unary(this.leaseClient, this.leaseClient.leaseTimeToLive, {ID: id, keys}, signal, true)
  }

  /** Every lease the cluster holds. */
  leaseLeases(signal?: AbortSignal): Promise<LeaseLeasesResponse> {
    return this.unary(this.leaseClient, this.leaseClient.leaseLeases, {}, signal, true)
  }

  /** Opens a LeaseKeepAlive stream; the caller writes requests and cancels it when done. */
  keepAliveStream(): ClientDuplexStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse> {
    return this.leaseClient.leaseKeepAlive()
  }

  /** Opens a Watch stream; the caller writes requests and cancels it when done. */
  watchStream(): ClientDuplexStream<WatchRequest, WatchResponse> {
    return this.watchClient.watch()
  }

  /** Closes the channels; calls in flight fail. */
  close(): void {
    this.kv.close()
    this.watchClient.close()
    this.leaseClient.close()
  }

  /**
   * One unary call, tried again while it fails with UNAVAILABLE and may be repeated (clientv3's
   * rule: a read always; a write only when the server was never reached), every RETRY_MS until
   * the call's deadline or `signal`.
   */
  private async unary<C, Req, Res>(client: C, method: Unary<Req, Res>, req: Req, signal: AbortSignal | undefined,
    repeatable = false): Promise<Res> {
    const deadline = Date.now() + this.callTimeoutMs
    for (;;) {
      try {
        return await attempt(client, method, req, deadline, signal)
      } catch (err) {
        const retry = isServiceError(err) && err.code === status.UNAVAILABLE && (repeatable || isConnectFailure(err))
        if (!retry || signal?.aborted === true || Date.now() + RETRY_MS >= deadline) throw err
        await sleep(RETRY_MS, signal)
      }
    }
  }
}

/** One attempt of a unary call; rejects with the signal's reason once it fires. */
function attempt<C, Req, Res>(client: C, method: Unary<Req, Res>, req: Req, deadline: number, signal: AbortSignal | undefined): Promise<Res> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(abortReason(signal))
      return
    }
    const onAbort = (): void => call.cancel()
    const call = method.call(client, req, new Metadata(), {deadline}, (err, res) => {
      signal?.removeEventListener('abort', onAbort)
      if (signal?.aborted === true) reject(abortReason(signal))
      else if (err !== null) reject(err)
      else resolve(res)
    })
    signal?.addEventListener('abort', onAbort, {once: true})
  })
}

/** Waits `ms`, or less if `signal` fires. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, {once: true})
  })
}

/** True when `err` is a gRPC status from the server (not a local error or an abort reason). */
export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number' && 'details' in err
}

/** The header of a response, which etcd always sets (an empty one if a server left it out). */
export function headerOf(res: {header: ResponseHeader | undefined}): ResponseHeader {
  return res.header ?? {clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0}
}

// Request builders. The recipes need only these shapes; each sets every field of the message.

const EMPTY = new Uint8Array(0)

/** A Range of one key, or of every key under `prefix` when `prefix` is set. */
export function rangeRequest(key: Uint8Array, extra: Partial<RangeRequest> = {}): RangeRequest {
  return {
    key, rangeEnd: EMPTY, limit: 0, revision: 0, sortOrder: RangeRequest_SortOrder.NONE, sortTarget: RangeRequest_SortTarget.KEY,
    serializable: false, keysOnly: false, countOnly: false, minModRevision: 0, maxModRevision: 0, minCreateRevision: 0,
    maxCreateRevision: 0, ...extra,
  }
}

/**
 * The key under `prefix` created first (etcd's WithFirstCreate: prefix range, sorted by create
 * revision ascending, limit 1), or created last (WithLastCreate) among those created at or below
 * `maxCreateRevision` when it is given.
 */
export function oldestUnder(prefix: Uint8Array, order: 'first' | 'last' = 'first', maxCreateRevision = 0): RangeRequest {
  return rangeRequest(prefix, {
    rangeEnd: prefixEnd(prefix), limit: 1, sortTarget: RangeRequest_SortTarget.CREATE,
    sortOrder: order === 'first' ? RangeRequest_SortOrder.ASCEND : RangeRequest_SortOrder.DESCEND, maxCreateRevision,
  })
}

export function putRequest(key: Uint8Array, value: Uint8Array, lease: bigint): PutRequest {
  return {key, value, lease, prevKv: false, ignoreValue: false, ignoreLease: false}
}

export function deleteRequest(key: Uint8Array): DeleteRangeRequest {
  return {key, rangeEnd: EMPTY, prevKv: false}
}

/** The comparison "create revision of `key` == `revision`" (0: the key does not exist). */
export function createRevisionIs(key: Uint8Array, revision: number): Compare {
  return {
    result: Compare_CompareResult.EQUAL, target: Compare_CompareTarget.CREATE, key,
    createRevision: BigInt(revision), rangeEnd: EMPTY,
  }
}

export function txnRequest(compare: Compare[], success: RequestOp[], failure: RequestOp[] = []): TxnRequest {
  return {compare, success, failure}
}
