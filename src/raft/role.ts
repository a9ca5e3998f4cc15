/**
 * The role of a node and its volatile "soft state" (etcd-io/raft StateType and SoftState).
 */

/** The role a node plays (Raft paper §5.1, plus the pre-candidate of thesis §9.6). */
export enum StateRole {
  Follower = 'StateFollower',
  Candidate = 'StateCandidate',
  Leader = 'StateLeader',
  PreCandidate = 'StatePreCandidate',
}

/**
 * Volatile state that does not need to be persisted: who the node thinks the leader is and which
 * role it plays. Reported in Ready.softState whenever it changes.
 */
export interface SoftState {
  readonly leaderId: number
  readonly role: StateRole
}

/** Whether a report of a snapshot sent to a follower (RawNode.reportSnapshot) succeeded. */
export enum SnapshotStatus {
  Finish = 'SnapshotFinish',
  Failure = 'SnapshotFailure',
}
