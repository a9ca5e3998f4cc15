/**
 * Typed errors of the Raft core. Each class has a stable `code` that callers (the server, the
 * CLI) map to their own responses; messages are one sentence saying what was refused and why.
 */

/** Base class of every error the core throws on purpose. */
export class RaftError extends Error {
  constructor(readonly code: string, message: string) {
    super(message)
    this.name = new.target.name
  }
}

/** Why a proposal was dropped: used by the server to choose its answer to the client. */
export type ProposalDroppedReason =
  | 'no-leader'
  | 'transfer-in-progress'
  | 'too-many-uncommitted-bytes'
  | 'conf-change-refused'
  | 'not-a-member'
  /**
   * The leader is leaving the voters (a pending conf change removes or demotes it, or it applied
   * one and is handing leadership over): it appends nothing more so that a voter of the new
   * config can catch up to its whole log and take over at once (thesis §3.10, §4.2.2). Retry
   * shortly; the next leader accepts the proposal.
   */
  | 'leader-stepping-down'

/** An earlier conf change that may still be unapplied, as a refused conf change reports it. */
export interface PendingConfChange {
  /** The index of the last conf change the leader proposed (or of its first entry as leader). */
  readonly index: number
  /** The leader's applied index, below `index`. */
  readonly applied: number
}

/** A proposal was not appended to the log: no leader, a transfer in progress, and so on. */
export class ProposalDroppedError extends RaftError {
  /**
   * `detail` says why, without the "proposal dropped: " prefix of the message; `pending` is set
   * when a conf change was refused because an earlier one may not be applied yet.
   */
  constructor(readonly reason: ProposalDroppedReason, readonly detail: string, readonly pending?: PendingConfChange) {
    super('PROPOSAL_DROPPED', `proposal dropped: ${detail}`)
  }
}

/** The requested log index has been compacted away; a snapshot must serve it. */
export class CompactedError extends RaftError {
  constructor(message = 'requested index is unavailable due to compaction') {
    super('COMPACTED', message)
  }
}

/** The storage cannot answer right now (entries or a snapshot not yet loaded); retry later. */
export class UnavailableError extends RaftError {
  constructor(message = 'requested entries or snapshot are temporarily unavailable') {
    super('UNAVAILABLE', message)
  }
}

/** A snapshot older than the one the storage already holds was offered. */
export class SnapshotOutOfDateError extends RaftError {
  constructor(message = 'requested snapshot is out of date') {
    super('SNAPSHOT_OUT_OF_DATE', message)
  }
}

/** A configuration change was refused; the message names the rule it would break. */
export class ConfChangeError extends RaftError {
  constructor(message: string) {
    super('CONF_CHANGE', message)
  }
}

/** A local-only message type (MsgHup, MsgBeat, ...) was passed to step(). */
export class StepLocalMsgError extends RaftError {
  constructor(message = 'raft: cannot step raft local message') {
    super('STEP_LOCAL_MSG', message)
  }
}

/** A response message came from a peer that is not in the progress tracker. */
export class StepPeerNotFoundError extends RaftError {
  constructor(message = 'raft: cannot step as peer not found') {
    super('STEP_PEER_NOT_FOUND', message)
  }
}

/** The Config passed to RawNode is invalid; the message names the field. */
export class ConfigInvalidError extends RaftError {
  constructor(message: string) {
    super('CONFIG_INVALID', message)
  }
}

/** The application broke the RawNode contract (e.g. stepped while a Ready was outstanding). */
export class RawNodeMisuseError extends RaftError {
  constructor(message: string) {
    super('RAWNODE_MISUSE', message)
  }
}

/**
 * An internal invariant of the core was broken (etcd-raft panics in these places): a bug or
 * corrupted input such as a storage that lost committed entries. Never swallowed by the core;
 * the application should stop the node.
 */
export class RaftInvariantError extends RaftError {
  constructor(message: string) {
    super('INVARIANT_VIOLATED', `raft: ${message}`)
  }
}

/** A value passed into the core (a message field, an id) is not valid; the message names it. */
export class InvalidInputError extends RaftError {
  constructor(message: string) {
    super('INVALID_INPUT', message)
  }
}
