/**
 * The state of a Raft node and the replication primitives every role builds on: sending
 * messages, appending to the leader's log, committing, and sending appends, snapshots and
 * heartbeats to followers. Role transitions, ticking and message dispatch live in raft.ts
 * (class Raft extends RaftCore); the role step functions in step_*.ts. A port of etcd-io/raft
 * v3.6 raft.go, split by concern.
 */
import type {ResolvedConfig} from './config.js'
import {CompactedError, ConfigInvalidError, UnavailableError} from './errors.js'
import {RaftLog} from './raft_log.js'
import {type ReadState, ReadOnly} from './read_only.js'
import {StateRole} from './role.js'
import type {Storage} from './storage.js'
import {Progress, ProgressState, ProgressTracker} from './tracker/index.js'
import {EMPTY_BYTES, type Entry, type HardState, type Message, MessageType, newEntry} from './types.js'
import {NONE, panic, payloadsSize} from './util.js'

/** The fields of a message to send; `from` defaults to the local id and `term` to the rules of send(). */
export type OutgoingMessage = Partial<Message> & Pick<Message, 'msgType' | 'to'>

export class RaftCore {
  /** The local node id. */
  readonly id: number
  /** The current term (persisted in HardState). */
  term = 0
  /** The node voted for in the current term, or NONE (persisted in HardState). */
  vote = NONE
  /** Read states ready to be handed out in the next Ready. */
  readStates: ReadState[] = []
  /** The log. */
  readonly raftLog: RaftLog
  /** The maximum bytes of entries in one MsgAppend (0: one entry per message). */
  readonly maxMsgSize: number
  /** The maximum uncommitted payload bytes of the leader (Infinity: no limit). */
  readonly maxUncommittedSize: number
  /** The membership and the replication progress of every peer. */
  trk: ProgressTracker
  /** The role of this node. */
  state: StateRole = StateRole.Follower
  /** Whether this node is a learner in the current config. */
  isLearner = false
  /**
   * Messages to send that need no persistence of this node's state first. Never self-addressed.
   */
  msgs: Message[] = []
  /**
   * Messages that may only be sent (or, when self-addressed, stepped) after the entries and
   * hard state of the current Ready are persisted: responses to appends and votes, and the
   * leader's own acknowledgement of its appended entries (etcd msgsAfterAppend).
   */
  msgsAfterAppend: Message[] = []
  /** The leader this node knows of, or NONE. */
  lead = NONE
  /** The id of the leadership transfer target when one is in progress, else NONE. */
  leadTransferee = NONE
  /**
   * Only one conf change may be pending (in the log, not yet applied) at a time: this is the
   * log index of the latest pending conf change, or of the leader's last entry when it took
   * office. A new conf change may be proposed only when applied >= pendingConfIndex.
   */
  pendingConfIndex = 0
  /**
   * The index of a pending conf change (appended by this leader, not yet applied) that takes
   * this leader out of the voters and so makes it step down when applied (see
   * leavesVoters in raft_apply_conf.ts); 0 when there is none. While it is pending the leader
   * refuses proposals ('leader-stepping-down'), so that when it applies the change, the voters
   * that acknowledged the change hold its whole log and one of them can take over at once.
   */
  stepDownIndex = 0
  /**
   * True while a leader that has applied a conf change taking it out of the voters still leads,
   * only to catch up its handover target (leadTransferee) before sending it MsgTimeoutNow. It
   * then steps down at once, or after an election timeout whatever happened (Raft.tickHeartbeat).
   * Proposals are refused meanwhile ('leader-stepping-down').
   */
  handingOver = false
  /**
   * True when this follower received MsgTimeoutNow while it had a committed conf change not yet
   * applied (it must not campaign then; Raft.hup): it campaigns as soon as it has applied it
   * (Raft.onApplied). This happens whenever a leader that left the voters hands over, since its
   * MsgTimeoutNow follows the append that commits the change. Cleared by any role or term change.
   */
  pendingTimeoutNow = false
  /** An estimate of the payload bytes of the uncommitted tail of the leader's log. */
  uncommittedSize = 0
  /** Pending ReadIndex requests of the leader. */
  readOnly: ReadOnly
  /**
   * Ticks since the last election timeout reset (leader: since it became leader or last checked
   * quorum; others: since they last heard from a valid leader or voted).
   */
  electionElapsed = 0
  /** Ticks since the leader last sent heartbeats. */
  heartbeatElapsed = 0
  /** Whether the leader steps down without a quorum and voters honour the leader lease. */
  readonly checkQuorum: boolean
  /** Whether elections start with a pre-vote round (thesis §9.6). */
  readonly preVote: boolean
  /** Ticks between heartbeats (config.heartbeatTick). */
  readonly heartbeatTimeout: number
  /** The base election timeout in ticks (config.electionTick). */
  readonly electionTimeout: number
  /** A random number in [electionTimeout, 2*electionTimeout), reset on every role change. */
  randomizedElectionTimeout = 0
  /**
   * MsgReadIndex requests received by a leader before it committed an entry of its term; they
   * are answered once it has (etcd pendingReadIndexMessages).
   */
  pendingReadIndexMessages: Message[] = []
  /** Whether a leader removed from the config or demoted to learner steps down. */
  readonly stepDownOnRemoval: boolean
  private readonly random: (n: number) => number

  constructor(c: ResolvedConfig, storage: Storage) {
    this.id = c.id
    this.raftLog = new RaftLog(storage, c.maxCommittedSizePerReady === 0 ? Number.POSITIVE_INFINITY : c.maxCommittedSizePerReady)
    this.maxMsgSize = c.maxSizePerMsg
    this.maxUncommittedSize = c.maxUncommittedSize === 0 ? Number.POSITIVE_INFINITY : c.maxUncommittedSize
    this.trk = new ProgressTracker(c.maxInflightMsgs, c.maxInflightBytes)
    this.electionTimeout = c.electionTick
    this.heartbeatTimeout = c.heartbeatTick
    this.checkQuorum = c.checkQuorum
    this.preVote = c.preVote
    this.readOnly = new ReadOnly(c.readOnlyOption)
    this.stepDownOnRemoval = c.stepDownOnRemoval
    this.random = c.random
  }

  /** The volatile state reported in Ready.softState. */
  softState(): {leaderId: number; role: StateRole} {
    return {leaderId: this.lead, role: this.state}
  }

  /** The state that must be persisted (Raft paper Figure 2). */
  hardState(): HardState {
    return {term: this.term, vote: this.vote, commit: this.raftLog.committed}
  }

  /**
   * Queues a message. Vote messages and their responses carry an explicit term; every other
   * message gets the current term, except MsgPropose and MsgReadIndex, which are forwarded to the
   * leader as local messages (term 0). Responses to appends and votes wait for persistence.
   */
  send(fields: OutgoingMessage): void {
    const t = fields.msgType
    const isVote = t === MessageType.MsgRequestVote || t === MessageType.MsgRequestVoteResponse ||
      t === MessageType.MsgRequestPreVote || t === MessageType.MsgRequestPreVoteResponse
    let term = fields.term ?? 0
    if (isVote) {
      if (term === 0) panic(`term should be set when sending ${MessageType[t]}`)
    } else {
      if (term !== 0) panic(`term should not be set when sending ${MessageType[t]} (was ${term})`)
      if (t !== MessageType.MsgPropose && t !== MessageType.MsgReadIndex) term = this.term
    }
    const m = buildMessage(fields, fields.from || this.id, term)
    if (t === MessageType.MsgAppendResponse || t === MessageType.MsgRequestVoteResponse ||
        t === MessageType.MsgRequestPreVoteResponse) {
      this.msgsAfterAppend.push(m)
    } else {
      if (m.to === this.id) panic(`message should not be self-addressed when sending ${MessageType[t]}`)
      this.msgs.push(m)
    }
  }

  /** Resets the randomized election timeout to a value in [electionTimeout, 2*electionTimeout). */
  resetRandomizedElectionTimeout(): void {
    const n = this.random(this.electionTimeout)
    if (!Number.isSafeInteger(n) || n < 0 || n >= this.electionTimeout) {
      throw new ConfigInvalidError(`config.random(${this.electionTimeout}) returned ${n}, not an integer in [0, ${this.electionTimeout})`)
    }
    this.randomizedElectionTimeout = this.electionTimeout + n
  }

  /** Whether the election timeout (randomized) has elapsed. */
  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout
  }

  /** Aborts a leadership transfer in progress. */
  abortLeaderTransfer(): void {
    this.leadTransferee = NONE
  }

  /** Whether this node may campaign: it is a voter and has no pending snapshot. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id)
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasNextOrInProgressSnapshot()
  }

  /**
   * Resets the volatile state for a new term (or a new role in the same term): forgets the
   * leader, the votes and any transfer, and restarts every peer's progress from the end of the
   * log (Raft paper Figure 2: nextIndex initialized to leader last log index + 1).
   */
  reset(term: number): void {
    if (this.term !== term) {
      this.term = term
      this.vote = NONE
    }
    this.lead = NONE
    this.electionElapsed = 0
    this.heartbeatElapsed = 0
    this.resetRandomizedElectionTimeout()
    this.abortLeaderTransfer()
    this.trk.resetVotes()
    const last = this.raftLog.lastIndex()
    for (const [id, pr] of this.trk.progress) {
      const np = this.newProgress(last + 1, id === this.id ? last : 0, pr.isLearner)
      np.recentActive = false
      this.trk.progress.set(id, np)
    }
    this.pendingConfIndex = 0
    this.stepDownIndex = 0
    this.handingOver = false
    this.pendingTimeoutNow = false
    this.uncommittedSize = 0
    this.readOnly = new ReadOnly(this.readOnly.option)
  }

  private newProgress(next: number, match: number, isLearner: boolean): Progress {
    return new Progress({
      next, match, isLearner, maxInflight: this.trk.maxInflight, maxInflightBytes: this.trk.maxInflightBytes,
    })
  }

  /**
   * Appends entries proposed to the leader's log, assigning term and index, and queues the
   * leader's self-acknowledgement to be stepped once they are persisted. Returns false (and
   * appends nothing) when the uncommitted size limit refuses them.
   */
  appendEntry(es: readonly Entry[]): boolean {
    let li = this.raftLog.lastIndex()
    const ents = es.map((e, i) => newEntry({...e, term: this.term, index: li + 1 + i}))
    if (!this.increaseUncommittedSize(ents)) return false
    li = this.raftLog.append(ents)
    // The leader does not send MsgAppend to itself; this self-addressed response is stepped
    // after the entries are persisted (RawNode.advance), counting the leader's own copy.
    this.send({to: this.id, msgType: MessageType.MsgAppendResponse, index: li})
    return true
  }

  /**
   * Accounts proposed entries against maxUncommittedSize. Any proposal is accepted when the
   * uncommitted tail is empty, and empty entries always are (a new leader's entry, auto-leave).
   */
  increaseUncommittedSize(ents: readonly Entry[]): boolean {
    const s = payloadsSize(ents)
    if (this.uncommittedSize > 0 && s > 0 && this.uncommittedSize + s > this.maxUncommittedSize) return false
    this.uncommittedSize += s
    return true
  }

  /** Releases applied entries from the uncommitted size (saturating at 0). */
  reduceUncommittedSize(s: number): void {
    this.uncommittedSize = s > this.uncommittedSize ? 0 : this.uncommittedSize - s
  }

  /**
   * Advances the commit index to the largest index replicated on a quorum (majority or joint),
   * if that entry is of the current term (Raft paper §5.4.2). Returns whether it advanced.
   */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.trk.committed(), this.term)
  }

  /** Sends an append (possibly empty) to `to` unless its progress is paused. */
  sendAppend(to: number): void {
    this.maybeSendAppend(to, true)
  }

  /**
   * Sends a MsgAppend with the entries `to` lacks (at most maxSizePerMsg bytes) and the commit
   * index, or a MsgSnapshot when those entries are compacted. Returns whether a message was sent:
   * not when the progress is paused, when there is nothing to send and !sendIfEmpty, or when the
   * storage is temporarily unavailable (retried on a later heartbeat or append response).
   */
  maybeSendAppend(to: number, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to)
    if (pr === undefined || pr.isPaused()) return false
    const prevIndex = pr.next - 1
    let prevTerm: number
    let ents: Entry[] = []
    try {
      prevTerm = this.raftLog.term(prevIndex)
      // In a throttled Replicate state only send empty appends, to ensure progress.
      if (pr.state !== ProgressState.Replicate || !pr.inflights.full()) {
        ents = this.raftLog.entries(pr.next, this.maxMsgSize)
      }
    } catch (err) {
      if (err instanceof CompactedError) return this.maybeSendSnapshot(to, pr)
      if (err instanceof UnavailableError) return false
      throw err
    }
    if (ents.length === 0 && !sendIfEmpty) return false
    const commit = this.raftLog.committed
    this.send({to, msgType: MessageType.MsgAppend, index: prevIndex, logTerm: prevTerm, entries: ents, commit})
    pr.sentEntries(ents.length, payloadsSize(ents))
    pr.updateSentCommit(commit)
    return true
  }

  /**
   * Sends the latest snapshot to `to` (which needs compacted entries) and moves it to Snapshot
   * state. Skipped when the peer is not recently active or the storage has no snapshot ready.
   */
  maybeSendSnapshot(to: number, pr: Progress): boolean {
    if (!pr.recentActive) return false
    let snapshot
    try {
      snapshot = this.raftLog.snapshot(0, to)
    } catch (err) {
      if (err instanceof UnavailableError) return false
      throw err
    }
    if (snapshot.metadata.index === 0) panic('need non-empty snapshot')
    pr.becomeSnapshot(snapshot.metadata.index)
    this.send({to, msgType: MessageType.MsgSnapshot, snapshot})
    return true
  }

  /** Sends appends to every peer but the leader itself (ids ascending). */
  bcastAppend(): void {
    this.trk.visit((id) => {
      if (id !== this.id) this.sendAppend(id)
    })
  }

  /**
   * Sends a heartbeat carrying min(match, committed): the follower must not commit beyond what
   * it is known to hold.
   */
  sendHeartbeat(to: number, ctx: Uint8Array | undefined): void {
    const pr = this.trk.progress.get(to)
    if (pr === undefined) return
    const commit = Math.min(pr.match, this.raftLog.committed)
    this.send({to, msgType: MessageType.MsgHeartbeat, commit, ...(ctx ? {context: ctx} : {})})
    pr.updateSentCommit(commit)
  }

  /** Sends heartbeats to every peer, carrying the context of the last pending read request. */
  bcastHeartbeat(): void {
    this.bcastHeartbeatWithCtx(this.readOnly.lastPendingRequestCtx())
  }

  bcastHeartbeatWithCtx(ctx: Uint8Array | undefined): void {
    this.trk.visit((id) => {
      if (id !== this.id) this.sendHeartbeat(id, ctx)
    })
  }

  /** Sends MsgTimeoutNow: the target campaigns at once (leadership transfer, thesis §3.10). */
  sendTimeoutNow(to: number): void {
    this.send({to, msgType: MessageType.MsgTimeoutNow})
  }

  /** Whether the leader has committed an entry of its current term (needed for reads, §6.4). */
  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrZero(this.raftLog.committed) === this.term
  }
}

/**
 * Builds a complete message from the given fields (zero/empty defaults), as newMessage does but
 * without object spreads: send() is the hottest function of the core.
 */
function buildMessage(f: OutgoingMessage, from: number, term: number): Message {
  const m: {-readonly [K in keyof Message]: Message[K]} = {
    msgType: f.msgType, to: f.to, from, term, logTerm: f.logTerm ?? 0, index: f.index ?? 0,
    entries: f.entries ?? NO_ENTRIES, commit: f.commit ?? 0, commitTerm: f.commitTerm ?? 0,
    requestSnapshot: f.requestSnapshot ?? 0, reject: f.reject ?? false, rejectHint: f.rejectHint ?? 0,
    context: f.context ?? EMPTY_BYTES, priority: f.priority ?? 0,
  }
  if (f.snapshot !== undefined) m.snapshot = f.snapshot
  return m
}

const NO_ENTRIES: readonly Entry[] = Object.freeze([])
