/**
 * The public API of the Raft core (issue 2 and issue 3): RawNode and Ready, Config, Storage and
 * MemoryStorage, conf-change encoding, the membership arithmetic (quorum, tracker, confchange),
 * the plain core types and the typed errors.
 */
export * from './quorum/index.js'
export * from './tracker/index.js'
export * from './confchange/index.js'
export * from './types.js'
export * from './errors.js'
export type {RaftState, Storage} from './storage.js'
export {type Config, CONFIG_DEFAULTS, type ReadOnlyOption, type ResolvedConfig, seededRandom, validateConfig} from './config.js'
export {RawNode, type Ready} from './raw_node.js'
export {MemoryStorage} from './memory_storage.js'
export {
  type AnyConfChange, asV2, decodeConfChange, encodeConfChange, enterJoint, LEAVE_JOINT, leaveJoint,
} from './conf_change.js'
export {SnapshotStatus, type SoftState, StateRole} from './role.js'
export type {ReadState} from './read_only.js'
export type {ProgressStatus, Status} from './status.js'
