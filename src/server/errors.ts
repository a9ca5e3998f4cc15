/**
 * Errors the node answers clients with, and their mapping to gRPC statuses — the ONE place that
 * maps every error of the node, the core, storage and the key/value store to what a client sees.
 *
 * Where etcd 3.4 has an error for a case, the answer is etcd's exact gRPC code and message
 * (ETCD_ERRORS; etcd clients match on the text), and raftctl's own explanation — what was
 * wrong, what to do — travels in trailing metadata `raftctl-detail` (DETAIL_KEY), which the
 * raftctl client shows instead. Where etcd has no such error (a joint configuration to leave
 * first, a refused conf change), the message is raftctl's sentence itself.
 *
 * Two more marks in trailers: `raftctl-retry-safe: 1` on an answer to a request refused before
 * anything was proposed (no leader yet, proposal dropped, overload: RESOURCE_EXHAUSTED "too many
 * requests" from admission control), so a client may repeat even
 * a write; and, for the raftctl.v1 services still served side by side, `raftctl-leader` with the
 * leader's client endpoint on a not-leader refusal.
 */
import {Metadata, type ServiceError, status} from '@grpc/grpc-js'
import {KvError, type KvErrorCode, SnapshotFileError} from '../kv/errors.js'
import {CodedError, ConfChangeError, ProposalDroppedError, RaftError, withCode} from '../raft/errors.js'
import {WireDecodeError} from '../raftpb/checked.js'
import {DETAIL_KEY, encodeDetail, LEADER_HINT_KEY, RETRY_SAFE_KEY} from '../raftpb/metadata.js'
import {StorageError} from '../storage/errors.js'
import {DeadlineError} from './wait.js'

export {DETAIL_KEY, LEADER_HINT_KEY, RETRY_SAFE_KEY} from '../raftpb/metadata.js'

/** Raised for inputs given to a node loop (loop.ts) that has stopped. */
export class LoopStoppedError extends withCode(CodedError, 'NODE_STOPPED') {}

/** An error with a chosen gRPC status, thrown by service handlers and the node; `code` is its name. */
export class NodeError extends CodedError {
  constructor(
    readonly grpcCode: status, message: string, readonly leaderEndpoint?: string,
    /** True when nothing was proposed, so the client may safely send the request again. */
    readonly retrySafe = false,
    /** raftctl's explanation, sent as `raftctl-detail` when the message is etcd's bare text. */
    readonly detail?: string,
  ) {
    super(status[grpcCode] ?? String(grpcCode), message)
  }
}

const etcd = (code: status, message: string): {readonly code: status, readonly message: string} => ({code, message})

/**
 * etcd 3.4's errors that raftctl answers, word for word (docs/etcd-compatibility.md §4.1;
 * test/compat/etcd_facts.ts holds the observed table).
 */
export const ETCD_ERRORS = {
  compacted: etcd(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'),
  futureRevision: etcd(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'),
  tooManyOps: etcd(status.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'),
  duplicateKey: etcd(status.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'),
  requestTooLarge: etcd(status.INVALID_ARGUMENT, 'etcdserver: request is too large'),
  emptyKey: etcd(status.INVALID_ARGUMENT, 'etcdserver: key is not provided'),
  keyNotFound: etcd(status.INVALID_ARGUMENT, 'etcdserver: key not found'),
  valueProvided: etcd(status.INVALID_ARGUMENT, 'etcdserver: value is provided'),
  leaseProvided: etcd(status.INVALID_ARGUMENT, 'etcdserver: lease is provided'),
  leaseNotFound: etcd(status.NOT_FOUND, 'etcdserver: requested lease not found'),
  leaseExists: etcd(status.FAILED_PRECONDITION, 'etcdserver: lease already exists'),
  leaseTtlTooLarge: etcd(status.OUT_OF_RANGE, 'etcdserver: too large lease TTL'),
  memberNotFound: etcd(status.NOT_FOUND, 'etcdserver: member not found'),
  memberExists: etcd(status.FAILED_PRECONDITION, 'etcdserver: member ID already exist'),
  peerUrlExists: etcd(status.FAILED_PRECONDITION, 'etcdserver: Peer URLs already exists'),
  memberBadUrls: etcd(status.INVALID_ARGUMENT, 'etcdserver: given member URLs are invalid'),
  memberNotLearner: etcd(status.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member'),
  learnerNotReady: etcd(status.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member which is in sync with leader'),
  tooManyLearners: etcd(status.FAILED_PRECONDITION, 'etcdserver: too many learner members in cluster'),
  unhealthyCluster: etcd(status.UNAVAILABLE, 'etcdserver: unhealthy cluster'),
  noLeader: etcd(status.UNAVAILABLE, 'etcdserver: no leader'),
  notLeader: etcd(status.UNAVAILABLE, 'etcdserver: not leader'),
  leaderChanged: etcd(status.UNAVAILABLE, 'etcdserver: leader changed'),
  stopped: etcd(status.UNAVAILABLE, 'etcdserver: server stopped'),
  timeout: etcd(status.UNAVAILABLE, 'etcdserver: request timed out'),
  tooManyRequests: etcd(status.RESOURCE_EXHAUSTED, 'etcdserver: too many requests'),
  notCapable: etcd(status.UNAVAILABLE, 'etcdserver: not capable'),
  badLeaderTransferee: etcd(status.FAILED_PRECONDITION, 'etcdserver: bad leader transferee'),
  leaderTransferTimeout: etcd(status.UNAVAILABLE, 'etcdserver: request timed out, leader transfer took too long'),
  /** What a gRPC server answers when the call's own deadline passed (etcd lets gRPC say it). */
  deadlineExceeded: etcd(status.DEADLINE_EXCEEDED, 'context deadline exceeded'),
} as const

export type EtcdErrorKind = keyof typeof ETCD_ERRORS

/** etcd's error `kind`, with raftctl's explanation `detail`; `retrySafe` when nothing was proposed. */
export function etcdError(kind: EtcdErrorKind, detail: string, opts: {retrySafe?: boolean} = {}): NodeError {
  const e = ETCD_ERRORS[kind]
  return new NodeError(e.code, e.message, undefined, opts.retrySafe ?? false, detail)
}

/**
 * The answer of a node that is not the leader to a request only the leader serves (the
 * raftctl.v1 services). With a known leader client endpoint: FAILED_PRECONDITION and the hint.
 * Without a leader, or before the leader published its client address: UNAVAILABLE, safe to
 * retry.
 */
export const notLeader = (selfId: number, leaderId: number, leaderEndpoint?: string): NodeError => {
  if (leaderId === 0) {
    return new NodeError(status.UNAVAILABLE, `node ${selfId} is not the leader and no leader is known yet; retry shortly`, undefined, true)
  }
  if (leaderEndpoint === undefined) {
    return new NodeError(status.UNAVAILABLE,
      `node ${selfId} is not the leader; the leader is node ${leaderId}, whose client address is not known yet; retry shortly`, undefined, true)
  }
  return new NodeError(status.FAILED_PRECONDITION,
    `node ${selfId} is not the leader; the leader is node ${leaderId} at ${leaderEndpoint}`, leaderEndpoint)
}

export const invalidArgument = (message: string): NodeError => new NodeError(status.INVALID_ARGUMENT, message)
export const failedPrecondition = (message: string): NodeError => new NodeError(status.FAILED_PRECONDITION, message)
export const notFound = (message: string): NodeError => new NodeError(status.NOT_FOUND, message)
export const unavailable = (message: string): NodeError => new NodeError(status.UNAVAILABLE, message)

/**
 * The answer of another member to a call this node forwarded to it (forward.ts): passed on
 * unchanged — code, message and raftctl's trailing metadata.
 */
export class RemoteError extends CodedError {
  constructor(readonly answer: ServiceError) {
    super('REMOTE_ANSWER', answer.details)
  }
}

function remoteAnswer(e: RemoteError): Partial<ServiceError> {
  const metadata = new Metadata()
  for (const [key, values] of Object.entries(e.answer.metadata?.getMap() ?? {})) {
    if (key.startsWith('raftctl-')) metadata.set(key, values)
  }
  return {code: e.answer.code, details: e.answer.details, message: e.answer.details, metadata}
}

/**
 * The answer of a node too loaded to take a request now (etcd's "etcdserver: too many
 * requests"): RESOURCE_EXHAUSTED, marked safe to retry, since it is refused before anything is
 * proposed. `why` names the bound that was reached and the flag that sets it.
 */
export const tooManyRequests = (why: string): NodeError => etcdError('tooManyRequests', `${why}; retry shortly`, {retrySafe: true})

/**
 * The answer to a request larger than --max-request-bytes (etcd's "request is too large"); the
 * detail names its size and the limit.
 */
export const requestTooLarge = (size: number, limit: number): NodeError =>
  etcdError('requestTooLarge', `the request is ${size} bytes, more than the ${limit} bytes --max-request-bytes allows`)

/** Maps any error from the node, the core or storage to a gRPC ServiceError. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  if (err instanceof RemoteError) return remoteAnswer(err)
  const e = classify(err)
  const metadata = new Metadata()
  if (e.leaderEndpoint !== undefined) metadata.set(LEADER_HINT_KEY, e.leaderEndpoint)
  if (e.retrySafe) metadata.set(RETRY_SAFE_KEY, '1')
  if (e.detail !== undefined && e.detail !== '') metadata.set(DETAIL_KEY, encodeDetail(e.detail))
  return {code: e.grpcCode, details: e.message, message: e.message, metadata}
}

function classify(err: unknown): NodeError {
  if (err instanceof NodeError) return err
  // A waiter's deadline: a proposal that may still be applied, or a read that was not confirmed.
  if (err instanceof DeadlineError) return etcdError('timeout', err.message)
  if (err instanceof LoopStoppedError) return etcdError('stopped', err.message)
  if (err instanceof WireDecodeError) return new NodeError(status.INVALID_ARGUMENT, err.message)
  if (err instanceof ProposalDroppedError) return droppedError(err)
  if (err instanceof ConfChangeError) return new NodeError(status.FAILED_PRECONDITION, err.message)
  if (err instanceof KvError) return kvError(err)
  if (err instanceof SnapshotFileError) return new NodeError(status.DATA_LOSS, err.message)
  if (err instanceof StorageError) return new NodeError(status.INTERNAL, err.message)
  if (err instanceof RaftError) return new NodeError(status.INTERNAL, err.message)
  const message = err instanceof Error ? err.message : String(err)
  return new NodeError(status.INTERNAL, message)
}

/** A proposal the core did not append: nothing was proposed, so each answer is safe to retry. */
function droppedError(err: ProposalDroppedError): NodeError {
  switch (err.reason) {
    case 'conf-change-refused':
      return new NodeError(status.FAILED_PRECONDITION, confRefusalMessage(err))
    case 'too-many-uncommitted-bytes':
      return tooManyRequests(`${err.detail}, the limit set by --max-uncommitted-bytes`)
    case 'no-leader':
      return etcdError('noLeader', `${err.message}; retry once a leader is elected`, {retrySafe: true})
    default:
      return etcdError('leaderChanged', `${err.message}; nothing was written, so it is safe to retry`, {retrySafe: true})
  }
}

/**
 * The operator-facing sentence for a conf change the core refused. The core's reasons name its
 * internals ("possible unapplied conf change at index 12 (applied to 11)"); the commonest one,
 * an earlier change not yet applied (or a new leader's first entry not yet applied, which the
 * core cannot tell apart), is said plainly. Every message keeps "conf change refused".
 */
export function confRefusalMessage(err: ProposalDroppedError): string {
  if (err.pending === undefined) return err.detail
  return `conf change refused: the leader has applied its log only up to index ${err.pending.applied}, and index ` +
    `${err.pending.index} may hold another membership change still in progress; retry in a moment`
}

/**
 * etcd's error of each KvError code (src/kv/errors.ts), or the gRPC status of a code etcd has no
 * text for (the KvError's message is then the answer itself). The KvError's own message becomes
 * raftctl-detail when etcd has a text.
 */
const KV_ERRORS: Readonly<Record<KvErrorCode, EtcdErrorKind | status>> = {
  INVALID_REQUEST: status.INVALID_ARGUMENT,
  EMPTY_KEY: 'emptyKey',
  KEY_NOT_FOUND: 'keyNotFound',
  VALUE_PROVIDED: 'valueProvided',
  LEASE_PROVIDED: 'leaseProvided',
  TOO_MANY_OPS: 'tooManyOps',
  DUPLICATE_KEY: 'duplicateKey',
  LEASE_NOT_FOUND: 'leaseNotFound',
  LEASE_EXISTS: 'leaseExists',
  LEASE_TTL_TOO_LARGE: 'leaseTtlTooLarge',
  LEASE_TTL_NOT_POSITIVE: status.INVALID_ARGUMENT,
  LEASE_INVALID_REQUEST: status.INVALID_ARGUMENT,
  COMPACTED: 'compacted',
  FUTURE_REVISION: 'futureRevision',
  WATCH_CANCELED: status.CANCELLED,
}

function kvError(err: KvError): NodeError {
  const m = KV_ERRORS[err.code] ?? status.INTERNAL
  if (typeof m === 'number') return new NodeError(m, err.message)
  return etcdError(m, err.message)
}
