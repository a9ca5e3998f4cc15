/**
 * The leader's handling of messages about one peer (etcd-io/raft v3.6 stepLeader, second half):
 * append and heartbeat responses (Raft paper §5.3), snapshot reports (§7), unreachable reports
 * and leadership transfer requests (thesis §3.10). Messages from peers without progress are
 * ignored.
 */
import type {Raft} from './raft.js'
import {releasePendingReadIndexMessages, stepReadIndexAck} from './read_index.js'
import {type Progress, ProgressState} from './tracker/index.js'
import {type Message, MessageType} from './types.js'
import {NONE} from './util.js'

export function stepLeaderPeerMsg(r: Raft, m: Message): void {
  const pr = r.trk.progress.get(m.from)
  if (pr === undefined) return
  switch (m.msgType) {
    case MessageType.MsgAppendResponse:
      pr.recentActive = true
      if (m.reject) stepAppendReject(r, m, pr)
      else stepAppendAccept(r, m, pr)
      return
    case MessageType.MsgHeartbeatResponse:
      stepHeartbeatResponse(r, m, pr)
      return
    case MessageType.MsgSnapStatus:
      stepSnapStatus(m, pr)
      return
    case MessageType.MsgUnreachable:
      // During optimistic replication a message to an unreachable peer is probably lost.
      if (pr.state === ProgressState.Replicate) pr.becomeProbe()
      return
    case MessageType.MsgTransferLeader:
      stepTransferLeader(r, m, pr)
      return
    default:
      return
  }
}

/**
 * A follower rejected an append: back off (§5.3). rejectHint and logTerm name the largest
 * (index, term) of the follower's log that may match; the leader then skips to the largest index
 * of its own log with a term <= logTerm, so a divergent tail is skipped a term at a time rather
 * than an entry at a time.
 */
function stepAppendReject(r: Raft, m: Message, pr: Progress): void {
  let nextProbeIdx = m.rejectHint
  if (m.logTerm > 0) nextProbeIdx = r.raftLog.findConflictByTerm(m.rejectHint, m.logTerm)[0]
  if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
    if (pr.state === ProgressState.Replicate) pr.becomeProbe()
    r.sendAppend(m.from)
  }
}

/**
 * A follower (or, once its entries are persisted, the leader itself) acknowledged entries up to
 * m.index: update its progress, move it to Replicate, commit what a quorum now holds (§5.4.2)
 * and keep the pipeline full.
 */
function stepAppendAccept(r: Raft, m: Message, pr: Progress): void {
  // A probing peer that is already caught up (match == m.index) may also move to Replicate.
  if (!pr.maybeUpdate(m.index) && !(pr.match === m.index && pr.state === ProgressState.Probe)) return
  if (pr.state === ProgressState.Probe) {
    pr.becomeReplicate()
  } else if (pr.state === ProgressState.Snapshot && pr.match + 1 >= r.raftLog.firstIndex()) {
    // The follower can be caught up from the log again, wherever the snapshot actually was
    // applied. Move back to Replicate via Probe, which takes the snapshot into account.
    pr.becomeProbe()
    pr.becomeReplicate()
  } else if (pr.state === ProgressState.Replicate) {
    pr.inflights.freeLE(m.index)
  }
  if (r.maybeCommit()) {
    // The commit index advanced in this term: pending reads may be served now.
    releasePendingReadIndexMessages(r)
    r.bcastAppend()
  } else if (r.id !== m.from && pr.canBumpCommit(r.raftLog.committed)) {
    // This peer may be missing the latest commit index; send it now rather than at a heartbeat.
    r.sendAppend(m.from)
  }
  // Flow control may allow several size-limited messages now; send as many as possible.
  if (r.id !== m.from) {
    while (r.maybeSendAppend(m.from, false)) { /* keep sending */ }
  }
  // A leadership transfer is in progress and the transferee has caught up. A leader handing
  // over after leaving the voters steps down as it sends the hint (raft_apply_conf.ts).
  if (m.from === r.leadTransferee && pr.match === r.raftLog.lastIndex()) {
    if (r.handingOver) r.becomeFollower(r.term, NONE)
    r.sendTimeoutNow(m.from)
  }
}

/**
 * A heartbeat response marks the peer active, unpauses it and, when it lags (or is probing),
 * sends it an append; a response carrying a read context counts as that read's acknowledgement.
 */
function stepHeartbeatResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true
  pr.msgAppFlowPaused = false
  // Even a paused (full inflights) follower gets an empty append, so replication recovers if
  // all in-flight messages were lost; a Snapshot-state peer stays paused.
  if (pr.match < r.raftLog.lastIndex() || pr.state === ProgressState.Probe) r.sendAppend(m.from)
  stepReadIndexAck(r, m)
}

/**
 * The application reported the outcome of sending a snapshot (RawNode.reportSnapshot). Either
 * way the peer goes back to Probe and waits: for its append response after a success, for a
 * heartbeat interval after a failure.
 */
function stepSnapStatus(m: Message, pr: Progress): void {
  if (pr.state !== ProgressState.Snapshot) return
  if (m.reject) {
    // The order matters: probe from the match index, not the snapshot that never applied.
    pr.pendingSnapshot = 0
  }
  pr.becomeProbe()
  pr.msgAppFlowPaused = true
}

/**
 * Starts a leadership transfer to m.from (thesis §3.10): catch it up, then send MsgTimeoutNow.
 * Requests for a learner or for the leader itself, and requests to a leader that is already
 * handing over after leaving the voters, are ignored; a new target aborts the previous
 * transfer. The transfer is aborted if it has not finished after an election timeout.
 */
function stepTransferLeader(r: Raft, m: Message, pr: Progress): void {
  // A leader handing over after leaving the voters keeps its target (raft_apply_conf.ts).
  if (pr.isLearner || r.handingOver) return
  const transferee = m.from
  if (r.leadTransferee !== NONE) {
    if (r.leadTransferee === transferee) return
    r.abortLeaderTransfer()
  }
  if (transferee === r.id) return
  // The transfer should finish within one election timeout.
  r.electionElapsed = 0
  r.leadTransferee = transferee
  if (pr.match === r.raftLog.lastIndex()) r.sendTimeoutNow(transferee)
  else r.sendAppend(transferee)
}
