/**
 * Facts about etcd 3.4 observed against a real etcd, which raftctl must match and
 * docs/etcd-compatibility.md records:
 * - ETCD_ERRORS: the gRPC status of each error case clients match on (etcd_errors.test.ts
 *   reproduces every one but `notCapable`). Clients match on the exact text: Go's clientv3 maps
 *   each message back to a typed error, the etcd3 client maps several to error classes
 *   (EtcdLeaseInvalidError, EtcdPermissionDeniedError, ...).
 * - ETCD_HEADER_FIELDS: the response header fields each RPC fills (etcd_headers.test.ts).
 */
import type {GrpcFailure} from './etcd_grpc.js'

const e = (code: string, details: string): GrpcFailure => ({code, details})

export const ETCD_ERRORS = {
  compacted: e('OUT_OF_RANGE', 'etcdserver: mvcc: required revision has been compacted'),
  futureRevision: e('OUT_OF_RANGE', 'etcdserver: mvcc: required revision is a future revision'),
  tooManyOps: e('INVALID_ARGUMENT', 'etcdserver: too many operations in txn request'),
  duplicateKey: e('INVALID_ARGUMENT', 'etcdserver: duplicate key given in txn request'),
  requestTooLarge: e('INVALID_ARGUMENT', 'etcdserver: request is too large'),
  emptyKey: e('INVALID_ARGUMENT', 'etcdserver: key is not provided'),
  keyNotFound: e('INVALID_ARGUMENT', 'etcdserver: key not found'),
  valueProvided: e('INVALID_ARGUMENT', 'etcdserver: value is provided'),
  leaseProvided: e('INVALID_ARGUMENT', 'etcdserver: lease is provided'),
  leaseNotFound: e('NOT_FOUND', 'etcdserver: requested lease not found'),
  memberNotFound: e('NOT_FOUND', 'etcdserver: member not found'),
  memberNotLearner: e('FAILED_PRECONDITION', 'etcdserver: can only promote a learner member'),
  learnerNotReady: e('FAILED_PRECONDITION', 'etcdserver: can only promote a learner member which is in sync with leader'),
  tooManyLearners: e('FAILED_PRECONDITION', 'etcdserver: too many learner members in cluster'),
  memberBadURLs: e('INVALID_ARGUMENT', 'etcdserver: given member URLs are invalid'),
  peerURLExists: e('FAILED_PRECONDITION', 'etcdserver: Peer URLs already exists'),
  unhealthyCluster: e('UNAVAILABLE', 'etcdserver: unhealthy cluster'),
  noLeader: e('UNAVAILABLE', 'etcdserver: no leader'),
  /** Only while the cluster version is below 3.0 (never with 3.4 members alone): from etcd's source, not observed. */
  notCapable: e('UNAVAILABLE', 'etcdserver: not capable'),
  /** MoveLeader to an id that is no member, or is a learner (etcdctl_maintenance.test.ts). */
  badLeaderTransferee: e('FAILED_PRECONDITION', 'etcdserver: bad leader transferee'),
  /** MoveLeader whose target did not take over before the caller's deadline: from etcd's source, not observed. */
  leaderTransferTimeout: e('UNAVAILABLE', 'etcdserver: request timed out, leader transfer took too long'),
  permissionDenied: e('PERMISSION_DENIED', 'etcdserver: permission denied'),
  userEmpty: e('INVALID_ARGUMENT', 'etcdserver: user name is empty'),
  invalidAuthToken: e('UNAUTHENTICATED', 'etcdserver: invalid auth token'),
  authFailed: e('INVALID_ARGUMENT', 'etcdserver: authentication failed, invalid user ID or password'),
} as const

/**
 * etcd's gRPC server refuses a request message larger than --max-request-bytes plus this many
 * bytes before etcd sees it (RESOURCE_EXHAUSTED, "grpc: received message larger than max (N vs. M)").
 */
export const GRPC_OVERHEAD_BYTES = 512 * 1024

export type HeaderField = 'cluster_id' | 'member_id' | 'revision' | 'raft_term'
export const ALL_HEADER_FIELDS: readonly HeaderField[] = ['cluster_id', 'member_id', 'revision', 'raft_term']
const NO_REVISION: readonly HeaderField[] = ['cluster_id', 'member_id', 'raft_term']
const ALL = ALL_HEADER_FIELDS

/** The header fields etcd 3.4 fills (non-zero), by RPC and, for Watch, by kind of response. */
export const ETCD_HEADER_FIELDS: Readonly<Record<string, readonly HeaderField[]>> = {
  'KV.Range': ALL, 'KV.Put': ALL, 'KV.DeleteRange': ALL, 'KV.Txn': ALL, 'KV.Compact': ALL,
  'KV.Txn, each op response inside': ['revision'],
  'Watch, created': ALL, 'Watch, events': ALL, 'Watch, progress': ALL, 'Watch, canceled by the client': ALL,
  'Watch, canceled as compacted': NO_REVISION,
  'Lease.LeaseGrant': ALL, 'Lease.LeaseTimeToLive': ALL, 'Lease.LeaseLeases': ALL, 'Lease.LeaseRevoke': ALL,
  'Cluster.MemberList': NO_REVISION, 'Cluster.MemberAdd': NO_REVISION, 'Cluster.MemberUpdate': NO_REVISION,
  'Cluster.MemberRemove': NO_REVISION,
  'Maintenance.Status': ALL, 'Maintenance.Hash': ALL, 'Maintenance.HashKV': ALL,
  // etcd 3.4 leaves these headers empty.
  'Maintenance.Alarm': [], 'Maintenance.Defragment': [], 'Maintenance.MoveLeader': [],
}
