/**
 * Errors of the lease state machine and the lessor, each with a stable `code`. A LeaseError is a
 * KvError (its codes are part of the key/value store's, src/kv/errors.ts), so an entry the lease
 * hooks refuse applies as a no-op answering it, like any refused request. The message is
 * raftctl's explanation of what was wrong (for the `raftctl-detail` metadata); the services map
 * the code to etcd's gRPC status and text in src/server/errors.ts:
 *
 *   LEASE_NOT_FOUND         NOT_FOUND            "etcdserver: requested lease not found"
 *   LEASE_EXISTS            FAILED_PRECONDITION  "etcdserver: lease already exists"
 *   LEASE_TTL_TOO_LARGE     OUT_OF_RANGE         "etcdserver: too large lease TTL"
 *   LEASE_TTL_NOT_POSITIVE  INVALID_ARGUMENT     raftctl's own (etcd raises such a TTL to its minimum)
 *   LEASE_INVALID_REQUEST   INVALID_ARGUMENT     a lease request no raftctl member proposes
 */
import {KvError, leaseNotFound, type LeaseErrorCode} from '../kv/errors.js'
import {formatLeaseId as hex} from './id.js'

export type {LeaseErrorCode} from '../kv/errors.js'

export class LeaseError extends KvError {
  declare readonly code: LeaseErrorCode

  constructor(code: LeaseErrorCode, message: string) {
    super(code, message)
  }

  static notFound(id: bigint): LeaseError {
    return new LeaseError('LEASE_NOT_FOUND', leaseNotFound(id).message)
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
