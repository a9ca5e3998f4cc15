/**
 * Shared plumbing of the client services: the time budget of a call (its gRPC deadline, capped),
 * the response headers, the request options etcd clients send in metadata (`hasleader`), the
 * request size limit (--max-request-bytes), and the wrappers that turn a handler's result or error into the gRPC answer (errors.ts maps every
 * error to a status and message) — run here, or on the leader (forward.ts).
 */
import {
  type handleUnaryCall, type Metadata, type MethodDefinition, type ServerUnaryCall, type ServiceDefinition, type ServiceError,
  status, type UntypedHandleCall, type UntypedServiceImplementation,
} from '@grpc/grpc-js'
import type {ResponseHeader as EtcdHeader} from '../../generated/etcd/etcdserverpb/header.js'
import {HAS_LEADER_VALUE, REQUIRE_LEADER_KEY} from '../../raftpb/metadata.js'
import {invalidArgument, NodeError, requestTooLarge, toServiceError} from '../errors.js'
import type {LeaderForwarder} from '../forward.js'
import type {RaftNode} from '../node.js'
import {noLeader, type RequestOptions} from '../requests.js'

/** The longest a request waits when the client set no deadline. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000

/** What every service handler needs. */
export interface ServiceContext {
  readonly node: RaftNode
  /** False once the server stops accepting requests. */
  readonly accepting: () => boolean
  /** Sends calls that only the leader answers to the leader (etcd's Cluster, the extension). */
  readonly forwarder: LeaderForwarder
}

/** Milliseconds left before the call's deadline (DEFAULT_REQUEST_TIMEOUT_MS when none). */
export function timeLeft(call: {getDeadline(): Date | number}): number {
  const d = call.getDeadline()
  const at = d instanceof Date ? d.getTime() : d
  if (!Number.isFinite(at)) return DEFAULT_REQUEST_TIMEOUT_MS
  return Math.max(1, Math.min(at - Date.now(), 10 * DEFAULT_REQUEST_TIMEOUT_MS))
}

/**
 * The header of an etcd response served by this node; `revision` 0 leaves it out, as etcd does
 * for Cluster responses.
 */
export function etcdHeader(node: RaftNode, revision: number): EtcdHeader {
  return {clusterId: BigInt(node.clusterId), memberId: BigInt(node.id), revision, raftTerm: node.currentTerm}
}

/** What the call's metadata asks for: etcd's `hasleader: true` means "refuse without a leader". */
export function requestOptions(md: Metadata): RequestOptions {
  return {requireLeader: md.get(REQUIRE_LEADER_KEY)[0] === HAS_LEADER_VALUE}
}

/** Refuses new requests while the node is stopping (safe to retry elsewhere). */
export function checkAccepting(ctx: ServiceContext): void {
  if (!ctx.accepting()) {
    throw new NodeError(status.UNAVAILABLE, `node ${ctx.node.id} is shutting down; use another endpoint`, undefined, true)
  }
}

/** The stand-in for a request whose bytes did not decode (see checkedDecoding). */
export class UndecodableRequest {
  constructor(readonly method: string, readonly reason: string) {}
}

/** The encoded size of every request decoded through a definition made by checkedDecoding. */
const requestSizes = new WeakMap<object, number>()

/**
 * Returns `def` with request decoders that never throw and that remember each request's encoded
 * size. grpc-js answers a decoder's exception with INTERNAL "Error deserializing request", which
 * neither says what was wrong nor that the client is at fault; here undecodable bytes become an
 * UndecodableRequest, which requestOf (called by every handler) refuses with INVALID_ARGUMENT
 * naming the method and the decoder's reason. The size lets unary() refuse a request larger than
 * --max-request-bytes (checkRequestSize).
 */
export function checkedDecoding<S extends ServiceDefinition>(def: S): S {
  const methods = Object.entries(def).map(([name, m]) => [name, {
    ...m,
    requestDeserialize: (bytes: Buffer): unknown => {
      let req: unknown
      try {
        req = m.requestDeserialize(bytes)
      } catch (err) {
        return new UndecodableRequest(m.path, err instanceof Error ? err.message : String(err))
      }
      if (req !== null && typeof req === 'object') requestSizes.set(req, bytes.length)
      return req
    },
  }])
  return Object.fromEntries(methods) as S
}

/** The request of a call; throws INVALID_ARGUMENT when its bytes did not decode. */
export function requestOf<Req>(call: {readonly request: Req}): Req {
  const r: unknown = call.request
  if (r instanceof UndecodableRequest) throw invalidArgument(`the request to ${r.method.slice(1)} does not decode: ${r.reason}`)
  return call.request
}

/** The framing and the other fields a request may carry beyond --max-request-bytes (etcd's grpcOverheadBytes). */
const GRPC_OVERHEAD_BYTES = 512 * 1024
/** The gRPC receive limit never goes below this, so a request somewhat over the limit still gets our answer. */
const MIN_RECEIVE_LIMIT_BYTES = 16 << 20

/**
 * The gRPC receive limit of the client listener for a given --max-request-bytes: larger than it,
 * so that a request over the limit reaches unary() and is answered INVALID_ARGUMENT naming its
 * size and the limit (a request beyond this receive limit, at least 16 MiB, is cut by gRPC with
 * RESOURCE_EXHAUSTED "Received message larger than max", not marked safe to retry).
 */
export function clientReceiveLimit(maxRequestBytes: number): number {
  return Math.max(MIN_RECEIVE_LIMIT_BYTES, maxRequestBytes + GRPC_OVERHEAD_BYTES)
}

/** Refuses a request whose encoded size exceeds --max-request-bytes (etcd: "request is too large"). */
export function checkRequestSize(ctx: ServiceContext, req: unknown): void {
  const size = req !== null && typeof req === 'object' ? requestSizes.get(req) : undefined
  const limit = ctx.node.config.maxRequestBytes
  if (size !== undefined && size > limit) {
    throw requestTooLarge(size, limit)
  }
}

/**
 * Wraps an async handler: its result is the response, anything it throws the error status. A
 * request that does not decode, or is larger than --max-request-bytes, is refused before the
 * handler runs.
 */
export function unary<Req, Res>(ctx: ServiceContext, name: string,
  fn: (req: Req, timeoutMs: number, call: ServerUnaryCall<Req, Res>) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call, cb) => {
    let p: Promise<Res>
    try {
      checkAccepting(ctx)
      const req = requestOf(call)
      if (requestOptions(call.metadata).requireLeader === true && ctx.node.leaderId === 0) throw noLeader(ctx.node)
      checkRequestSize(ctx, req)
      p = fn(req, timeLeft(call), call)
    } catch (err) {
      p = Promise.reject(err)
    }
    p.then((res) => cb(null, res), (err: unknown) => {
      const se = toServiceError(err)
      ctx.node.log.debug({event: 'request-failed', method: name, code: status[se.code ?? 2], reason: se.details}, 'request failed')
      cb(se, null)
    })
  }
}

/**
 * A unary handler that runs on the leader: here when this node leads, otherwise the whole call
 * is forwarded to the leader and its answer returned (forward.ts).
 */
export function leaderUnary<Req, Res>(ctx: ServiceContext, method: MethodDefinition<Req, Res>, name: string,
  fn: (req: Req, timeoutMs: number, call: ServerUnaryCall<Req, Res>) => Promise<Res>): handleUnaryCall<Req, Res> {
  return unary<Req, Res>(ctx, name, (req, ms, call) =>
    ctx.forwarder.onLeader(method, req, call.metadata, ms, requestOptions(call.metadata), (left) => fn(req, left, call)))
}

/**
 * Every method of `def` answers UNIMPLEMENTED with `message` (a service raftctl does not serve
 * yet), streaming ones included.
 */
export function unimplementedService(def: ServiceDefinition, message: string): UntypedServiceImplementation {
  const out: UntypedServiceImplementation = {}
  const error: Partial<ServiceError> = {code: status.UNIMPLEMENTED, details: message, message}
  const streaming = (call: {emit(event: 'error', err: unknown): boolean}): void => void call.emit('error', error)
  const single: handleUnaryCall<unknown, unknown> = (_call, cb) => cb(error, null)
  for (const [name, method] of Object.entries(def)) {
    out[name] = method.requestStream || method.responseStream ? streaming as UntypedHandleCall : single
  }
  return out
}
