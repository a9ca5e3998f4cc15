/**
 * Errors of the peer transport. The sending side throws TransportError for misuse (a message the
 * core must never hand to the network) and rejects sendSnapshot with it; the receiving side
 * answers refused calls with a PeerRefusal, whose gRPC status says why.
 */
import {status} from '@grpc/grpc-js'
import {CodedError} from '../raft/errors.js'

/** Stable codes of TransportError. */
export type TransportErrorCode =
  | 'BAD_MESSAGE'
  | 'BAD_PEER'
  | 'UNKNOWN_PEER'
  | 'CLOSED'
  | 'SNAPSHOT_FAILED'

/** Raised by PeerTransport; `code` is stable, the message is one sentence. */
export class TransportError extends CodedError<TransportErrorCode> {}

/**
 * Why the receiver refused a peer call. `grpcCode` is a named status: FAILED_PRECONDITION for a
 * foreign cluster or a message meant for another node, PERMISSION_DENIED for a sender that is not
 * a member, INVALID_ARGUMENT for bytes that do not decode or break the protocol, ABORTED for a
 * snapshot the receiver could not store or apply.
 */
export class PeerRefusal extends CodedError {
  /**
   * `code` is the gRPC status name (e.g. "PERMISSION_DENIED"); `peer` is the sender the refused
   * call claims to be from, when its header said so.
   */
  constructor(readonly grpcCode: status, message: string, readonly peer?: number) {
    super(status[grpcCode] ?? String(grpcCode), message)
  }
}

/** Returns the message of any thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
