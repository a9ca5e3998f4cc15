// Raft thesis §4.2.2 (availability when the leader leaves the configuration) and §3.10 (handing
// leadership over): the commit index carried by vote requests and rejections (raft-rs
// maybe_commit_by_vote), which lets voters that missed the commit of a conf change learn it from
// any node — safely, because an index is only taken when the local entry there has the same
// term (Log Matching, Raft paper §5.3) — the end-to-end recovery of a group whose leader
// demoted or removed itself while the commit of the change was lost, the deferral of a
// MsgTimeoutNow that arrives before the target applied the change, and the hand-over of a leader
// that leaves the voters while clients keep writing (it refuses writes while the change is
// pending, 'leader-stepping-down', so that a new voter has its whole log when it steps down).
import {expect} from 'chai'
import {encodeConfChange} from '../../../src/raft/conf_change.js'
import {ProposalDroppedError} from '../../../src/raft/errors.js'
import {StateRole} from '../../../src/raft/role.js'
import {ConfChangeType, EntryType, MessageType, newEntry, newMessage} from '../../../src/raft/types.js'
import {Cluster} from './cluster.js'
import {termsFrom} from './helpers.js'
import {Network, localMsg, newTestRaft, newTestStorage, readMessages} from './network.js'
import type {Raft} from '../../../src/raft/raft.js'
import {applyConfChange} from '../../../src/raft/raft_apply_conf.js'

/** Node 1 of voters (1 2) with entries of the given terms at 1.., committed up to `commit`. */
function nodeWithLog(terms: number[], commit: number, extra = {}): Raft {
  const s = newTestStorage([1, 2])
  s.append(termsFrom(1, ...terms))
  s.setHardState({term: terms[terms.length - 1], vote: 0, commit})
  return newTestRaft(1, 10, 1, s, extra)
}

/** A vote response from node 2 to node 1 at node 1's term, carrying a commit index. */
function voteResp(r: Raft, reject: boolean, commit: number, commitTerm: number, pre = false) {
  return newMessage({
    msgType: pre ? MessageType.MsgRequestPreVoteResponse : MessageType.MsgRequestVoteResponse,
    from: 2, to: 1, term: pre ? r.term + 1 : r.term, reject, commit, commitTerm,
  })
}

describe('thesis §4.2.2: learning the commit index from votes (raft-rs maybe_commit_by_vote)', () => {
  it('vote requests carry the candidate\'s commit index and the term of that entry', () => {
    const r = nodeWithLog([1, 1, 2], 2)
    r.step(localMsg(1, MessageType.MsgHup))
    const req = readMessages(r).filter((m) => m.msgType === MessageType.MsgRequestVote)
    expect(req.map((m) => [m.to, m.commit, m.commitTerm])).to.deep.equal([[2, 2, 1]])
  })

  it('a rejection carries the voter\'s commit index and its term', () => {
    const r = nodeWithLog([1, 1, 2], 3)
    r.step(newMessage({msgType: MessageType.MsgRequestVote, from: 2, to: 1, term: 3, index: 2, logTerm: 1}))
    const resp = readMessages(r)
    expect(resp.map((m) => [m.msgType, m.reject, m.commit, m.commitTerm]))
      .to.deep.equal([[MessageType.MsgRequestVoteResponse, true, 3, 2]])
  })

  it('a candidate fast-forwards its commit index from a rejection when its entry there has the same term', () => {
    const r = nodeWithLog([1, 1, 2], 1)
    r.step(localMsg(1, MessageType.MsgHup))
    readMessages(r)
    r.step(voteResp(r, true, 3, 2))
    expect(r.raftLog.committed).to.equal(3)
    // It lost this election (1 of 2 votes) and became follower as usual.
    expect(r.state).to.equal(StateRole.Follower)
  })

  it('a pre-candidate does the same from a pre-vote rejection', () => {
    const r = nodeWithLog([1, 1, 2], 1, {preVote: true})
    r.step(localMsg(1, MessageType.MsgHup))
    expect(r.state).to.equal(StateRole.PreCandidate)
    readMessages(r)
    r.step({...voteResp(r, true, 3, 2, true), term: r.term})
    expect(r.raftLog.committed).to.equal(3)
  })

  it('never commits an index whose local entry has another term (Log Matching), nor beyond its log', () => {
    for (const [commit, commitTerm] of [[3, 3], [3, 1], [5, 2]]) {
      const r = nodeWithLog([1, 1, 2], 1)
      r.step(localMsg(1, MessageType.MsgHup))
      readMessages(r)
      r.step(voteResp(r, true, commit, commitTerm))
      expect(r.raftLog.committed, `commit=${commit} commitTerm=${commitTerm}`).to.equal(1)
    }
  })

  it('never lowers the commit index', () => {
    const r = nodeWithLog([1, 1, 2], 3)
    r.step(localMsg(1, MessageType.MsgHup))
    readMessages(r)
    r.step(voteResp(r, true, 2, 1))
    expect(r.raftLog.committed).to.equal(3)
  })

  it('a voter fast-forwards its commit index from a vote request it grants or rejects', () => {
    for (const [index, logTerm, grant] of [[3, 2, true], [2, 1, false]] as const) {
      const r = nodeWithLog([1, 1, 2], 1)
      r.step(newMessage({msgType: MessageType.MsgRequestVote, from: 2, to: 1, term: 3, index, logTerm, commit: 2, commitTerm: 1}))
      expect(readMessages(r).map((m) => m.reject)).to.deep.equal([!grant])
      expect(r.raftLog.committed).to.equal(2)
    }
  })

  it('a candidate that learns of a committed conf change it has not applied becomes follower (to apply it first)', () => {
    const s = newTestStorage([1, 2, 3])
    const cc = encodeConfChange({kind: 'v1', id: 0, type: ConfChangeType.AddLearnerNode, nodeId: 2, context: new Uint8Array(0)})
    s.append([...termsFrom(1, 1, 1), newEntry({index: 3, term: 1, entryType: EntryType.EntryConfChange, data: cc})])
    s.setHardState({term: 1, vote: 0, commit: 2})
    const r = newTestRaft(1, 10, 1, s)
    // Voters (1 2 3): one rejection does not decide the election, so only the conf change can
    // make the candidate step down.
    r.step(localMsg(1, MessageType.MsgHup))
    expect(r.state).to.equal(StateRole.Candidate)
    readMessages(r)
    r.step(voteResp(r, true, 3, 1))
    expect(r.raftLog.committed).to.equal(3)
    expect(r.state).to.equal(StateRole.Follower)
  })
})

/**
 * Follower 1 of voters (1 2 3) whose log ends with a committed, unapplied conf change (index 3),
 * after it has received MsgTimeoutNow from leader 2.
 */
function timedOutWithConfChangeUnapplied(): ReturnType<typeof newTestRaft> {
  const s = newTestStorage([1, 2, 3])
  const cc = encodeConfChange({kind: 'v1', id: 0, type: ConfChangeType.AddLearnerNode, nodeId: 3, context: new Uint8Array(0)})
  s.append([...termsFrom(1, 1, 1), newEntry({index: 3, term: 1, entryType: EntryType.EntryConfChange, data: cc})])
  s.setHardState({term: 1, vote: 0, commit: 3})
  const r = newTestRaft(1, 10, 1, s)
  r.step(newMessage({msgType: MessageType.MsgTimeoutNow, from: 2, to: 1, term: 1}))
  return r
}

describe('thesis §3.10: MsgTimeoutNow received before a committed conf change is applied', () => {
  it('is deferred: the node campaigns (a transfer campaign) as soon as it has applied the change', () => {
    const r = timedOutWithConfChangeUnapplied()
    // It must not campaign with a committed conf change unapplied (Raft.hup)...
    expect([r.state, r.pendingTimeoutNow]).to.deep.equal([StateRole.Follower, true])
    expect(readMessages(r)).to.deep.equal([])
    // ...and campaigns once the application has applied it.
    r.onApplied(r.raftLog.slice(1, 4, Number.POSITIVE_INFINITY))
    expect([r.state, r.term, r.pendingTimeoutNow]).to.deep.equal([StateRole.Candidate, 2, false])
    const votes = readMessages(r).filter((m) => m.msgType === MessageType.MsgRequestVote)
    expect(votes.map((m) => [m.to, new TextDecoder().decode(m.context)])).to.deep.equal([[2, 'CampaignTransfer'], [3, 'CampaignTransfer']])
  })

  it('is forgotten when the node hears of a newer term first', () => {
    const r = timedOutWithConfChangeUnapplied()
    r.step(newMessage({msgType: MessageType.MsgHeartbeat, from: 3, to: 1, term: 2, commit: 3}))
    expect([r.state, r.lead, r.pendingTimeoutNow]).to.deep.equal([StateRole.Follower, 3, false])
    r.onApplied(r.raftLog.slice(1, 4, Number.POSITIVE_INFINITY))
    expect(r.state).to.equal(StateRole.Follower)
  })
})

describe('thesis §4.2.2 / §3.10: a leader leaving the voters, end to end', () => {
  it('a removed leader hands over to an up-to-date voter, which is elected without waiting for a timeout', () => {
    const n = new Network([null, null, null])
    n.send(localMsg(1, MessageType.MsgHup))
    const r1 = n.raft(1)
    expect(r1.state).to.equal(StateRole.Leader)
    const cc = {kind: 'v1', id: 0, type: ConfChangeType.RemoveNode, nodeId: 1, context: new Uint8Array(0)} as const
    n.send(newMessage({msgType: MessageType.MsgPropose, from: 1, to: 1,
      entries: [newEntry({term: 0, index: 0, entryType: EntryType.EntryConfChange, data: encodeConfChange(cc)})]}))
    expect(r1.raftLog.committed).to.equal(r1.raftLog.lastIndex())
    // Every node applies the change (the followers learn the commit from the next append).
    n.send(localMsg(1, MessageType.MsgBeat))
    for (const id of [2, 3, 1]) {
      const r = n.raft(id)
      expect(r.raftLog.committed, `node ${id} commit`).to.equal(r1.raftLog.lastIndex())
      r.raftLog.appliedTo(r.raftLog.committed)
      applyConfChange(r, cc)
    }
    // The leader stepped down and handed over to node 2 (the lowest voter with its whole log).
    expect(r1.state).to.equal(StateRole.Follower)
    const handover = readMessages(r1)
    expect(handover.map((m) => [MessageType[m.msgType], m.to])).to.deep.equal([['MsgTimeoutNow', 2]])
    n.send(...handover)
    expect(n.raft(2).state).to.equal(StateRole.Leader)
    expect(n.raft(3).lead).to.equal(2)
    expect(n.raft(2).term).to.equal(r1.term + 1)
  })
})

describe('thesis §4.2.2 / §3.10: a leader leaving the voters while clients keep writing (RawNode)', () => {
  const enc = new TextEncoder()

  /** One round: every running node handles its Ready, then the queued messages are delivered. */
  function round(c: Cluster): void {
    for (const id of [...c.nodes.keys()].sort((a, b) => a - b)) while (c.processReady(id)) { /* drain */ }
    c.deliver()
  }

  /** A client write at `id`; returns the reason it was dropped, or '' when it was accepted. */
  function write(c: Cluster, id: number, data: string): string {
    try {
      c.rn(id).propose(enc.encode(data))
      return ''
    } catch (err) {
      if (err instanceof ProposalDroppedError) return err.reason
      throw err
    }
  }

  for (const [what, change] of [['demotes itself', ConfChangeType.AddLearnerNode], ['removes itself', ConfChangeType.RemoveNode]] as const) {
    it(`a leader that ${what} with writes in flight hands over without any election timeout`, () => {
      const c = new Cluster([1, 2, 3])
      c.campaign(1)
      const term = c.rn(1).raft.term
      // A write is in flight (appended, not yet replicated) when the change is proposed, and the
      // client keeps writing to node 1 every round, then to the new leader once there is one.
      expect(write(c, 1, 'w0')).to.equal('')
      c.rn(1).proposeConfChange({kind: 'v1', id: 0, type: change, nodeId: 1, context: new Uint8Array(0)})
      const drops = new Set<string>()
      let accepted = 0
      // No node ever ticks: a new leader can only come from the MsgTimeoutNow hand-over.
      for (let i = 0; i < 30 && accepted < 3; i++) {
        const lead = c.leader()
        const reason = write(c, lead === 0 ? 1 : lead, `w${i + 1}`)
        if (reason === '') accepted++
        else drops.add(reason)
        round(c)
      }
      c.stabilize()
      const lead = c.leader()
      expect(lead, 'a voter of the new config leads').to.be.oneOf([2, 3])
      expect(c.rn(lead).raft.term, 'elected in the next term, by the hand-over').to.equal(term + 1)
      expect(c.deliveredOf(MessageType.MsgTimeoutNow).map((m) => [m.from, m.to])).to.deep.equal([[1, lead]])
      // Writes proposed while node 1 was leaving were refused with a reason the client retries on
      // (or forwarded to no leader at all for a moment); none was appended after the change.
      expect([...drops].every((r) => r === 'leader-stepping-down' || r === 'no-leader'), [...drops].join()).to.equal(true)
      expect(drops.has('leader-stepping-down')).to.equal(true)
      expect(accepted, 'writes accepted by the new leader').to.equal(3)
      // The write in flight and the accepted writes are applied by every member (node 1 only
      // while it is one), in the same order.
      const applied = c.node(lead).applied
      expect(applied[0]).to.equal('w0')
      expect(applied).to.have.length(4)
      const members = change === ConfChangeType.RemoveNode ? [2, 3] : [1, 2, 3]
      for (const id of members) expect(c.node(id).applied, `node ${id}`).to.deep.equal(applied)
      if (change === ConfChangeType.RemoveNode) expect(c.node(1).applied).to.deep.equal(['w0'])
    })
  }
})
