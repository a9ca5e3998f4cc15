/**
 * etcd's concurrency recipes (sessions, mutexes, elections) over etcd's v3 API, for any etcd v3
 * server. docs/coordination.md states what they guarantee.
 */
export {EtcdClient, type EtcdClientOptions, isServiceError} from './etcd.js'
export {ConcurrencyError, ElectionNoLeaderError, ElectionNotLeaderError, MutexSessionExpiredError, NoEndpointError, SessionError, WatchLostError} from './errors.js'
export {Election, type LeaderObservation} from './election.js'
export {Mutex} from './mutex.js'
export {
  DEFAULT_SESSION_TTL, detachedLease, type LeaseHolder, leaseHex, Session, type SessionEnd, type SessionEndReason,
  type SessionOptions,
} from './session.js'
export {connectEtcd, type ConnectOptions} from './connect.js'
