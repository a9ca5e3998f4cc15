/**
 * Errors of the lease state machine and the lessor, each with a stable `code`. The message is
 * raftctl's explanation of what was wrong (for the `raftctl-detail` metadata); the services map
 * the code to etcd's gRPC status and text in src/server/errors.ts:
 *
 *   LEASE_NOT_FOUND         NOT_FOUND            "etcdserver: requested lease not found"
 *   LEASE_EXISTS            FAILED_PRECONDITION  "etcdserver: lease already exists"
 *   LEASE_TTL_TOO_LARGE     OUT_OF_RANGE         "etcdserver: too large lease TTL"
 *   LEASE_TTL_NOT_POSITIVE  INVALID_ARGUMENT     raftctl's own (etcd raises such a TTL to its minimum)
 *   LEASE_INVALID_REQUEST   INVALID_ARGUMENT     a lease request no raftctl member proposes
 */
import {CodedError} from '../raft/errors.js'
import {formatLeaseId as hex} from './id.js'

export type LeaseErrorCode =
  | 'LEASE_NOT_FOUND' | 'LEASE_EXISTS' | 'LEASE_TTL_TOO_LARGE' | 'LEASE_TTL_NOT_POSITIVE' | 'LEASE_INVALID_REQUEST'

export class LeaseError extends CodedError<LeaseErrorCode> {
  static notFound(id: bigint): LeaseError {
    return new LeaseError('LEASE_NOT_FOUND', `lease ${hex(id)} does not exist (it was never granted, was revoked or expired)`)
  }

  static exists(id: bigint): LeaseError {
    return new LeaseError('LEASE_EXISTS', `lease ${hex(id)} already exists; grant with another id, or with id 0 to let the server choose one`)
  }

  static ttlTooLarge(ttl: number, max: number): LeaseError {
    return new LeaseError('LEASE_TTL_TOO_LARGE', `lease TTL ${ttl} s is above the maximum of ${max} s`)
  }

  static ttlNotPositive(ttl: number): LeaseError {
    return new LeaseError('LEASE_TTL_NOT_POSITIVE', `lease TTL must be a positive number of seconds, got ${ttl}`)
  }

  static invalid(message: string): LeaseError {
    return new LeaseError('LEASE_INVALID_REQUEST', message)
  }
}
