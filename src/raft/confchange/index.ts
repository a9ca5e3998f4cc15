/**
 * Configuration changes of the Raft core (etcd-io/raft confchange/): simple changes, joint
 * consensus (enterJoint / leaveJoint), restoring a ConfState, and the invariants every
 * configuration satisfies. Imports only tracker/, quorum/ and the shared core types and errors.
 */
export {Changer} from './changer.js'
export type {ChangeResult} from './result.js'
export {formatConfState, restore} from './restore.js'
export {checkInvariants} from './invariants.js'
