/**
 * Message handling of a follower (etcd-io/raft v3.6 stepFollower). Proposals, read requests and
 * transfer requests are forwarded to the leader; appends, heartbeats and snapshots from the
 * leader reset the election timer (Raft paper §5.2).
 */
import {ProposalDroppedError} from './errors.js'
import {CampaignType, type Raft} from './raft.js'
import {handleAppendEntries, handleHeartbeat, handleSnapshot} from './raft_handlers.js'
import {type Message, MessageType} from './types.js'
import {NONE} from './util.js'

export function stepFollower(r: Raft, m: Message): void {
  switch (m.msgType) {
    case MessageType.MsgPropose:
      if (r.lead === NONE) throw new ProposalDroppedError('no-leader', `no leader at term ${r.term}`)
      r.send({...m, to: r.lead, term: 0})
      return
    case MessageType.MsgAppend:
      r.electionElapsed = 0
      r.lead = m.from
      handleAppendEntries(r, m)
      return
    case MessageType.MsgHeartbeat:
      r.electionElapsed = 0
      r.lead = m.from
      handleHeartbeat(r, m)
      return
    case MessageType.MsgSnapshot:
      r.electionElapsed = 0
      r.lead = m.from
      handleSnapshot(r, m)
      return
    case MessageType.MsgTransferLeader:
      // Forwarded to the leader with from = the transferee; dropped when there is no leader.
      if (r.lead !== NONE) r.send({...m, to: r.lead, term: 0})
      return
    case MessageType.MsgTimeoutNow:
      // Leadership transfers never use pre-vote: the node knows it is not partitioned. A node
      // that must first apply a committed conf change campaigns once it has (Raft.onApplied).
      if (r.hasUnappliedConfChanges()) r.pendingTimeoutNow = true
      else r.hup(CampaignType.Transfer)
      return
    case MessageType.MsgReadIndex:
      // Forwarded to the leader; dropped when there is no leader (the caller retries).
      if (r.lead !== NONE) r.send({...m, to: r.lead, term: 0})
      return
    case MessageType.MsgReadIndexResp:
      stepReadIndexResp(r, m)
      return
    default:
      return
  }
}

/** Records the read state the leader answered to a forwarded ReadIndex. */
function stepReadIndexResp(r: Raft, m: Message): void {
  if (m.entries.length !== 1) return
  r.readStates.push({index: m.index, requestCtx: m.entries[0].data})
}
