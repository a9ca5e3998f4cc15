/**
 * Progress tracking of the Raft leader (etcd-io/raft tracker/): Inflights, Progress, the
 * tracker configuration and ProgressTracker. Imports only quorum/ and the shared core types.
 */
export {Inflights} from './inflights.js'
export {ProgressState} from './state.js'
export {Progress, type ProgressMap, progressMapToString, type ProgressOptions} from './progress.js'
export {cloneConfig, configToString, emptyConfig, type TrackerConfig} from './config.js'
export {ProgressTracker, type VoteTally} from './tracker.js'
