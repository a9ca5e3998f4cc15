/**
 * The replication state of one follower as seen by the leader (etcd-io/raft tracker/state.go).
 * The string values are etcd's names so status output and golden files read the same.
 */
export enum ProgressState {
  /**
   * The leader does not know where the follower's log matches and sends at most one append per
   * heartbeat interval, probing backwards until it finds the match.
   */
  Probe = 'StateProbe',
  /** The follower's log matches up to `match`; the leader streams appends optimistically. */
  Replicate = 'StateReplicate',
  /** The follower needs (and is being sent) a snapshot; no appends are sent meanwhile. */
  Snapshot = 'StateSnapshot',
}
