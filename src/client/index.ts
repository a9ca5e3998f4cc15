/** The typed client of a raftctl cluster (used by the CLI and the tests). */
export {
  RaftctlClient, type MemberAddOptions, type MemberChangeSpec, type MemberListOptions, type RaftctlClientOptions, type RangeOptions,
  type WatchRequestOptions,
} from './client.js'
export {hostPort, type MemberInfo, memberInfo, type Membership, type MembershipChange, membershipChange, type MemberStatus, roleIn, statuses} from './members.js'
export {ClusterConnection, type ConnectionOptions} from './connection.js'
export {ClientError, LEADER_HINT_KEY, RETRY_SAFE_KEY} from './rpc.js'
export {type Bytes, bytesToString, keyRange, type KeyRangeOptions, prefixEnd, toBytes} from './keys.js'
export {type WatchBatch, WatchStream} from './watch.js'
export {type SnapshotDownload} from './snapshot.js'
