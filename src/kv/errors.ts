/**
 * Errors of the key/value state machine, each with a stable `code` that the server maps to
 * etcd's gRPC status and message (src/server/errors.ts). The message here is raftctl's own
 * explanation (what was wrong, what to do); etcd's text for each code:
 *
 * | code             | gRPC status         | etcd's message                                            |
 * | ---------------- | ------------------- | --------------------------------------------------------- |
 * | INVALID_REQUEST  | INVALID_ARGUMENT    | (raftctl only: a malformed request, e.g. an empty txn op) |
 * | EMPTY_KEY        | INVALID_ARGUMENT    | etcdserver: key is not provided                           |
 * | KEY_NOT_FOUND    | INVALID_ARGUMENT    | etcdserver: key not found                                 |
 * | VALUE_PROVIDED   | INVALID_ARGUMENT    | etcdserver: value is provided                             |
 * | LEASE_PROVIDED   | INVALID_ARGUMENT    | etcdserver: lease is provided                             |
 * | TOO_MANY_OPS     | INVALID_ARGUMENT    | etcdserver: too many operations in txn request            |
 * | DUPLICATE_KEY    | INVALID_ARGUMENT    | etcdserver: duplicate key given in txn request            |
 * | LEASE_NOT_FOUND  | NOT_FOUND           | etcdserver: requested lease not found                     |
 * | LEASE_EXISTS     | FAILED_PRECONDITION | etcdserver: lease already exists                          |
 * | LEASE_TTL_TOO_LARGE | OUT_OF_RANGE     | etcdserver: too large lease TTL                           |
 * | LEASE_TTL_NOT_POSITIVE | INVALID_ARGUMENT | (raftctl only: etcd raises such a TTL to its minimum)  |
 * | LEASE_INVALID_REQUEST | INVALID_ARGUMENT | (raftctl only: a lease entry no raftctl member writes)  |
 * | COMPACTED        | OUT_OF_RANGE        | etcdserver: mvcc: required revision has been compacted    |
 * | FUTURE_REVISION  | OUT_OF_RANGE        | etcdserver: mvcc: required revision is a future revision  |
 * | WATCH_CANCELED   | CANCELLED           | (the watch's cancel_reason)                               |
 *
 * etcd answers an empty txn op (no request set) with KEY_NOT_FOUND's text; raftctl uses
 * INVALID_REQUEST for it only where etcd has no rule (see validate.ts). The LEASE_* codes other
 * than LEASE_NOT_FOUND are thrown by the lease hooks (src/lease's LeaseError, a KvError).
 */
import {CodedError, withCode} from '../raft/errors.js'

export type KvErrorCode =
  | 'INVALID_REQUEST' | 'EMPTY_KEY' | 'KEY_NOT_FOUND' | 'VALUE_PROVIDED' | 'LEASE_PROVIDED'
  | 'TOO_MANY_OPS' | 'DUPLICATE_KEY' | 'LEASE_NOT_FOUND' | 'COMPACTED' | 'FUTURE_REVISION'
  | 'WATCH_CANCELED' | LeaseErrorCode

/** The codes of lease refusals (src/lease's LeaseError). */
export type LeaseErrorCode =
  | 'LEASE_NOT_FOUND' | 'LEASE_EXISTS' | 'LEASE_TTL_TOO_LARGE' | 'LEASE_TTL_NOT_POSITIVE' | 'LEASE_INVALID_REQUEST'

export class KvError extends CodedError<KvErrorCode> {
  constructor(
    code: KvErrorCode,
    message: string,
    /** For COMPACTED and WATCH_CANCELED: the store's compact revision (reads below it fail). */
    readonly compactRevision = 0,
  ) {
    super(code, message)
  }
}

export const invalid = (message: string): KvError => new KvError('INVALID_REQUEST', message)

/** The error of a read or watch below the compact revision. */
export const compacted = (revision: number, compactRevision: number): KvError =>
  new KvError('COMPACTED', `revision ${revision} has been compacted (the oldest revision kept is ${compactRevision})`, compactRevision)

/** The error of a read at a revision the store has not reached. */
export const futureRevision = (revision: number, current: number): KvError =>
  new KvError('FUTURE_REVISION', `revision ${revision} is in the future (the store is at revision ${current})`)

/** A lease id as etcdctl prints it: lower-case hex, two's complement for a negative id. */
export const formatLeaseId = (id: bigint): string => BigInt.asUintN(64, id).toString(16)

/** The error of a put (or a revoke, keep-alive, ...) naming a lease that does not exist. */
export const leaseNotFound = (id: bigint): KvError =>
  new KvError('LEASE_NOT_FOUND', `lease ${formatLeaseId(id)} does not exist (it was never granted, was revoked or expired)`)

/** A snapshot file or stream that is truncated, altered or not a raftctl snapshot. */
export class SnapshotFileError extends withCode(CodedError, 'SNAPSHOT_CORRUPT') {}
