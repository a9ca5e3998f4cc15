/**
 * Errors the node answers clients with, and their mapping to gRPC statuses. Messages are one
 * sentence; a not-leader refusal carries the leader's client endpoint in trailing metadata
 * (`raftctl-leader`) so the client can redirect without guessing.
 */
import {Metadata, type ServiceError, status} from '@grpc/grpc-js'
import {ConfChangeError, ProposalDroppedError, RaftError} from '../raft/errors.js'
import {WireDecodeError} from '../raftpb/checked.js'
import {DeadlineError} from './wait.js'

export const LEADER_HINT_KEY = 'raftctl-leader'

/** An error with a chosen gRPC status, thrown by service handlers and the node. */
export class NodeError extends Error {
  constructor(readonly grpcCode: status, message: string, readonly leaderEndpoint?: string) {
    super(message)
    this.name = 'NodeError'
  }
}

export const notLeader = (selfId: number, leaderId: number, leaderEndpoint?: string): NodeError =>
  leaderId === 0
    ? new NodeError(status.UNAVAILABLE, `node ${selfId} is not the leader and no leader is known yet; retry shortly`)
    : new NodeError(status.FAILED_PRECONDITION,
      `node ${selfId} is not the leader; the leader is node ${leaderId}${leaderEndpoint ? ` at ${leaderEndpoint}` : ''}`,
      leaderEndpoint)

export const invalidArgument = (message: string): NodeError => new NodeError(status.INVALID_ARGUMENT, message)
export const failedPrecondition = (message: string): NodeError => new NodeError(status.FAILED_PRECONDITION, message)
export const notFound = (message: string): NodeError => new NodeError(status.NOT_FOUND, message)
export const unavailable = (message: string): NodeError => new NodeError(status.UNAVAILABLE, message)

/** Maps any error from the node, the core or storage to a gRPC ServiceError. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const e = classify(err)
  const metadata = new Metadata()
  if (e.leaderEndpoint !== undefined) metadata.set(LEADER_HINT_KEY, e.leaderEndpoint)
  return {code: e.grpcCode, details: e.message, message: e.message, metadata}
}

function classify(err: unknown): NodeError {
  if (err instanceof NodeError) return err
  if (err instanceof DeadlineError) return new NodeError(status.DEADLINE_EXCEEDED, err.message)
  if (err instanceof WireDecodeError) return new NodeError(status.INVALID_ARGUMENT, err.message)
  if (err instanceof ProposalDroppedError) {
    const code = err.reason === 'conf-change-refused' ? status.FAILED_PRECONDITION : status.UNAVAILABLE
    return new NodeError(code, err.message)
  }
  if (err instanceof ConfChangeError) return new NodeError(status.FAILED_PRECONDITION, err.message)
  if (err instanceof RaftError) return new NodeError(status.INTERNAL, err.message)
  const message = err instanceof Error ? err.message : String(err)
  return new NodeError(status.INTERNAL, message)
}
