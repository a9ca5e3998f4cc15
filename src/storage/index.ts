/** Persistence of a raftctl node: RocksDB access, the Raft log and state, member metadata. */
export * from './db.js'
export * from './errors.js'
export * from './keys.js'
export * from './records.js'
export {minRetainIndex, planCompaction} from './log_plan.js'
export {EMPTY_SNAPSHOT} from './load.js'
export * from './raft_storage.js'
export {clusterIdFor} from './cluster_id.js'
