/**
 * Typed errors. CodedError is the base of every error raftctl throws on purpose, in every layer
 * (it lives here, at the bottom of the dependency order, so that every layer may import it; the
 * core needs nothing else of it): a stable `code` that callers map — the server to a gRPC status,
 * the CLI to the `code` of its --json error — and tests match; a one-sentence message saying what
 * was refused and why; the class name as `name`. A class whose code is fixed is declared with
 * withCode, so no class repeats the constructor:
 *
 *   export class DeadlineError extends withCode(CodedError, 'DEADLINE_EXCEEDED') {}
 *
 * The core's own errors derive from RaftError, each with its code below.
 */

/** The base class of every error with a stable code (see the module comment). */
export class CodedError<C extends string | number = string> extends Error {
  constructor(readonly code: C, message: string) {
    super(message)
    this.name = new.target.name
  }
}

type CodedCtor<E extends CodedError<string>> = new (code: string, message: string) => E

/**
 * Returns a subclass of `Base` whose errors all have the code `code`; its constructor takes the
 * message only (optional when `defaultMessage` is given). Extend it to name the class.
 */
export function withCode<E extends CodedError<string>, C extends string>(Base: CodedCtor<E>, code: C):
  new (message: string) => E & {readonly code: C}
export function withCode<E extends CodedError<string>, C extends string>(Base: CodedCtor<E>, code: C, defaultMessage: string):
  new (message?: string) => E & {readonly code: C}
export function withCode<E extends CodedError<string>, C extends string>(Base: CodedCtor<E>, code: C, defaultMessage?: string):
  new (message?: string) => E & {readonly code: C} {
  const Coded = class extends (Base as CodedCtor<CodedError<string>>) {
    constructor(message: string | undefined = defaultMessage) {
      super(code, message ?? '')
    }
  }
  return Coded as unknown as new (message?: string) => E & {readonly code: C}
}

/** Base class of every error the core throws on purpose. */
export class RaftError extends CodedError {}

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
export class CompactedError extends withCode(RaftError, 'COMPACTED', 'requested index is unavailable due to compaction') {}

/** The storage cannot answer right now (entries or a snapshot not yet loaded); retry later. */
export class UnavailableError extends withCode(RaftError, 'UNAVAILABLE', 'requested entries or snapshot are temporarily unavailable') {}

/** A snapshot older than the one the storage already holds was offered. */
export class SnapshotOutOfDateError extends withCode(RaftError, 'SNAPSHOT_OUT_OF_DATE', 'requested snapshot is out of date') {}

/** A configuration change was refused; the message names the rule it would break. */
export class ConfChangeError extends withCode(RaftError, 'CONF_CHANGE') {}

/** A local-only message type (MsgHup, MsgBeat, ...) was passed to step(). */
export class StepLocalMsgError extends withCode(RaftError, 'STEP_LOCAL_MSG', 'raft: cannot step raft local message') {}

/** A response message came from a peer that is not in the progress tracker. */
export class StepPeerNotFoundError extends withCode(RaftError, 'STEP_PEER_NOT_FOUND', 'raft: cannot step as peer not found') {}

/** The Config passed to RawNode is invalid; the message names the field. */
export class ConfigInvalidError extends withCode(RaftError, 'CONFIG_INVALID') {}

/** The application broke the RawNode contract (e.g. stepped while a Ready was outstanding). */
export class RawNodeMisuseError extends withCode(RaftError, 'RAWNODE_MISUSE') {}

/**
 * An internal invariant of the core was broken (etcd-raft panics in these places): a bug or
 * corrupted input such as a storage that lost committed entries. Never swallowed by the core;
 * the application should stop the node. The message starts with "raft: ".
 */
export class RaftInvariantError extends withCode(RaftError, 'INVARIANT_VIOLATED') {
  constructor(message: string) {
    super(`raft: ${message}`)
  }
}

/** A value passed into the core (a message field, an id) is not valid; the message names it. */
export class InvalidInputError extends withCode(RaftError, 'INVALID_INPUT') {}
