/**
 * The call machinery under the typed client: the error type, one unary call with a deadline,
 * and the rules that decide what a failed attempt means (connection.ts runs the attempts).
 *
 * What a failed attempt means (classifyFailure):
 * - `unreachable`: the endpoint could not be reached; the request never left, so any call,
 *   write or not, may go to another endpoint.
 * - `redirect`: FAILED_PRECONDITION with a leader hint (metadata `raftctl-leader`): "not the
 *   leader, nothing was done"; the call goes to the hinted endpoint.
 * - `no-leader`: UNAVAILABLE marked retry-safe: the server refused before proposing anything
 *   because it has no leader to serve it (no leader yet, proposal dropped, a read no leader
 *   confirmed); tried again after a back-off, on every endpoint in turn. So is etcd's
 *   DEADLINE_EXCEEDED marked retry-safe: the member waited for a leader in vain and proposed
 *   nothing.
 * - `retry`: any other UNAVAILABLE of an idempotent call (reads, status), such as a connection
 *   lost during a read; tried again likewise.
 * - `busy`: RESOURCE_EXHAUSTED marked retry-safe (admission control refused it, nothing was
 *   written); tried again after a back-off.
 * - `unknown`: a write that may have reached a server — the connection dropped during the call,
 *   DEADLINE_EXCEEDED (from grpc-js or the server), UNAVAILABLE or CANCELLED without the
 *   retry-safe mark. It is never sent again: its outcome is reported as unknown.
 * - `final`: anything else (a refusal — also etcd's UNAVAILABLE "unhealthy cluster", which
 *   refuses a membership change before proposing it —, bad input, a read that timed out):
 *   returned as it is.
 */
import {type CallOptions, type Client, Metadata, type ServiceError, status} from '@grpc/grpc-js'
import {CodedError} from '../raft/errors.js'
import {decodeDetail, DETAIL_KEY, LEADER_HINT_KEY, RETRY_SAFE_KEY} from '../raftpb/metadata.js'

export {LEADER_HINT_KEY, RETRY_SAFE_KEY} from '../raftpb/metadata.js'

/** An error from the cluster, with the gRPC status and the endpoint that answered. */
export class ClientError extends CodedError<status> {
  /**
   * True when the call was a write that may or may not have been applied (the connection was
   * lost during it, or its deadline passed): the caller must check before repeating it.
   */
  readonly outcomeUnknown: boolean

  constructor(code: status, message: string, readonly endpoint?: string, opts: {outcomeUnknown?: boolean} = {}) {
    super(code, message)
    this.outcomeUnknown = opts.outcomeUnknown ?? false
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
  /**
   * For writes: how to find out whether the write was applied when its outcome is unknown,
   * naming a real command ("read the key back with raftctl kv get").
   */
  readonly check?: string
  /** Request metadata sent with every attempt (e.g. raftctl-member-id on etcd's MemberAdd). */
  readonly metadata?: Readonly<Record<string, string>>
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

/**
 * What the server said: raftctl's explanation (`raftctl-detail`) when it sent one, else the
 * status message (etcd's bare text, or grpc-js's own).
 */
export function serverText(err: Partial<ServiceError>): string {
  const d = err.metadata?.get(DETAIL_KEY)?.[0]
  return typeof d === 'string' && d !== '' ? decodeDetail(d) : err.details || err.message || ''
}

/** True for a DEADLINE_EXCEEDED raised by grpc-js's own deadline rather than said by a server. */
export function isOwnDeadline(err: ServiceError): boolean {
  return err.code === status.DEADLINE_EXCEEDED && /^(Deadline exceeded|$)/i.test(err.details ?? '')
}

/** What a failed attempt means; see the module comment. */
export type FailureKind = 'unreachable' | 'redirect' | 'no-leader' | 'retry' | 'busy' | 'unknown' | 'final'

/** Classifies the failure of one attempt of a call (`idempotent` as in CallSpec). */
export function classifyFailure(err: unknown, idempotent: boolean, endpoint: string): FailureKind {
  const se = err as Partial<ServiceError>
  if (typeof se.code !== 'number') return 'final'
  const e = se as ServiceError
  if (isConnectFailure(e)) return 'unreachable'
  const hint = leaderHint(e)
  if (e.code === status.FAILED_PRECONDITION && hint !== undefined && hint !== endpoint) return 'redirect'
  const safe = isRetrySafe(e)
  if (e.code === status.RESOURCE_EXHAUSTED && safe) return 'busy'
  if ((e.code === status.UNAVAILABLE || e.code === status.DEADLINE_EXCEEDED) && safe) return 'no-leader'
  if (e.code === status.UNAVAILABLE && REFUSALS.has(e.details)) return 'final'
  if (e.code === status.UNAVAILABLE && idempotent) return 'retry'
  if (!idempotent && MAY_HAVE_ARRIVED.has(e.code)) return 'unknown'
  return 'final'
}

/**
 * etcd's UNAVAILABLE answers that are final: a membership change refused because it would cost
 * the quorum of the reachable members (nothing was proposed; repeating would be refused again),
 * and a leader transfer the leader gave up on (its reason is in raftctl-detail; repeating it at
 * once would wait for the same unreachable target). Neither is an unknown outcome.
 */
const REFUSALS = new Set(['etcdserver: unhealthy cluster', 'etcdserver: request timed out, leader transfer took too long'])

/** Statuses with which a write may have reached a server and been proposed. */
const MAY_HAVE_ARRIVED = new Set<status>([status.DEADLINE_EXCEEDED, status.UNAVAILABLE, status.CANCELLED])

/** Invokes one unary call on one client with a deadline and the given request metadata. */
export function invoke<Req, Res>(fn: UnaryFn<Req, Res>, request: Req, deadline: Date, metadata: Readonly<Record<string, string>> = {}): Promise<Res> {
  const md = new Metadata()
  for (const [k, v] of Object.entries(metadata)) md.set(k, v)
  return new Promise((resolve, reject) => {
    fn(request, md, {deadline}, (err, response) => {
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
    const own = isOwnDeadline(se as ServiceError)
    return new ClientError(se.code, own ? `${what} timed out waiting for ${endpoint}` : serverText(se), endpoint)
  }
  if (isConnectFailure(se as ServiceError)) {
    return new ClientError(se.code, `cannot reach ${endpoint}: no raftctl server answers there`, endpoint)
  }
  return new ClientError(se.code, serverText(se) || `${what} failed`, endpoint)
}

/**
 * The error of a write whose outcome is unknown (classifyFailure said `unknown`): it names the
 * operation, what happened, and how to check (`spec.check`) before repeating it.
 */
export function outcomeUnknownError(err: ServiceError, spec: {what: string, check?: string}, endpoint: string, timeoutMs: number): ClientError {
  const check = spec.check ?? 'check whether it took effect'
  return new ClientError(err.code, `${spec.what}: the outcome is unknown, it may or may not have been applied: ` +
    `${unknownReason(err, endpoint, timeoutMs)}; ${check} before repeating it`, endpoint, {outcomeUnknown: true})
}

/** Why a write's outcome is unknown, in words. */
function unknownReason(err: ServiceError, endpoint: string, timeoutMs: number): string {
  if (isOwnDeadline(err)) return `${endpoint} did not answer within the ${formatMs(timeoutMs)} timeout`
  // The server's reason is one sentence whose later clauses already say "check before retrying".
  // etcd's timeout of a proposal (UNAVAILABLE) is a server giving up too.
  if (err.code === status.DEADLINE_EXCEEDED || err.details === 'etcdserver: request timed out') {
    return `${endpoint} gave up: ${serverText(err).split(';')[0]}`
  }
  if (err.code === status.CANCELLED || /Connection dropped|RST_STREAM|ECONNRESET|socket/i.test(err.details ?? '')) {
    return `the connection to ${endpoint} was lost during the call (${err.details})`
  }
  return `${endpoint} answered ${status[err.code]}: ${serverText(err)}`
}

/** "5 s", "1.5 s", "300 ms". */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`
}
