/**
 * Quorum arithmetic over sets of voter ids (etcd-io/raft quorum/): majority and joint
 * configs, committed indexes and vote results. Imports nothing outside this directory.
 */
export {VoteResult} from './vote_result.js'
export {type AckedIndexer, MajorityConfig} from './majority.js'
export {JointConfig} from './joint.js'
