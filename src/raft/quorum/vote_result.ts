/**
 * The outcome of counting votes over a quorum configuration (etcd-io/raft quorum.VoteResult).
 * The string values are the names etcd prints, so golden files read the same.
 */
export enum VoteResult {
  /** Neither a quorum of yes votes nor a quorum of no votes has been reached yet. */
  Pending = 'VotePending',
  /** A quorum of no votes has been reached: the election cannot be won any more. */
  Lost = 'VoteLost',
  /** A quorum of yes votes has been reached. */
  Won = 'VoteWon',
}
