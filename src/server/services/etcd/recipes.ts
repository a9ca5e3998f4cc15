/**
 * Plumbing shared by the Lock and Election services (lock.ts, election.ts). Like etcd's v3lock
 * and v3election servers, which hold a clientv3 connected to their own server, these services
 * run the client recipes (src/client/concurrency) through an etcd client of the server's own
 * client port, made by a factory the server passes in.
 *
 * - The client is made on the first call (the port may not listen yet when the services are
 *   registered) and kept for every later one; close() closes it.
 * - A call's AbortSignal fires when the gRPC call is cancelled or its deadline passes, as the Go
 *   handlers' context does: a waiting Lock or Campaign then withdraws its key.
 * - A request whose bytes do not decode is refused with INVALID_ARGUMENT (common.ts requestOf).
 * - Errors reach the client as etcd's servers send them: etcd's own errors, which clientv3 turns
 *   into typed errors that the gRPC server then sends as UNKNOWN with the same text (e.g.
 *   UNKNOWN "etcdserver: requested lease not found"), and the recipes' own errors (UNKNOWN
 *   "election: no leader"). Any other gRPC status of the inner call (UNAVAILABLE, ...) passes
 *   through with its code.
 */
import {
  type handleUnaryCall, type ServerUnaryCall, type ServerWritableStream, type ServiceError, status,
} from '@grpc/grpc-js'
import {EtcdClient, isServiceError} from '../../../client/concurrency/index.js'
import {NodeError, toServiceError} from '../../errors.js'
import {requestOf} from '../common.js'

/** Makes the etcd client of the server's own client port. */
export type EtcdClientFactory = () => EtcdClient

/** What a register function returns: close() closes the inner client (call it when the server stops). */
export interface RecipeServices {
  close(): void
}

/** The one inner client of a service, made on first use. */
export class InnerClient implements RecipeServices {
  private client: EtcdClient | undefined

  constructor(private readonly connect: EtcdClientFactory) {}

  get(): EtcdClient {
    this.client ??= this.connect()
    return this.client
  }

  close(): void {
    this.client?.close()
    this.client = undefined
  }
}

/** An AbortSignal that fires when `call` is cancelled by the client or its deadline passes. */
export function callSignal(call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>): AbortSignal {
  const ac = new AbortController()
  call.on('cancelled', () => ac.abort(new Error('the call was cancelled')))
  return ac.signal
}

/** The status etcd's Lock and Election servers answer for `err` (see the module comment). */
export function recipeStatus(err: unknown): Partial<ServiceError> {
  if (err instanceof NodeError) return toServiceError(err)
  if (isServiceError(err)) {
    const etcdText = err.details.startsWith('etcdserver: ')
    return {code: etcdText ? status.UNKNOWN : err.code, details: err.details, message: err.details}
  }
  const message = err instanceof Error ? err.message : String(err)
  return {code: status.UNKNOWN, details: message, message}
}

/** A unary handler running `fn` with the call's request and abort signal; errors as recipeStatus. */
export function recipeUnary<Req, Res>(fn: (req: Req, signal: AbortSignal) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call, cb) => {
    const signal = callSignal(call)
    let p: Promise<Res>
    try {
      p = fn(requestOf(call), signal)
    } catch (err) {
      p = Promise.reject(err)
    }
    p.then((res) => cb(null, res), (err: unknown) => cb(recipeStatus(err), null))
  }
}

/** The error etcd's election server answers a Proclaim or Resign without a leader (UNKNOWN). */
export const MISSING_LEADER_KEY = '"leader" field must be provided'

/**
 * The factory of the etcd client that the Lock and Election services of a server listening for
 * clients on `listenHost` use to reach that server itself, on the port `port()` returns once the
 * listener is bound. A wildcard listen address is reached through the loopback address.
 */
export function ownClientFactory(listenHost: string, port: () => number): EtcdClientFactory {
  const host = listenHost === '0.0.0.0' ? '127.0.0.1' : (listenHost === '[::]' || listenHost === '::' ? '[::1]' : listenHost)
  return () => new EtcdClient(`${host}:${port()}`)
}
