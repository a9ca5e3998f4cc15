/**
 * Shared plumbing of the client services: the time budget of a call (its gRPC deadline, capped),
 * the response header, the request size limit (--max-request-bytes), and the wrapper that turns
 * a handler's result or error into the gRPC answer (errors.ts maps every error to a status and a
 * one-sentence message).
 */
import {type handleUnaryCall, type ServerUnaryCall, type ServiceDefinition, status} from '@grpc/grpc-js'
import type {ResponseHeader} from '../../generated/raftctl/v1/kv.js'
import {invalidArgument, NodeError, toServiceError} from '../errors.js'
import type {RaftNode} from '../node.js'

/** The longest a request waits when the client set no deadline. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000

/** What every service handler needs. */
export interface ServiceContext {
  readonly node: RaftNode
  /** False once the server stops accepting requests. */
  readonly accepting: () => boolean
}

/** Milliseconds left before the call's deadline (DEFAULT_REQUEST_TIMEOUT_MS when none). */
export function timeLeft(call: {getDeadline(): Date | number}): number {
  const d = call.getDeadline()
  const at = d instanceof Date ? d.getTime() : d
  if (!Number.isFinite(at)) return DEFAULT_REQUEST_TIMEOUT_MS
  return Math.max(1, Math.min(at - Date.now(), 10 * DEFAULT_REQUEST_TIMEOUT_MS))
}

/** The header of a response served by this node. */
export function header(node: RaftNode, revision = node.kv.revision): ResponseHeader {
  return {clusterId: node.clusterId, memberId: node.id, revision, raftTerm: node.currentTerm}
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
    throw invalidArgument(`request is too large: ${size} bytes, more than the ${limit} bytes --max-request-bytes allows`)
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
