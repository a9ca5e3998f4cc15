/**
 * Applying configuration changes (Raft paper §6, thesis §4): the conf-change validation done at
 * propose time, applyConfChange and switchToConfig. A port of the corresponding parts of
 * etcd-io/raft v3.6 raft.go, with one deliberate difference: a conf change refused at propose
 * time is an error to the proposer (ProposalDroppedError 'conf-change-refused'), never silently
 * replaced by an empty entry (DESIGN.md §2).
 */
import {type AnyConfChange, asV2, decodeConfChange, enterJoint, leaveJoint} from './conf_change.js'
import {Changer, type ChangeResult} from './confchange/index.js'
import {ConfChangeError, ProposalDroppedError} from './errors.js'
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
 * Installs a new config and progress map. A leader that was removed or demoted steps down (with
 * stepDownOnRemoval); a leader that stays commits what the new quorum allows and probes new
 * peers at once, and aborts a transfer to a peer that is no longer a voter.
 */
export function switchToConfig(r: Raft, cfg: TrackerConfig, progress: ChangeResult['progress']): ConfState {
  r.trk.config = cfg
  r.trk.progress = progress
  const cs = r.trk.confState()
  const pr = progress.get(r.id)
  r.isLearner = pr !== undefined && pr.isLearner
  if ((pr === undefined || r.isLearner) && r.state === StateRole.Leader) {
    if (r.stepDownOnRemoval) r.becomeFollower(r.term, NONE)
    return cs
  }
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
 * Checks a conf-change entry proposed to the leader: only one conf change may be pending (thesis
 * §4.1), a joint config must be left before the next change, only a joint config can be left,
 * and the change itself must be valid for the current config (checked with the Changer, which
 * refuses e.g. removing all voters). Throws ProposalDroppedError('conf-change-refused') saying
 * why; ConfChangeError for undecodable bytes.
 */
export function checkConfChangeProposal(r: Raft, e: Entry): void {
  const cc = asV2(decodeConfChange(e))
  const alreadyPending = r.pendingConfIndex > r.raftLog.applied
  const alreadyJoint = r.trk.config.voters.isJoint()
  const wantsLeaveJoint = cc.changes.length === 0
  let failed = ''
  if (alreadyPending) {
    failed = `possible unapplied conf change at index ${r.pendingConfIndex} (applied to ${r.raftLog.applied})`
  } else if (alreadyJoint && !wantsLeaveJoint) {
    failed = 'must transition out of joint config first'
  } else if (!alreadyJoint && wantsLeaveJoint) {
    failed = 'not in joint state; refusing empty conf change'
  } else if (wantsLeaveJoint && !leaveJoint(cc)) {
    failed = 'an empty conf change that leaves the joint config must use the Auto transition'
  } else {
    try {
      changeFor(r, cc)
    } catch (err) {
      if (!(err instanceof ConfChangeError)) throw err
      failed = err.message
    }
  }
  if (failed !== '') {
    throw new ProposalDroppedError('conf-change-refused', `conf change refused at config ${r.trk.config.voters}: ${failed}`)
  }
}

/** Whether an entry carries a conf change. */
export function isConfChangeEntry(e: Entry): boolean {
  return e.entryType === EntryType.EntryConfChange || e.entryType === EntryType.EntryConfChangeV2
}
