/**
 * The call machinery under the typed client: one gRPC channel per endpoint, an overall deadline
 * across retries, redirects to the leader, and retries on another endpoint when one is down.
 *
 * Retry rules. A call is retried on another endpoint when the endpoint could not be reached
 * (the request never left) — for every operation. A call answered UNAVAILABLE by a server (no
 * leader yet, node stopping) is retried only when it is safe to repeat (`idempotent`: reads,
 * status, and writes the server refused before proposing them). A FAILED_PRECONDITION carrying a
 * leader hint (metadata `raftctl-leader`) means "not the leader, nothing was done": the call is
 * sent to the leader. Everything else is returned to the caller as a ClientError.
 */
import {type CallOptions, type Client, Metadata, type ServiceError, status} from '@grpc/grpc-js'
import {LEADER_HINT_KEY, RETRY_SAFE_KEY} from '../raftpb/metadata.js'

export {LEADER_HINT_KEY, RETRY_SAFE_KEY} from '../raftpb/metadata.js'

/** An error from the cluster, with the gRPC status and the endpoint that answered. */
export class ClientError extends Error {
  constructor(
    readonly code: status,
    message: string,
    readonly endpoint?: string,
  ) {
    super(message)
    this.name = 'ClientError'
  }

  /** The gRPC status name, e.g. "FAILED_PRECONDITION". */
  get codeName(): string {
    return status[this.code] ?? String(this.code)
  }
}

/** A unary method of a ts-proto grpc-js client, in its (request, metadata, options, callback) form. */
export type UnaryFn<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (err: ServiceError | null, response: Res) => void,
) => unknown

export interface CallSpec<C extends Client, Req, Res> {
  /** Human name of the operation for errors ("put", "member add"). */
  readonly what: string
  readonly method: (client: C) => UnaryFn<Req, Res>
  readonly request: Req
  /** True when repeating the call cannot apply an effect twice. */
  readonly idempotent: boolean
}

/** Returns true when the error says the endpoint was never reached (request not delivered). */
export function isConnectFailure(err: ServiceError): boolean {
  if (err.code !== status.UNAVAILABLE) return false
  // "\bconnect\b" and not "connect": "Connection dropped" (a call in flight when the server died)
  // must not count as never delivered.
  return /No connection established|ECONNREFUSED|\bconnect\b|Name resolution failed|DNS/i.test(err.details ?? err.message)
}

/** Reads the leader hint from an error's metadata, if any. */
export function leaderHint(err: ServiceError): string | undefined {
  const v = err.metadata?.get(LEADER_HINT_KEY)?.[0]
  return typeof v === 'string' && v !== '' ? v : undefined
}

/** True when the server marked the error as safe to retry (see RETRY_SAFE_KEY). */
export function isRetrySafe(err: ServiceError): boolean {
  return err.metadata?.get(RETRY_SAFE_KEY)?.[0] === '1'
}

/** Invokes one unary call on one client with a deadline. */
export function invoke<Req, Res>(fn: UnaryFn<Req, Res>, request: Req, deadline: Date): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn(request, new Metadata(), {deadline}, (err, response) => {
      if (err !== null) reject(err)
      else resolve(response)
    })
  })
}

/** Turns a ServiceError into a ClientError with a one-sentence message. */
export function toClientError(err: unknown, what: string, endpoint: string): ClientError {
  if (err instanceof ClientError) return err
  const se = err as Partial<ServiceError>
  if (typeof se.code !== 'number') {
    return new ClientError(status.UNKNOWN, `${what} failed: ${(err as Error).message ?? String(err)}`, endpoint)
  }
  if (se.code === status.DEADLINE_EXCEEDED) {
    // A server that gave up itself says why (a proposal not applied in time, a leader transfer
    // that did not happen); only grpc-js's own deadline has nothing to add.
    const details = se.details ?? ''
    const fromServer = details !== '' && !/^Deadline exceeded/i.test(details)
    return new ClientError(se.code, fromServer ? details : `${what} timed out waiting for ${endpoint}`, endpoint)
  }
  if (isConnectFailure(se as ServiceError)) {
    return new ClientError(se.code, `cannot reach ${endpoint}: no raftctl server answers there`, endpoint)
  }
  return new ClientError(se.code, se.details || se.message || `${what} failed`, endpoint)
}
