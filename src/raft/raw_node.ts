/**
 * RawNode: the application-facing handle of a Raft node, with etcd-io/raft's Ready semantics in
 * synchronous-storage mode (and raft-rs's contract). The application owns the loop:
 *
 *   1. Feed inputs: tick(), step(msg), propose(), proposeConfChange(), campaign(), ...
 *   2. If hasReady(), take rd = ready(). Persist rd.snapshot, rd.entries and rd.hardState (sync
 *      to disk when rd.mustSync); then send rd.messages; apply rd.committedEntries (calling
 *      applyConfChange for conf-change entries, decoded with decodeConfChange); serve
 *      rd.readStates once applied up to their index.
 *   3. Call advance(rd).
 *
 * Between ready() and advance() no input may be given ("Before that, DO NOT call any function
 * like step, propose, campaign"): such calls throw RawNodeMisuseError. hasReady(), status() and
 * applyConfChange() are allowed.
 */
import {type AnyConfChange, confChangeEntryType, encodeConfChange} from './conf_change.js'
import type {Config} from './config.js'
import {InvalidInputError, RawNodeMisuseError, StepLocalMsgError, StepPeerNotFoundError} from './errors.js'
import {newRaft} from './new_raft.js'
import type {Raft} from './raft.js'
import {applyConfChange} from './raft_apply_conf.js'
import type {ReadState} from './read_only.js'
import {type SoftState, SnapshotStatus} from './role.js'
import {getStatus, type Status} from './status.js'
import type {Storage} from './storage.js'
import {
  type ConfState, EMPTY_BYTES, type Entry, type HardState, type Message, MessageType, newEntry,
  newMessage, type Snapshot,
} from './types.js'
import {hardStateEqual, isEmptyHardState, isLocalMsg, isResponseMsg} from './util.js'

/**
 * One batch of work for the application. Everything in it must be handled (in the order given
 * in the RawNode docs) before advance(rd) is called.
 */
export interface Ready {
  /** The new soft state, when it changed since the last Ready. Need not be persisted. */
  readonly softState?: SoftState
  /** The new hard state, when it changed; persist it before sending messages. */
  readonly hardState?: HardState
  /** Entries to append to stable storage before sending messages. */
  readonly entries: readonly Entry[]
  /** A snapshot to persist and apply to the state machine, if any. */
  readonly snapshot?: Snapshot
  /** Committed entries to apply to the state machine (they may also be in `entries`). */
  readonly committedEntries: readonly Entry[]
  /** Messages to send once entries, hard state and snapshot are persisted. */
  readonly messages: readonly Message[]
  /** Confirmed ReadIndex requests; serve each once applied index >= its index. */
  readonly readStates: readonly ReadState[]
  /** Whether the hard state and entries must be synced to disk before sending messages. */
  readonly mustSync: boolean
}

/** What advance() does for the outstanding Ready. */
interface PendingAdvance {
  readonly rd: Ready
  readonly selfMsgs: readonly Message[]
  readonly persistIndex: number
  readonly persistTerm: number
  readonly snapshotIndex: number
}

const INPUT_FIELDS = ['to', 'from', 'term', 'logTerm', 'index', 'commit', 'commitTerm', 'rejectHint'] as const

export class RawNode {
  /**
   * The state machine. Internal: exposed for the core's tests and the interaction harness only;
   * an application uses the methods of this class (status(), lastIndex(), ...).
   */
  readonly raft: Raft
  private prevSoftState: SoftState
  private prevHardState: HardState
  private pending: PendingAdvance | undefined = undefined

  /** Creates a node from a config and its storage. Throws ConfigInvalidError for a bad config. */
  constructor(config: Config, storage: Storage) {
    this.raft = newRaft(config, storage)
    this.prevSoftState = this.raft.softState()
    this.prevHardState = this.raft.hardState()
  }

  /** Advances the logical clock by one tick (elections, heartbeats, check-quorum). */
  tick(): void {
    this.assertNoReady('tick')
    this.raft.tick()
  }

  /** Makes this node campaign (or pre-campaign) now; ignored by leaders and learners. */
  campaign(): void {
    this.assertNoReady('campaign')
    this.raft.step(newMessage({msgType: MessageType.MsgHup, from: this.raft.id}))
  }

  /**
   * Proposes data (and an optional context) to be appended to the log. Throws
   * ProposalDroppedError when it cannot be (no leader, transfer in progress, the leader leaving
   * the voters — 'leader-stepping-down' —, too many uncommitted bytes). A follower forwards it to
   * the leader, which may still drop it.
   */
  propose(data: Uint8Array, context: Uint8Array = EMPTY_BYTES): void {
    this.assertNoReady('propose')
    checkBytes('propose data', data)
    checkBytes('propose context', context)
    const entry = newEntry({term: 0, index: 0, data, context})
    this.raft.step(newMessage({msgType: MessageType.MsgPropose, from: this.raft.id, entries: [entry]}))
  }

  /**
   * Proposes a conf change (V1 or V2). Throws ProposalDroppedError('conf-change-refused') with
   * the reason when another conf change is pending, the joint config must be left first, there
   * is no joint config to leave, or the change is invalid for the current config.
   */
  proposeConfChange(cc: AnyConfChange): void {
    this.assertNoReady('proposeConfChange')
    const entry = newEntry({term: 0, index: 0, entryType: confChangeEntryType(cc), data: encodeConfChange(cc)})
    this.raft.step(newMessage({msgType: MessageType.MsgPropose, from: this.raft.id, entries: [entry]}))
  }

  /**
   * Steps a message received from a peer. Throws StepLocalMsgError for local-only message types
   * and StepPeerNotFoundError for a response from a peer not in the configuration. A forwarded
   * MsgPropose that the leader refuses throws ProposalDroppedError.
   */
  step(m: Message): void {
    this.assertNoReady('step')
    if (isLocalMsg(m.msgType)) throw new StepLocalMsgError()
    if (isResponseMsg(m.msgType) && !this.raft.trk.progress.has(m.from)) throw new StepPeerNotFoundError()
    for (const f of INPUT_FIELDS) {
      const v = m[f]
      if (!Number.isSafeInteger(v) || v < 0) throw new InvalidInputError(`message field ${f} ${String(v)} is not an integer in 0..2^53-1`)
    }
    this.raft.step(m)
  }

  /** Whether a Ready is available. Allowed at any time. */
  hasReady(): boolean {
    const r = this.raft
    const ss = r.softState()
    if (ss.leaderId !== this.prevSoftState.leaderId || ss.role !== this.prevSoftState.role) return true
    const hs = r.hardState()
    if (!isEmptyHardState(hs) && !hardStateEqual(hs, this.prevHardState)) return true
    if (r.raftLog.hasNextUnstableSnapshot()) return true
    if (r.msgs.length > 0 || r.msgsAfterAppend.length > 0) return true
    if (r.raftLog.hasNextUnstableEnts() || r.raftLog.hasNextCommittedEnts(true)) return true
    return r.readStates.length > 0
  }

  /**
   * Returns the next Ready and marks its contents as handed out. Throws RawNodeMisuseError if
   * the previous Ready has not been advanced.
   */
  ready(): Ready {
    this.assertNoReady('ready')
    const r = this.raft
    const rd = this.readyWithoutAccept()
    const last = r.raftLog.hasNextOrInProgressUnstableEnts() ? r.raftLog.lastIndex() : 0
    this.pending = {
      rd,
      selfMsgs: r.msgsAfterAppend.filter((m) => m.to === r.id),
      persistIndex: last,
      persistTerm: last === 0 ? 0 : r.raftLog.term(last),
      snapshotIndex: rd.snapshot?.metadata.index ?? 0,
    }
    if (rd.softState) this.prevSoftState = rd.softState
    if (rd.hardState) this.prevHardState = rd.hardState
    r.readStates = []
    r.msgs = []
    r.msgsAfterAppend = []
    r.raftLog.acceptUnstable()
    const ce = rd.committedEntries
    if (ce.length > 0) r.raftLog.acceptApplying(ce[ce.length - 1].index)
    return rd
  }

  private readyWithoutAccept(): Ready {
    const r = this.raft
    const ss = r.softState()
    const hs = r.hardState()
    const entries = r.raftLog.nextUnstableEnts()
    const softChanged = ss.leaderId !== this.prevSoftState.leaderId || ss.role !== this.prevSoftState.role
    const hardChanged = !hardStateEqual(hs, this.prevHardState)
    const snapshot = r.raftLog.nextUnstableSnapshot()
    return {
      ...(softChanged ? {softState: ss} : {}),
      ...(hardChanged ? {hardState: hs} : {}),
      entries,
      ...(snapshot ? {snapshot} : {}),
      committedEntries: r.raftLog.nextCommittedEnts(true),
      messages: r.msgs.concat(r.msgsAfterAppend.filter((m) => m.to !== r.id)),
      readStates: r.readStates,
      mustSync: entries.length > 0 || hs.vote !== this.prevHardState.vote || hs.term !== this.prevHardState.term,
    }
  }

  /**
   * Tells the node that the application has persisted and applied the Ready returned by the
   * last ready(). The node then counts its own persisted entries and vote, marks the log stable
   * and the committed entries applied (which may propose the auto-leave of a joint config).
   */
  advance(rd: Ready): void {
    const p = this.pending
    if (p === undefined) throw new RawNodeMisuseError('advance() called without an outstanding Ready')
    if (rd !== p.rd) throw new RawNodeMisuseError('advance() must be given the Ready returned by the last ready()')
    this.pending = undefined
    const r = this.raft
    for (const m of p.selfMsgs) r.step(m)
    r.onPersisted(p.persistIndex, p.persistTerm, p.snapshotIndex)
    r.onApplied(rd.committedEntries)
  }

  /**
   * Applies a committed conf change and returns the new ConfState, which the application should
   * persist. Allowed while a Ready is outstanding (that is when committed entries are applied).
   * Throws ConfChangeError if the change is invalid for the current config.
   */
  applyConfChange(cc: AnyConfChange): ConfState {
    return applyConfChange(this.raft, cc)
  }

  /**
   * Requests a linearizable read (thesis §6.4). When confirmed, a ReadState with `ctx` and the
   * read index appears in a Ready. Silently dropped when there is no leader; retry then.
   */
  readIndex(ctx: Uint8Array): void {
    this.assertNoReady('readIndex')
    checkBytes('readIndex context', ctx)
    const entry = newEntry({term: 0, index: 0, data: ctx})
    this.raft.step(newMessage({msgType: MessageType.MsgReadIndex, entries: [entry]}))
  }

  /** Asks the leader to transfer leadership to `transferee` (thesis §3.10). */
  transferLeader(transferee: number): void {
    this.assertNoReady('transferLeader')
    this.checkId('transferee', transferee)
    this.raft.step(newMessage({msgType: MessageType.MsgTransferLeader, from: transferee}))
  }

  /** Reports that the last message to `id` could not be delivered (Replicate -> Probe). */
  reportUnreachable(id: number): void {
    this.assertNoReady('reportUnreachable')
    this.checkId('id', id)
    this.raft.step(newMessage({msgType: MessageType.MsgUnreachable, from: id}))
  }

  /** Reports whether sending a snapshot to `id` succeeded. */
  reportSnapshot(id: number, status: SnapshotStatus): void {
    this.assertNoReady('reportSnapshot')
    this.checkId('id', id)
    if (status !== SnapshotStatus.Finish && status !== SnapshotStatus.Failure) {
      throw new InvalidInputError(`snapshot status ${String(status)} is neither ${SnapshotStatus.Finish} nor ${SnapshotStatus.Failure}`)
    }
    const reject = status === SnapshotStatus.Failure
    this.raft.step(newMessage({msgType: MessageType.MsgSnapStatus, from: id, reject}))
  }

  /**
   * The index of the last entry in this node's log, persisted or not. On the leader, right after
   * propose() or proposeConfChange() returned, it is the index the proposed entry got (the leader
   * appends its own proposals at once). Allowed at any time.
   */
  lastIndex(): number {
    return this.raft.raftLog.lastIndex()
  }

  /** A snapshot of the node's state. Allowed at any time. */
  status(): Status {
    return getStatus(this.raft)
  }

  private assertNoReady(what: string): void {
    if (this.pending !== undefined) {
      throw new RawNodeMisuseError(`${what}() called between ready() and advance(): ` +
        'handle the Ready and call advance() first. Before that, DO NOT call any function like step, propose, campaign')
    }
  }

  private checkId(what: string, id: number): void {
    if (!Number.isSafeInteger(id) || id <= 0) throw new InvalidInputError(`${what} ${String(id)} is not a node id (a safe integer > 0)`)
  }
}

/** Payloads given by the application must be byte arrays (a string would corrupt the log). */
function checkBytes(what: string, b: unknown): void {
  if (!(b instanceof Uint8Array)) throw new InvalidInputError(`${what} must be a Uint8Array, got ${b === null ? 'null' : typeof b}`)
}
