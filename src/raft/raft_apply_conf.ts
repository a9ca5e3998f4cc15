/**
 * Applying configuration changes (Raft paper §6, thesis §4): the conf-change validation done at
 * propose time, applyConfChange and switchToConfig. A port of the corresponding parts of
 * etcd-io/raft v3.6 raft.go, with one deliberate difference: a conf change refused at propose
 * time is an error to the proposer (ProposalDroppedError 'conf-change-refused'), never silently
 * replaced by an empty entry (DESIGN.md §2).
 */
import {type AnyConfChange, asV2, decodeConfChange, enterJoint, leaveJoint} from './conf_change.js'
import {Changer, type ChangeResult} from './confchange/index.js'
import {ConfChangeError, type PendingConfChange, ProposalDroppedError} from './errors.js'
import type {Raft} from './raft.js'
import {StateRole} from './role.js'
import type {TrackerConfig} from './tracker/index.js'
import {type ConfChangeV2, type ConfState, type Entry, EntryType} from './types.js'
import {NONE} from './util.js'

/** Computes the config that `cc` leads to from the current one, without changing anything. */
export function changeFor(r: Raft, cc: ConfChangeV2): ChangeResult {
  const changer = new Changer(r.trk, r.raftLog.lastIndex())
  if (leaveJoint(cc)) return changer.leaveJoint()
  const {autoLeave, ok} = enterJoint(cc)
  if (ok) return changer.enterJoint(autoLeave, cc.changes)
  return changer.simple(cc.changes)
}

/**
 * Applies a committed conf change (the application calls this for every conf-change entry it
 * applies) and returns the new ConfState. Throws ConfChangeError if the change is invalid for
 * the current config; nothing is changed then.
 */
export function applyConfChange(r: Raft, cc: AnyConfChange): ConfState {
  const {config, progress} = changeFor(r, asV2(cc))
  return switchToConfig(r, config, progress)
}

/**
 * Installs a new config and progress map. A leader that stays commits what the new quorum
 * allows and probes new peers at once, and aborts a transfer to a peer that is no longer a
 * voter. A leader that left the voters is handled by stepDownIfRemoved.
 */
export function switchToConfig(r: Raft, cfg: TrackerConfig, progress: ChangeResult['progress']): ConfState {
  r.trk.config = cfg
  r.trk.progress = progress
  const cs = r.trk.confState()
  const pr = progress.get(r.id)
  r.isLearner = pr !== undefined && pr.isLearner
  if (stepDownIfRemoved(r)) return cs
  // The remaining steps only make sense if this node is the leader and there are other nodes.
  if (r.state !== StateRole.Leader || cs.voters.length === 0) return cs
  if (r.maybeCommit()) {
    // The new config may commit more entries: broadcast the new commit index.
    r.bcastAppend()
  } else {
    // Otherwise still probe newly added peers at once rather than at the next heartbeat.
    r.trk.visit((id) => {
      if (id !== r.id) r.maybeSendAppend(id, false)
    })
  }
  if (r.leadTransferee !== NONE && !r.trk.config.voters.has(r.leadTransferee)) r.abortLeaderTransfer()
  return cs
}

/**
 * Whether a leader whose progress map (after a conf change) is `progress` must step down: when
 * it was removed entirely, always — without a progress of its own it could not append anything
 * (etcd drops every proposal of such a leader), so it could neither serve writes nor leave a
 * joint config with autoLeave, and its heartbeats would keep the members from ever electing a
 * leader that can; when it was demoted to learner, only with stepDownOnRemoval (otherwise it
 * keeps leading: a learner leader can still append, it just does not count itself in quorums).
 */
export function leavesVoters(r: Raft, progress: ChangeResult['progress']): boolean {
  const pr = progress.get(r.id)
  return pr === undefined || (pr.isLearner && r.stepDownOnRemoval)
}

/**
 * A leader whose applied config no longer has it as a voter (see leavesVoters) steps down
 * (thesis §4.2.2: the leader steps down once the configuration without it is committed) and
 * hands over like a leadership transfer (thesis §3.10), so that the group does not wait an
 * election timeout for a new leader. Returns true when it stepped down at once.
 *
 * The handover target is the voter of the new config (incoming half) with the highest match,
 * the lowest id among equals. If it holds the leader's whole log, the leader steps down and
 * sends it MsgTimeoutNow. That is the usual case: while the change was pending the leader
 * refused proposals (stepDownIndex), so every voter that acknowledged the change has the whole
 * log, and a quorum of the old config — which includes a voter of the new one — acknowledged
 * it before it could commit. Otherwise (entries appended after the change: a conf change a new
 * leader inherited, or one proposed in a batch with other entries) the leader keeps leading for
 * at most an election timeout, refusing proposals (handingOver) and replicating to the target
 * as during a leadership transfer; it sends MsgTimeoutNow and steps down as soon as the
 * target's match reaches its last index (step_leader_resp.ts), or steps down without it when
 * the election timeout passes (Raft.tickHeartbeat). A node that has stepped down cannot do
 * this: a follower neither tracks progress nor sends appends.
 *
 * MsgTimeoutNow is only a hint: an election is safe whoever starts it. A target that has not
 * applied the change yet (it usually receives MsgTimeoutNow right after the append that commits
 * it) campaigns as soon as it has (RaftCore.pendingTimeoutNow); if the hint is lost, a voter
 * campaigns after its election timeout. That election cannot deadlock on the old leader's
 * longer log either, since its vote rejection carries its commit index (Raft.maybeCommitByVote).
 */
function stepDownIfRemoved(r: Raft): boolean {
  if (r.state !== StateRole.Leader) return false
  if (!leavesVoters(r, r.trk.progress)) {
    // Only reachable through a later change of an inherited log that re-adds this node.
    if (r.handingOver) {
      r.handingOver = false
      r.abortLeaderTransfer()
    }
    return false
  }
  const target = handoverTarget(r)
  if (target === NONE || r.trk.progress.get(target)?.match === r.raftLog.lastIndex()) {
    r.becomeFollower(r.term, NONE)
    if (target !== NONE) r.sendTimeoutNow(target)
    return true
  }
  r.handingOver = true
  r.leadTransferee = target
  // The handover must finish within one election timeout, like a leadership transfer.
  r.electionElapsed = 0
  r.sendAppend(target)
  return false
}

/**
 * The voter of the incoming config (other than this node) with the highest match index, the
 * lowest id among equals (MajorityConfig iterates its ids in ascending order); NONE if there is
 * none.
 */
function handoverTarget(r: Raft): number {
  let target = NONE
  let best = -1
  for (const id of r.trk.config.voters.incoming) {
    const match = r.trk.progress.get(id)?.match
    if (id !== r.id && match !== undefined && match > best) {
      target = id
      best = match
    }
  }
  return target
}

/**
 * Checks a conf-change entry proposed to the leader: only one conf change may be pending (thesis
 * §4.1), a joint config must be left before the next change, only a joint config can be left,
 * and the change itself must be valid for the current config (checked with the Changer, which
 * refuses e.g. removing all voters). Throws ProposalDroppedError('conf-change-refused') saying
 * why; ConfChangeError for undecodable bytes. Returns whether applying the change will make
 * this leader step down (leavesVoters): since no other conf change is pending, the config it
 * is checked against is the one it will be applied to.
 */
export function checkConfChangeProposal(r: Raft, e: Entry): boolean {
  const cc = asV2(decodeConfChange(e))
  const alreadyPending = r.pendingConfIndex > r.raftLog.applied
  const alreadyJoint = r.trk.config.voters.isJoint()
  const wantsLeaveJoint = cc.changes.length === 0
  let failed = ''
  let stepsDown = false
  let pending: PendingConfChange | undefined
  if (alreadyPending) {
    pending = {index: r.pendingConfIndex, applied: r.raftLog.applied}
    failed = `possible unapplied conf change at index ${pending.index} (applied to ${pending.applied})`
  } else if (alreadyJoint && !wantsLeaveJoint) {
    failed = 'must transition out of joint config first'
  } else if (!alreadyJoint && wantsLeaveJoint) {
    failed = 'not in joint state; refusing empty conf change'
  } else if (wantsLeaveJoint && !leaveJoint(cc)) {
    failed = 'an empty conf change that leaves the joint config must use the Auto transition'
  } else {
    try {
      stepsDown = leavesVoters(r, changeFor(r, cc).progress)
    } catch (err) {
      if (!(err instanceof ConfChangeError)) throw err
      failed = err.message
    }
  }
  if (failed !== '') {
    throw new ProposalDroppedError('conf-change-refused', `conf change refused at config ${r.trk.config.voters}: ${failed}`, pending)
  }
  return stepsDown
}

/** Whether an entry carries a conf change. */
export function isConfChangeEntry(e: Entry): boolean {
  return e.entryType === EntryType.EntryConfChange || e.entryType === EntryType.EntryConfChangeV2
}
