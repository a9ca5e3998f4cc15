/**
 * Shared plumbing of the client services: the time budget of a call (its gRPC deadline, capped),
 * the response header, and the wrapper that turns a handler's result or error into the gRPC
 * answer (errors.ts maps every error to a status and a one-sentence message).
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

/**
 * Returns `def` with request decoders that never throw. grpc-js answers a decoder's exception with
 * INTERNAL "Error deserializing request", which neither says what was wrong nor that the client is
 * at fault; here undecodable bytes become an UndecodableRequest, which requestOf (called by every
 * handler) refuses with INVALID_ARGUMENT naming the method and the decoder's reason.
 */
export function checkedDecoding<S extends ServiceDefinition>(def: S): S {
  const methods = Object.entries(def).map(([name, m]) => [name, {
    ...m,
    requestDeserialize: (bytes: Buffer): unknown => {
      try {
        return m.requestDeserialize(bytes)
      } catch (err) {
        return new UndecodableRequest(m.path, err instanceof Error ? err.message : String(err))
      }
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

/** Wraps an async handler: its result is the response, anything it throws the error status. */
export function unary<Req, Res>(ctx: ServiceContext, name: string,
  fn: (req: Req, timeoutMs: number, call: ServerUnaryCall<Req, Res>) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call, cb) => {
    let p: Promise<Res>
    try {
      checkAccepting(ctx)
      p = fn(requestOf(call), timeLeft(call), call)
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
