/**
 * Message handling of a leader (etcd-io/raft v3.6 stepLeader): heartbeats and check-quorum,
 * proposals, ReadIndex, and the responses of followers (split out into step_leader_resp.ts).
 */
import {ProposalDroppedError} from './errors.js'
import type {Raft} from './raft.js'
import {checkConfChangeProposal, isConfChangeEntry} from './raft_apply_conf.js'
import {stepReadIndex} from './read_index.js'
import {stepLeaderPeerMsg} from './step_leader_resp.js'
import {type Message, MessageType} from './types.js'
import {NONE, panic} from './util.js'

export function stepLeader(r: Raft, m: Message): void {
  switch (m.msgType) {
    case MessageType.MsgBeat:
      r.bcastHeartbeat()
      return
    case MessageType.MsgCheckQuorum:
      stepCheckQuorum(r)
      return
    case MessageType.MsgPropose:
      stepPropose(r, m)
      return
    case MessageType.MsgReadIndex:
      stepReadIndex(r, m)
      return
    default:
      stepLeaderPeerMsg(r, m)
  }
}

/**
 * Check-quorum (thesis §6.2): a leader that has not heard from a quorum of voters within the
 * last election timeout steps down; then every peer is marked inactive for the next round.
 */
function stepCheckQuorum(r: Raft): void {
  if (!r.trk.quorumActive()) r.becomeFollower(r.term, NONE)
  // Mark everyone (but ourselves) as inactive in preparation for the next check.
  r.trk.visit((id, pr) => {
    if (id !== r.id) pr.recentActive = false
  })
}

/**
 * Appends proposed entries and broadcasts them (Raft paper §5.3). Throws ProposalDroppedError
 * when this node is no longer a member, it is leaving the voters (a pending conf change removes
 * or demotes it, or it is handing over after applying one: see stepDownIndex and handingOver),
 * a leadership transfer is in progress, the uncommitted size limit is reached, or a conf change
 * is refused (see checkConfChangeProposal). Refusing proposals while leaving is what lets the
 * voters catch up to the leader's whole log, so that it can hand over at once (thesis §3.10).
 */
function stepPropose(r: Raft, m: Message): void {
  if (m.entries.length === 0) panic(`${r.id} stepped empty MsgPropose`)
  if (r.handingOver || r.stepDownIndex > r.raftLog.applied) {
    throw new ProposalDroppedError('leader-stepping-down', r.handingOver
      ? `leader ${r.id} has left the voters and is handing leadership over to ${r.leadTransferee} (term ${r.term}); retry with the next leader`
      : `leader ${r.id} is leaving the voters by the conf change at index ${r.stepDownIndex} and will hand leadership over once it applies it (term ${r.term}); retry with the next leader`)
  }
  if (!r.trk.progress.has(r.id)) {
    // Defensive: a leader removed from the configuration steps down when it applies the change,
    // or hands over first (refused above; raft_apply_conf.ts stepDownIfRemoved), so a leader
    // that accepts proposals always has a progress of its own.
    throw new ProposalDroppedError('not-a-member', `leader ${r.id} is not a member of the configuration`)
  }
  if (r.leadTransferee !== NONE) {
    throw new ProposalDroppedError('transfer-in-progress',
      `leadership transfer to ${r.leadTransferee} is in progress (term ${r.term})`)
  }
  let pendingConfIndex = r.pendingConfIndex
  let stepDownIndex = r.stepDownIndex
  m.entries.forEach((e, i) => {
    if (!isConfChangeEntry(e)) return
    if (pendingConfIndex !== r.pendingConfIndex) {
      throw new ProposalDroppedError('conf-change-refused', 'only one conf change may be proposed at a time')
    }
    const stepsDown = checkConfChangeProposal(r, e)
    pendingConfIndex = r.raftLog.lastIndex() + i + 1
    if (stepsDown) stepDownIndex = pendingConfIndex
  })
  if (!r.appendEntry(m.entries)) {
    throw new ProposalDroppedError('too-many-uncommitted-bytes',
      `the uncommitted log would exceed maxUncommittedSize (${r.maxUncommittedSize} bytes)`)
  }
  r.pendingConfIndex = pendingConfIndex
  r.stepDownIndex = stepDownIndex
  r.bcastAppend()
}
