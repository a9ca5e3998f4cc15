/**
 * Leases (etcd's Lease semantics): the replicated lease state (LeaseStore, applied from the log in
 * the key/value store's batches), the leader's timers (Lessor, pure) and the proposer's grant
 * preparation. Expiry is decided by the leader only and applied through the log.
 */
export * from './errors.js'
export * from './types.js'
export {LeaseBatch} from './batch.js'
export {LeaseStore, type LeaseListener} from './store.js'
export {openStateMachine, type StateMachine} from './open.js'
export {LeaseRestore, exportLeaseItems} from './snapshot.js'
export {
  Lessor, DEFAULT_CHECKPOINT_INTERVAL_MS, type LessorOptions, type KeepAliveResult, type TimeToLiveResult,
  type ExpiredLease,
} from './lessor.js'
export {revokeEntry, revokeOf, checkpointEntry, checkpointsOf} from './entries.js'
export {minLeaseTtl, chooseLeaseId, prepareGrant, type GrantPolicy} from './grant.js'
export {LEASE_PREFIX, leaseKey, attachmentKey, parseLeaseKey} from './records.js'
