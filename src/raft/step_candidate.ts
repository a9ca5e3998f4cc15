/**
 * Message handling of a candidate and a pre-candidate (etcd-io/raft v3.6 stepCandidate). A
 * leader of the same term announcing itself makes the candidate a follower (Raft paper §5.2);
 * vote responses of the current campaign are tallied over both halves of a joint config.
 */
import {ProposalDroppedError} from './errors.js'
import {VoteResult} from './quorum/index.js'
import {CampaignType, type Raft} from './raft.js'
import {handleAppendEntries, handleHeartbeat, handleSnapshot} from './raft_handlers.js'
import {StateRole} from './role.js'
import {type Message, MessageType} from './types.js'
import {NONE} from './util.js'

export function stepCandidate(r: Raft, m: Message): void {
  // Only vote responses of this candidacy count: a candidate may still receive stale
  // MsgRequestPreVoteResponse messages of this term from its pre-candidacy.
  const myVoteRespType = r.state === StateRole.PreCandidate
    ? MessageType.MsgRequestPreVoteResponse
    : MessageType.MsgRequestVoteResponse
  switch (m.msgType) {
    case MessageType.MsgPropose:
      throw new ProposalDroppedError('no-leader', `no leader at term ${r.term}`)
    case MessageType.MsgAppend:
      r.becomeFollower(m.term, m.from) // always m.term == r.term
      handleAppendEntries(r, m)
      return
    case MessageType.MsgHeartbeat:
      r.becomeFollower(m.term, m.from)
      handleHeartbeat(r, m)
      return
    case MessageType.MsgSnapshot:
      r.becomeFollower(m.term, m.from)
      handleSnapshot(r, m)
      return
    case myVoteRespType:
      stepVoteResponse(r, m)
      // A rejection may tell us of a newer commit index (and a conf change to apply first).
      r.maybeCommitByVote(m)
      return
    default:
      // MsgTimeoutNow and the rest are ignored by a candidate.
      return
  }
}

/** Tallies a vote; a won pre-election starts the real one, a won election makes us leader. */
function stepVoteResponse(r: Raft, m: Message): void {
  const {result} = r.poll(m.from, !m.reject)
  if (result === VoteResult.Won) {
    if (r.state === StateRole.PreCandidate) {
      r.campaign(CampaignType.Election)
    } else {
      r.becomeLeader()
      r.bcastAppend()
    }
  } else if (result === VoteResult.Lost) {
    // A MsgRequestPreVoteResponse carries the pre-candidate's future term; keep r.term.
    r.becomeFollower(r.term, NONE)
  }
}
