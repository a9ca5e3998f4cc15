/**
 * Errors the node answers clients with, and their mapping to gRPC statuses. Messages are one
 * sentence; a not-leader refusal carries the leader's client endpoint in trailing metadata
 * (`raftctl-leader`) so the client can redirect without guessing. An UNAVAILABLE answer for a
 * request the node refused before proposing anything carries `raftctl-retry-safe: 1`, so the
 * client may repeat even a write.
 */
import {Metadata, type ServiceError, status} from '@grpc/grpc-js'
import {KvError, SnapshotFileError} from '../kv/errors.js'
import {CodedError, ConfChangeError, ProposalDroppedError, RaftError} from '../raft/errors.js'
import {WireDecodeError} from '../raftpb/checked.js'
import {LEADER_HINT_KEY, RETRY_SAFE_KEY} from '../raftpb/metadata.js'
import {StorageError} from '../storage/errors.js'
import {DeadlineError} from './wait.js'

export {LEADER_HINT_KEY, RETRY_SAFE_KEY} from '../raftpb/metadata.js'

/** An error with a chosen gRPC status, thrown by service handlers and the node; `code` is its name. */
export class NodeError extends CodedError {
  constructor(
    readonly grpcCode: status, message: string, readonly leaderEndpoint?: string,
    /** True when nothing was proposed, so the client may safely send the request again. */
    readonly retrySafe = false,
  ) {
    super(status[grpcCode] ?? String(grpcCode), message)
  }
}

/**
 * The answer of a node that is not the leader to a request only the leader serves. With a
 * known leader client endpoint: FAILED_PRECONDITION and the hint. Without a leader, or before
 * the leader published its client address: UNAVAILABLE, safe to retry.
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

/** Maps any error from the node, the core or storage to a gRPC ServiceError. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const e = classify(err)
  const metadata = new Metadata()
  if (e.leaderEndpoint !== undefined) metadata.set(LEADER_HINT_KEY, e.leaderEndpoint)
  if (e.retrySafe) metadata.set(RETRY_SAFE_KEY, '1')
  return {code: e.grpcCode, details: e.message, message: e.message, metadata}
}

function classify(err: unknown): NodeError {
  if (err instanceof NodeError) return err
  if (err instanceof DeadlineError) return new NodeError(status.DEADLINE_EXCEEDED, err.message)
  if (err instanceof WireDecodeError) return new NodeError(status.INVALID_ARGUMENT, err.message)
  if (err instanceof ProposalDroppedError) {
    if (err.reason === 'conf-change-refused') return new NodeError(status.FAILED_PRECONDITION, confRefusalMessage(err))
    return new NodeError(status.UNAVAILABLE, err.message, undefined, true)
  }
  if (err instanceof ConfChangeError) return new NodeError(status.FAILED_PRECONDITION, err.message)
  if (err instanceof KvError) return new NodeError(KV_CODES[err.code], err.message)
  if (err instanceof SnapshotFileError) return new NodeError(status.DATA_LOSS, err.message)
  if (err instanceof StorageError) return new NodeError(status.INTERNAL, err.message)
  if (err instanceof RaftError) return new NodeError(status.INTERNAL, err.message)
  const message = err instanceof Error ? err.message : String(err)
  return new NodeError(status.INTERNAL, message)
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

/** etcd's gRPC code of each KvError (src/kv/errors.ts lists etcd's message of each). */
const KV_CODES: Record<KvError['code'], status> = {
  INVALID_REQUEST: status.INVALID_ARGUMENT,
  EMPTY_KEY: status.INVALID_ARGUMENT,
  KEY_NOT_FOUND: status.INVALID_ARGUMENT,
  VALUE_PROVIDED: status.INVALID_ARGUMENT,
  LEASE_PROVIDED: status.INVALID_ARGUMENT,
  TOO_MANY_OPS: status.INVALID_ARGUMENT,
  DUPLICATE_KEY: status.INVALID_ARGUMENT,
  LEASE_NOT_FOUND: status.NOT_FOUND,
  LEASE_EXISTS: status.FAILED_PRECONDITION,
  LEASE_TTL_TOO_LARGE: status.OUT_OF_RANGE,
  LEASE_TTL_NOT_POSITIVE: status.INVALID_ARGUMENT,
  LEASE_INVALID_REQUEST: status.INVALID_ARGUMENT,
  COMPACTED: status.OUT_OF_RANGE,
  FUTURE_REVISION: status.OUT_OF_RANGE,
  WATCH_CANCELED: status.CANCELLED,
}
