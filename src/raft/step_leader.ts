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
 * when this node is no longer a member, a leadership transfer is in progress, the uncommitted
 * size limit is reached, or a conf change is refused (see checkConfChangeProposal).
 */
function stepPropose(r: Raft, m: Message): void {
  if (m.entries.length === 0) panic(`${r.id} stepped empty MsgPropose`)
  if (!r.trk.progress.has(r.id)) {
    // This node was removed from the configuration while serving as leader.
    throw new ProposalDroppedError('not-a-member', `leader ${r.id} is not a member of the configuration`)
  }
  if (r.leadTransferee !== NONE) {
    throw new ProposalDroppedError('transfer-in-progress',
      `leadership transfer to ${r.leadTransferee} is in progress (term ${r.term})`)
  }
  let pendingConfIndex = r.pendingConfIndex
  m.entries.forEach((e, i) => {
    if (!isConfChangeEntry(e)) return
    if (pendingConfIndex !== r.pendingConfIndex) {
      throw new ProposalDroppedError('conf-change-refused', 'only one conf change may be proposed at a time')
    }
    checkConfChangeProposal(r, e)
    pendingConfIndex = r.raftLog.lastIndex() + i + 1
  })
  if (!r.appendEntry(m.entries)) {
    throw new ProposalDroppedError('too-many-uncommitted-bytes',
      `the uncommitted log would exceed maxUncommittedSize (${r.maxUncommittedSize} bytes)`)
  }
  r.pendingConfIndex = pendingConfIndex
  r.bcastAppend()
}
