/**
 * Plain, readonly TypeScript shapes of the Raft wire types used inside the core. They mirror
 * eraftpb (proto/eraftpb.proto, raft-rs names) field for field, but use `number` for every id,
 * term and index (always a safe integer: src/raftpb checks that where bytes enter) and
 * `Uint8Array` for opaque payloads. Conversion to and from the generated wire types happens only
 * at the edges, in src/raftpb.
 */

/** The kind of payload an entry carries; values equal eraftpb.EntryType. */
export enum EntryType {
  EntryNormal = 0,
  EntryConfChange = 1,
  EntryConfChangeV2 = 2,
}

/** A log entry. Invariant: index >= 1 and term >= 1 for every entry stored in a log. */
export interface Entry {
  readonly entryType: EntryType
  readonly term: number
  readonly index: number
  readonly data: Uint8Array
  readonly context: Uint8Array
}

/** Message types with raft-rs's names; values equal eraftpb.MessageType. */
export enum MessageType {
  MsgHup = 0,
  MsgBeat = 1,
  MsgPropose = 2,
  MsgAppend = 3,
  MsgAppendResponse = 4,
  MsgRequestVote = 5,
  MsgRequestVoteResponse = 6,
  MsgSnapshot = 7,
  MsgHeartbeat = 8,
  MsgHeartbeatResponse = 9,
  MsgUnreachable = 10,
  MsgSnapStatus = 11,
  MsgCheckQuorum = 12,
  MsgTransferLeader = 13,
  MsgTimeoutNow = 14,
  MsgReadIndex = 15,
  MsgReadIndexResp = 16,
  MsgRequestPreVote = 17,
  MsgRequestPreVoteResponse = 18,
}

/**
 * The membership of a group as stored in the log and in snapshots. Invariants (checked by
 * confchange): learners ∩ voters = ∅ and learners ∩ votersOutgoing = ∅; learnersNext ⊆
 * votersOutgoing; autoLeave implies votersOutgoing is non-empty. Ids are kept sorted ascending.
 */
export interface ConfState {
  readonly voters: readonly number[]
  readonly learners: readonly number[]
  readonly votersOutgoing: readonly number[]
  readonly learnersNext: readonly number[]
  readonly autoLeave: boolean
}

/** What a snapshot covers: the state machine up to and including `index` (of term `term`). */
export interface SnapshotMetadata {
  readonly confState: ConfState
  readonly index: number
  readonly term: number
}

/** A snapshot as carried by MsgSnapshot and returned by Storage.snapshot(). */
export interface Snapshot {
  readonly data: Uint8Array
  readonly metadata: SnapshotMetadata
}

/**
 * A Raft message. Fields not used by a message type are zero / empty, exactly as on the wire.
 * `snapshot` is present only on MsgSnapshot.
 */
export interface Message {
  readonly msgType: MessageType
  readonly to: number
  readonly from: number
  readonly term: number
  readonly logTerm: number
  readonly index: number
  readonly entries: readonly Entry[]
  readonly commit: number
  readonly commitTerm: number
  readonly snapshot?: Snapshot
  readonly requestSnapshot: number
  readonly reject: boolean
  readonly rejectHint: number
  readonly context: Uint8Array
  readonly priority: number
}

/** The state that must be persisted before messages are sent (Raft paper Figure 2). */
export interface HardState {
  readonly term: number
  readonly vote: number
  readonly commit: number
}

/** Change kinds; values equal eraftpb.ConfChangeType. UpdateNode changes no membership. */
export enum ConfChangeType {
  AddNode = 0,
  RemoveNode = 1,
  AddLearnerNode = 2,
  UpdateNode = 3,
}

/** How a ConfChangeV2 moves through joint consensus; values equal eraftpb.ConfChangeTransition. */
export enum ConfChangeTransition {
  /** Use the simple protocol when possible, otherwise joint consensus with automatic leave. */
  Auto = 0,
  /** Always joint consensus, left automatically by an empty ConfChangeV2 the leader proposes. */
  Implicit = 1,
  /** Always joint consensus, left only when the application proposes an empty ConfChangeV2. */
  Explicit = 2,
}

/** One membership operation of a ConfChangeV2. */
export interface ConfChangeSingle {
  readonly type: ConfChangeType
  readonly nodeId: number
}

/** A V1 conf change: exactly one operation, always applied with the simple protocol. */
export interface ConfChange {
  readonly kind: 'v1'
  readonly id: number
  readonly type: ConfChangeType
  readonly nodeId: number
  readonly context: Uint8Array
}

/** A V2 conf change. An empty `changes` list leaves a joint configuration. */
export interface ConfChangeV2 {
  readonly kind: 'v2'
  readonly transition: ConfChangeTransition
  readonly changes: readonly ConfChangeSingle[]
  readonly context: Uint8Array
}

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0)

/** An empty ConfState: no voters, no learners. */
export const EMPTY_CONF_STATE: ConfState = Object.freeze({
  voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false,
})

/** The zero HardState of a node that has never voted or seen a term. */
export const EMPTY_HARD_STATE: HardState = Object.freeze({term: 0, vote: 0, commit: 0})

/** Builds a message with every field zero/empty except those given. */
export function newMessage(fields: Partial<Message> & Pick<Message, 'msgType'>): Message {
  return {
    to: 0, from: 0, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, commitTerm: 0,
    requestSnapshot: 0, reject: false, rejectHint: 0, context: EMPTY_BYTES, priority: 0,
    ...fields,
  }
}

/** Builds an entry; data and context default to empty and entryType to EntryNormal. */
export function newEntry(fields: Partial<Entry> & Pick<Entry, 'term' | 'index'>): Entry {
  return {entryType: EntryType.EntryNormal, data: EMPTY_BYTES, context: EMPTY_BYTES, ...fields}
}
