/**
 * ReadIndex on the leader (Raft thesis §6.4; etcd-io/raft v3.6 read-only handling): requests
 * are confirmed by a heartbeat quorum ('safe') or answered from the leader lease ('lease'), and
 * are held back until the leader has committed an entry of its own term.
 */
import {VoteResult} from './quorum/index.js'
import type {Raft} from './raft.js'
import {type Message, MessageType, newMessage} from './types.js'
import {NONE, panic} from './util.js'

/**
 * ReadIndex (thesis §6.4): a single voter answers at once; otherwise the request waits until the
 * leader has committed an entry of its term, then is confirmed by a heartbeat quorum ('safe') or
 * answered from the lease ('lease').
 */
export function stepReadIndex(r: Raft, m: Message): void {
  if (r.trk.isSingleton()) {
    responseToReadIndexReq(r, m, r.raftLog.committed)
    return
  }
  // Postpone the request while this leader has not committed any entry of its term.
  if (!r.committedEntryInCurrentTerm()) {
    r.pendingReadIndexMessages.push(m)
    return
  }
  sendMsgReadIndexResponse(r, m)
}

/** Starts confirming (safe) or answers (lease) a read request at the current commit index. */
export function sendMsgReadIndexResponse(r: Raft, m: Message): void {
  if (r.readOnly.option === 'safe') {
    const ctx = m.entries[0].data
    r.readOnly.addRequest(r.raftLog.committed, m)
    // The leader acknowledges its own request. When that alone is a quorum (the leader is the
    // only voter of both halves of a joint config, e.g. (1)&&(1)), the read is answered at once:
    // no heartbeat answer could add to it (etcd's singleton shortcut misses this case).
    const selfAck = newMessage({msgType: MessageType.MsgHeartbeatResponse, from: r.id, to: r.id, term: r.term, context: ctx})
    if (!recvReadAck(r, selfAck)) r.bcastHeartbeatWithCtx(ctx)
  } else {
    responseToReadIndexReq(r, m, r.raftLog.committed)
  }
}

/** Answers requests queued before the leader committed an entry of its term. */
export function releasePendingReadIndexMessages(r: Raft): void {
  if (r.pendingReadIndexMessages.length === 0) return
  if (!r.committedEntryInCurrentTerm()) panic('pending MsgReadIndex should be released only after first commit in current term')
  const msgs = r.pendingReadIndexMessages
  r.pendingReadIndexMessages = []
  for (const m of msgs) sendMsgReadIndexResponse(r, m)
}

/**
 * Delivers a confirmed read: a local request becomes a ReadState, a forwarded one a
 * MsgReadIndexResp to the follower.
 */
export function responseToReadIndexReq(r: Raft, req: Message, readIndex: number): void {
  if (req.from === NONE || req.from === r.id) {
    r.readStates.push({index: readIndex, requestCtx: req.entries[0].data})
    return
  }
  r.send(newMessage({msgType: MessageType.MsgReadIndexResp, to: req.from, index: readIndex, entries: req.entries}))
}

/**
 * Handles a heartbeat acknowledgement carrying a read context ('safe' reads): once a quorum of
 * voters acknowledged it, that request and all before it are answered.
 */
export function stepReadIndexAck(r: Raft, m: Message): void {
  if (r.readOnly.option !== 'safe' || m.context.length === 0) return
  recvReadAck(r, m)
}

/**
 * Records `ack.from`'s acknowledgement of the read `ack.context`; once the voters that
 * acknowledged it win a quorum, answers it and every read queued before it. Returns whether
 * it answered.
 */
function recvReadAck(r: Raft, ack: Message): boolean {
  if (r.trk.config.voters.voteResult(r.readOnly.recvAck(ack.from, ack.context)) !== VoteResult.Won) return false
  for (const rs of r.readOnly.advance(ack)) responseToReadIndexReq(r, rs.req, rs.index)
  return true
}
