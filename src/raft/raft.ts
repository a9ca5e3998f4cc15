/**
 * The Raft state machine: role transitions, the logical clock, elections and the entry point
 * for every message (step). The replication primitives are in raft_core.ts, the per-role message
 * handling in step_leader.ts / step_candidate.ts / step_follower.ts (injected as RoleSteps so
 * that the modules form no import cycle), conf changes in raft_apply_conf.ts. A port of
 * etcd-io/raft v3.6 raft.go.
 */
import type {ResolvedConfig} from './config.js'
import {encodeConfChange, LEAVE_JOINT} from './conf_change.js'
import {ProposalDroppedError} from './errors.js'
import {RaftCore} from './raft_core.js'
import {StateRole} from './role.js'
import type {Storage} from './storage.js'
import type {VoteResult} from './quorum/index.js'
import {
  type Entry, EntryType, type HardState, type Message, MessageType, newEntry, newMessage,
} from './types.js'
import {bytesEqual, NONE, panic, payloadsSize, voteRespMsgType} from './util.js'

/** A role's message handler. It may throw ProposalDroppedError for a proposal it refuses. */
export type StepFn = (r: Raft, m: Message) => void

/** The step functions of the three roles (the pre-candidate shares the candidate's). */
export interface RoleSteps {
  readonly follower: StepFn
  readonly candidate: StepFn
  readonly leader: StepFn
}

/** The kinds of campaign (etcd CampaignType). */
export enum CampaignType {
  /** The first phase of a pre-vote election (thesis §9.6). */
  PreElection = 'CampaignPreElection',
  /** A normal election: increment the term and request votes. */
  Election = 'CampaignElection',
  /** A forced election after MsgTimeoutNow: voters ignore their leader lease. */
  Transfer = 'CampaignTransfer',
}

/** The context bytes of vote requests of a leadership-transfer campaign. */
export const CAMPAIGN_TRANSFER_CTX: Uint8Array = new TextEncoder().encode(CampaignType.Transfer)

export class Raft extends RaftCore {
  private stepFn: StepFn
  private readonly roleSteps: RoleSteps

  constructor(c: ResolvedConfig, storage: Storage, roleSteps: RoleSteps) {
    super(c, storage)
    this.roleSteps = roleSteps
    this.stepFn = roleSteps.follower
  }

  /** Restores term, vote and commit from a persisted HardState. */
  loadState(hs: HardState): void {
    if (hs.commit < this.raftLog.committed || hs.commit > this.raftLog.lastIndex()) {
      panic(`${this.id} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`)
    }
    this.raftLog.committed = hs.commit
    this.term = hs.term
    this.vote = hs.vote
  }

  becomeFollower(term: number, lead: number): void {
    this.stepFn = this.roleSteps.follower
    this.reset(term)
    this.lead = lead
    this.state = StateRole.Follower
  }

  becomeCandidate(): void {
    if (this.state === StateRole.Leader) panic('invalid transition [leader -> candidate]')
    this.stepFn = this.roleSteps.candidate
    this.reset(this.term + 1)
    this.vote = this.id
    this.state = StateRole.Candidate
  }

  /**
   * Becomes a pre-candidate (thesis §9.6): changes the step function and role but neither the
   * term nor the vote.
   */
  becomePreCandidate(): void {
    if (this.state === StateRole.Leader) panic('invalid transition [leader -> pre-candidate]')
    this.stepFn = this.roleSteps.candidate
    this.trk.resetVotes()
    this.lead = NONE
    this.state = StateRole.PreCandidate
  }

  /**
   * Becomes leader: every follower is probed from the end of the log, and an empty entry of the
   * new term is appended so that earlier entries can be committed (Raft paper §5.4.2, §8).
   * pendingConfIndex is set to the last index, so that no conf change is proposed before the
   * leader has applied everything it inherited — and so that an inherited joint config with
   * autoLeave is left once applied (DESIGN.md §2).
   */
  becomeLeader(): void {
    if (this.state === StateRole.Follower) panic('invalid transition [follower -> leader]')
    this.stepFn = this.roleSteps.leader
    this.reset(this.term)
    this.lead = this.id
    this.state = StateRole.Leader
    const pr = this.trk.progress.get(this.id)
    if (pr !== undefined) {
      // The leader is trivially in Replicate state and always recently active.
      pr.becomeReplicate()
      pr.recentActive = true
    }
    this.pendingConfIndex = this.raftLog.lastIndex()
    if (!this.appendEntry([newEntry({term: 0, index: 0})])) panic('empty entry was dropped')
  }

  /** Advances the logical clock by one tick. */
  tick(): void {
    if (this.state === StateRole.Leader) this.tickHeartbeat()
    else this.tickElection()
  }

  /** Followers and candidates campaign when the randomized election timeout elapses (§5.2). */
  private tickElection(): void {
    this.electionElapsed++
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0
      this.step(newMessage({msgType: MessageType.MsgHup, from: this.id}))
    }
  }

  /** The leader sends heartbeats every heartbeatTick and checks its quorum every electionTick. */
  private tickHeartbeat(): void {
    this.heartbeatElapsed++
    this.electionElapsed++
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0
      if (this.checkQuorum) this.step(newMessage({msgType: MessageType.MsgCheckQuorum, from: this.id}))
      // A leadership transfer that did not finish within an election timeout is aborted; a
      // leader that left the voters and could not catch up its handover target within that
      // time steps down without handing over (raft_apply_conf.ts stepDownIfRemoved).
      if (this.state === StateRole.Leader && this.handingOver) this.becomeFollower(this.term, NONE)
      else if (this.state === StateRole.Leader && this.leadTransferee !== NONE) this.abortLeaderTransfer()
    }
    if (this.state !== StateRole.Leader) return
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0
      this.step(newMessage({msgType: MessageType.MsgBeat, from: this.id}))
    }
  }

  /**
   * The entry point for every message: handles the term (Raft paper §5.1: a higher term makes
   * the node a follower; a lower term is ignored or answered), elections and votes, and
   * dispatches everything else to the role's step function.
   */
  step(m: Message): void {
    if (m.term !== 0 && m.term > this.term) {
      if (!this.stepHigherTerm(m)) return
    } else if (m.term !== 0 && m.term < this.term) {
      this.stepLowerTerm(m)
      return
    }
    switch (m.msgType) {
      case MessageType.MsgHup:
        this.hup(this.preVote ? CampaignType.PreElection : CampaignType.Election)
        return
      case MessageType.MsgRequestVote:
      case MessageType.MsgRequestPreVote:
        this.handleVoteRequest(m)
        return
      default:
        this.stepFn(this, m)
    }
  }

  /**
   * Handles a message of a higher term. Returns false when it must be dropped: a vote request
   * received within the leader lease (check-quorum, thesis §4.2.3), unless the campaign is a
   * forced leadership transfer.
   */
  private stepHigherTerm(m: Message): boolean {
    if (m.msgType === MessageType.MsgRequestVote || m.msgType === MessageType.MsgRequestPreVote) {
      const force = bytesEqual(m.context, CAMPAIGN_TRANSFER_CTX)
      const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout
      if (!force && inLease) return false
    }
    if (m.msgType === MessageType.MsgRequestPreVote) {
      // Never change our term in response to a pre-vote.
    } else if (m.msgType === MessageType.MsgRequestPreVoteResponse && !m.reject) {
      // Pre-votes are requested for a future term; the term is incremented when a quorum grants.
    } else if (m.msgType === MessageType.MsgAppend || m.msgType === MessageType.MsgHeartbeat ||
        m.msgType === MessageType.MsgSnapshot) {
      this.becomeFollower(m.term, m.from)
    } else {
      this.becomeFollower(m.term, NONE)
    }
    return true
  }

  /**
   * Handles a message of a lower term. With check-quorum or pre-vote, and always on a learner, a
   * stale leader's append or heartbeat is answered so that it learns the new term (otherwise a
   * node that advanced its term while partitioned could never rejoin; a learner never campaigns,
   * so it could not even bring the term up itself); a stale (pre-)vote request is rejected with
   * the current term so that the candidate catches up (Raft paper Figure 2); the rest is ignored.
   *
   * Two differences from etcd and raft-rs, both found by the property test (see
   * test/raft/property/regressions/): they ignore a stale MsgRequestVote, which can stall
   * elections indefinitely without pre-vote (a voter with a stale log and config keeps
   * campaigning, and the candidate that needs its vote only learns those terms when it happens to
   * campaign at exactly the same one: stale_voter_livelock.json); and without check-quorum or
   * pre-vote a learner whose term was raised (by a removed node's vote requests) ignores its
   * leader forever (learner_term_above_leader.json).
   */
  private stepLowerTerm(m: Message): void {
    if ((this.checkQuorum || this.preVote || this.isLearner) &&
        (m.msgType === MessageType.MsgHeartbeat || m.msgType === MessageType.MsgAppend)) {
      this.send({to: m.from, msgType: MessageType.MsgAppendResponse})
    } else if (m.msgType === MessageType.MsgRequestPreVote || m.msgType === MessageType.MsgRequestVote) {
      this.send({to: m.from, term: this.term, msgType: voteRespMsgType(m.msgType), reject: true})
    }
  }

  /**
   * Grants a (pre-)vote if the node has not voted for another candidate this term (§5.2) and the
   * candidate's log is at least as up-to-date (§5.4.1). Learners answer too: a learner may have
   * been promoted without knowing it yet. The response carries the request's term.
   */
  private handleVoteRequest(m: Message): void {
    const canVote = this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (m.msgType === MessageType.MsgRequestPreVote && m.term > this.term)
    if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
      this.send({to: m.from, term: m.term, msgType: voteRespMsgType(m.msgType)})
      if (m.msgType === MessageType.MsgRequestVote) {
        // Only record real votes.
        this.electionElapsed = 0
        this.vote = m.from
      }
    } else {
      // The rejection carries our commit index, so that a candidate that lacks it can learn it
      // (maybeCommitByVote) even though it cannot win.
      const {commit, commitTerm} = this.commitInfo()
      this.send({to: m.from, term: this.term, msgType: voteRespMsgType(m.msgType), reject: true, commit, commitTerm})
    }
    this.maybeCommitByVote(m)
  }

  /** The commit index and the term of the entry there (0 when that entry is compacted away). */
  commitInfo(): {commit: number; commitTerm: number} {
    const commit = this.raftLog.committed
    return {commit, commitTerm: this.raftLog.termOrZero(commit)}
  }

  /**
   * Fast-forwards the commit index to the one a vote request or vote response carries (raft-rs
   * maybe_commit_by_vote), if this log has the entry at that index with the same term: by the
   * Log Matching Property (Raft paper §5.3) the logs are then identical up to it, and a commit
   * index is a fact about the group whoever reports it, so this is safe. A (pre-)candidate that
   * learns of a committed, unapplied conf change this way becomes follower, so that it applies
   * the change and campaigns in the configuration it now knows.
   *
   * This is what keeps the group live when a leader leaves the voters (removal or demotion,
   * thesis §4.2.2) and the messages carrying the commit of that change are lost: the remaining
   * voters may still use the old configuration and need the old leader's vote, which it refuses
   * because its log is longer (§5.4.1) — but its rejection now tells them the change is
   * committed, and once they apply it they no longer need its vote.
   */
  maybeCommitByVote(m: Message): void {
    if (m.commit === 0 || m.commitTerm === 0 || this.state === StateRole.Leader) return
    const lastCommit = this.raftLog.committed
    if (m.commit <= lastCommit || !this.raftLog.maybeCommit(m.commit, m.commitTerm)) return
    if (this.state !== StateRole.Candidate && this.state !== StateRole.PreCandidate) return
    if (this.hasUnappliedConfChanges()) this.becomeFollower(this.term, NONE)
  }

  /** Starts a campaign unless leader, not promotable, or with unapplied conf changes. */
  hup(t: CampaignType): void {
    if (this.state === StateRole.Leader) return
    if (!this.promotable()) return
    if (this.hasUnappliedConfChanges()) return
    this.campaign(t)
  }

  /**
   * Whether a committed conf change is not yet applied: campaigning then could produce a leader
   * that does not know its own configuration.
   */
  hasUnappliedConfChanges(): boolean {
    if (this.raftLog.applied >= this.raftLog.committed) return false
    const ents = this.raftLog.slice(this.raftLog.applied + 1, this.raftLog.committed + 1, Number.POSITIVE_INFINITY)
    return ents.some((e) => e.entryType === EntryType.EntryConfChange || e.entryType === EntryType.EntryConfChangeV2)
  }

  /**
   * Becomes (pre-)candidate and requests votes from every voter of both halves of the config.
   * The node's own vote is a self-addressed response stepped once the vote is persisted.
   */
  campaign(t: CampaignType): void {
    let term: number
    let voteMsg: MessageType
    if (t === CampaignType.PreElection) {
      this.becomePreCandidate()
      voteMsg = MessageType.MsgRequestPreVote
      // Pre-votes are sent for the next term before the term is incremented.
      term = this.term + 1
    } else {
      this.becomeCandidate()
      voteMsg = MessageType.MsgRequestVote
      term = this.term
    }
    const ids = [...this.trk.config.voters.ids()].sort((a, b) => a - b)
    for (const id of ids) {
      if (id === this.id) {
        this.send({to: id, term, msgType: voteRespMsgType(voteMsg)})
        continue
      }
      const index = this.raftLog.lastIndex()
      const logTerm = this.raftLog.lastTerm()
      const context = t === CampaignType.Transfer ? CAMPAIGN_TRANSFER_CTX : undefined
      // The request carries the commit index too, so that voters may learn it (maybeCommitByVote).
      const {commit, commitTerm} = this.commitInfo()
      this.send({to: id, term, msgType: voteMsg, index, logTerm, commit, commitTerm, ...(context ? {context} : {})})
    }
  }

  /** Records a vote and returns the tally (only voters count; learners never do). */
  poll(id: number, granted: boolean): {granted: number; rejected: number; result: VoteResult} {
    this.trk.recordVote(id, granted)
    return this.trk.tallyVotes()
  }

  /**
   * Called by RawNode.advance once the application persisted the entries up to (index, term)
   * and/or the snapshot of a Ready.
   */
  onPersisted(index: number, term: number, snapshotIndex: number): void {
    if (index !== 0) this.raftLog.stableTo(index, term)
    if (snapshotIndex !== 0) this.appliedSnap(snapshotIndex)
  }

  private appliedSnap(index: number): void {
    this.raftLog.stableSnapTo(index)
    this.appliedTo(index)
  }

  /**
   * Called by RawNode.advance once the application applied the committed entries of a Ready.
   * Releases their size from the uncommitted budget, checks for auto-leave and campaigns for a
   * deferred MsgTimeoutNow.
   */
  onApplied(entries: readonly Entry[]): void {
    if (entries.length > 0) {
      this.appliedTo(entries[entries.length - 1].index)
      this.reduceUncommittedSize(payloadsSize(entries))
    }
    this.maybeAutoLeave()
    this.maybeDeferredTimeoutNow()
  }

  /**
   * Campaigns for a MsgTimeoutNow received while a committed conf change was not applied yet
   * (pendingTimeoutNow), once it is. Without this, a leader that left the voters would usually
   * fail to hand over: its MsgTimeoutNow arrives right after the append that commits the change,
   * typically before the target applied it. Campaigning is safe whenever; hup still refuses if
   * this node is no longer a voter of the config it has now applied.
   */
  private maybeDeferredTimeoutNow(): void {
    if (!this.pendingTimeoutNow || this.state !== StateRole.Follower || this.hasUnappliedConfChanges()) return
    this.pendingTimeoutNow = false
    this.hup(CampaignType.Transfer)
  }

  /** Raises the applied index (never lowers it). Invariant: applied <= committed. */
  appliedTo(index: number): void {
    this.raftLog.appliedTo(Math.max(index, this.raftLog.applied))
  }

  /**
   * Auto-leave (thesis §4.3, DESIGN.md §2): whenever the leader's applied index has reached the
   * pending conf index while the config is joint with autoLeave, propose the empty
   * ConfChangeV2. This also covers a leader elected after the joint change was proposed, since
   * becomeLeader sets pendingConfIndex to its last index. A proposal dropped because a
   * leadership transfer is in progress is retried on the next advance; one dropped because the
   * leader is handing over after leaving the voters is proposed by the next leader.
   */
  maybeAutoLeave(): void {
    if (this.state !== StateRole.Leader || !this.trk.config.autoLeave) return
    if (this.raftLog.applied < this.pendingConfIndex) return
    const entry = newEntry({term: 0, index: 0, entryType: EntryType.EntryConfChangeV2, data: encodeConfChange(LEAVE_JOINT)})
    try {
      this.step(newMessage({msgType: MessageType.MsgPropose, from: this.id, entries: [entry]}))
    } catch (err) {
      // Expected drop: a transfer in progress, or a leader handing over after leaving the
      // voters ('not-a-member' cannot happen since a removed leader steps down or hands over
      // without appending, but is tolerated for safety).
      if (!(err instanceof ProposalDroppedError) || (err.reason !== 'transfer-in-progress' &&
          err.reason !== 'not-a-member' && err.reason !== 'leader-stepping-down')) throw err
    }
  }
}
