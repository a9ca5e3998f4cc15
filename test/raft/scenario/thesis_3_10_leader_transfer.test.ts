// Raft thesis §3.10 (leadership transfer): MsgTransferLeader / MsgTimeoutNow, catching the
// target up first, aborting after an election timeout, dropping proposals meanwhile. Ported from
// etcd-io/raft raft_test.go.
import {expect} from 'chai'
import {ProposalDroppedError} from '../../../src/raft/errors.js'
import type {Raft} from '../../../src/raft/raft.js'
import {applyConfChange} from '../../../src/raft/raft_apply_conf.js'
import {StateRole} from '../../../src/raft/role.js'
import {
  ConfChangeTransition, ConfChangeType, type Message, MessageType, newEntry, newMessage,
} from '../../../src/raft/types.js'
import {
  localMsg, Network, newTestRaft, newTestRaftPeers, newTestStorage, nextEnts, readMessages,
} from './network.js'

const {Follower, Leader} = StateRole

function transfer(from: number, to: number): Message {
  return newMessage({msgType: MessageType.MsgTransferLeader, from, to})
}

function emptyProp(id = 1): Message {
  return newMessage({msgType: MessageType.MsgPropose, from: id, to: id, entries: [newEntry({term: 0, index: 0})]})
}

function checkLeaderTransferState(r: Raft, state: StateRole, lead: number): void {
  expect([r.state, r.lead, r.leadTransferee]).to.deep.equal([state, lead, 0])
}

function elected(extra = {}): {n: Network; lead: Raft} {
  const n = new Network([null, null, null], () => extra)
  n.send(localMsg(1, MessageType.MsgHup))
  const lead = n.raft(1)
  expect(lead.lead).to.equal(1)
  return {n, lead}
}

describe('thesis §3.10 leadership transfer', () => {
  it('transfers to an up-to-date node and back (etcd TestLeaderTransferToUpToDateNode)', () => {
    const {n, lead} = elected()
    n.send(transfer(2, 1))
    checkLeaderTransferState(lead, Follower, 2)
    n.send(emptyProp())
    n.send(transfer(1, 2))
    checkLeaderTransferState(lead, Leader, 1)
  })

  it('a follower forwards the request to the leader (etcd TestLeaderTransferToUpToDateNodeFromFollower)', () => {
    const {n, lead} = elected()
    n.send(transfer(2, 2))
    checkLeaderTransferState(lead, Follower, 2)
    n.send(emptyProp())
    n.send(transfer(1, 1))
    checkLeaderTransferState(lead, Leader, 1)
  })

  it('the forced campaign ignores leader leases (etcd TestLeaderTransferWithCheckQuorum)', () => {
    const {n, lead} = (() => {
      const rafts = [1, 2, 3].map((id) => newTestRaftPeers(id, [1, 2, 3], {checkQuorum: true}))
      rafts.forEach((r, i) => { r.randomizedElectionTimeout = r.electionTimeout + i + 1 })
      const net = new Network(rafts)
      for (let i = 0; i < rafts[1].electionTimeout; i++) rafts[1].tick()
      net.send(localMsg(1, MessageType.MsgHup))
      return {n: net, lead: rafts[0]}
    })()
    expect(lead.lead).to.equal(1)
    n.send(transfer(2, 1))
    checkLeaderTransferState(lead, Follower, 2)
    n.send(emptyProp())
    n.send(transfer(1, 2))
    checkLeaderTransferState(lead, Leader, 1)
  })

  it('catches a slow target up before sending MsgTimeoutNow (etcd TestLeaderTransferToSlowFollower)', () => {
    const {n, lead} = elected()
    n.isolate(3)
    n.send(emptyProp())
    n.recover()
    expect(lead.trk.progress.get(3)!.match).to.equal(1)
    n.send(transfer(3, 1))
    checkLeaderTransferState(lead, Follower, 3)
  })

  it('a target that needs a snapshot gets it first (etcd TestLeaderTransferAfterSnapshot)', () => {
    const {n, lead} = elected()
    n.isolate(3)
    n.send(emptyProp())
    nextEnts(lead, n.storage.get(1)!)
    n.storage.get(1)!.createSnapshot(lead.raftLog.applied, lead.trk.confState(), new Uint8Array(0))
    n.storage.get(1)!.compact(lead.raftLog.applied)
    n.recover()
    expect(lead.trk.progress.get(3)!.match).to.equal(1)
    let filtered: Message | undefined
    // The follower's answer to the snapshot is held back until it has applied it.
    n.msgHook = (m) => {
      if (m.msgType !== MessageType.MsgAppendResponse || m.from !== 3 || m.reject) return true
      filtered = m
      return false
    }
    n.send(transfer(3, 1))
    expect(lead.state).to.equal(Leader)
    expect(filtered?.msgType).to.equal(MessageType.MsgAppendResponse)
    const follower = n.raft(3)
    const snap = follower.raftLog.nextUnstableSnapshot()!
    n.storage.get(3)!.applySnapshot(snap)
    follower.onPersisted(0, 0, snap.metadata.index)
    n.msgHook = undefined
    n.send(filtered!)
    checkLeaderTransferState(lead, Follower, 3)
  })

  it('a transfer to itself or to an unknown node is a no-op (etcd TestLeaderTransferToSelf / ToNonExistingNode)', () => {
    const {n, lead} = elected()
    n.send(transfer(1, 1))
    checkLeaderTransferState(lead, Leader, 1)
    n.send(transfer(4, 1))
    checkLeaderTransferState(lead, Leader, 1)
  })

  it('a transfer that does not finish within an election timeout is aborted (etcd TestLeaderTransferTimeout)', () => {
    const {n, lead} = elected()
    n.isolate(3)
    n.send(transfer(3, 1))
    expect(lead.leadTransferee).to.equal(3)
    for (let i = 0; i < lead.heartbeatTimeout; i++) lead.tick()
    expect(lead.leadTransferee).to.equal(3)
    for (let i = 0; i < lead.electionTimeout - lead.heartbeatTimeout; i++) lead.tick()
    checkLeaderTransferState(lead, Leader, 1)
  })

  it('proposals are dropped with reason transfer-in-progress (etcd TestLeaderTransferIgnoreProposal)', () => {
    const {n, lead} = elected()
    n.isolate(3)
    n.send(transfer(3, 1))
    expect(lead.leadTransferee).to.equal(3)
    n.send(emptyProp())
    let err: unknown
    try {
      lead.step(emptyProp())
    } catch (e) {
      err = e
    }
    expect(err).to.be.instanceOf(ProposalDroppedError)
    expect((err as ProposalDroppedError).reason).to.equal('transfer-in-progress')
    expect(lead.trk.progress.get(1)!.match).to.equal(1)
  })

  it('a higher-term vote during a transfer ends it (etcd TestLeaderTransferReceiveHigherTermVote)', () => {
    const {n, lead} = elected()
    n.isolate(3)
    n.send(transfer(3, 1))
    expect(lead.leadTransferee).to.equal(3)
    n.send(newMessage({msgType: MessageType.MsgHup, from: 2, to: 2, index: 1, term: 2}))
    checkLeaderTransferState(lead, Follower, 2)
  })

  it('removing or demoting the target aborts the transfer (etcd TestLeaderTransferRemoveNode / DemoteNode)', () => {
    {
      const {n, lead} = elected()
      n.ignore(MessageType.MsgTimeoutNow)
      n.send(transfer(3, 1))
      expect(lead.leadTransferee).to.equal(3)
      applyConfChange(lead, {kind: 'v1', id: 0, type: ConfChangeType.RemoveNode, nodeId: 3, context: new Uint8Array(0)})
      checkLeaderTransferState(lead, Leader, 1)
    }
    {
      const {n, lead} = elected()
      n.ignore(MessageType.MsgTimeoutNow)
      n.send(transfer(3, 1))
      expect(lead.leadTransferee).to.equal(3)
      applyConfChange(lead, {
        kind: 'v2', transition: ConfChangeTransition.Auto, context: new Uint8Array(0),
        changes: [{type: ConfChangeType.RemoveNode, nodeId: 3}, {type: ConfChangeType.AddLearnerNode, nodeId: 3}],
      })
      applyConfChange(lead, {kind: 'v2', transition: ConfChangeTransition.Auto, changes: [], context: new Uint8Array(0)})
      checkLeaderTransferState(lead, Leader, 1)
    }
  })

  it('a transfer back to the leader itself cancels it (etcd TestLeaderTransferBack)', () => {
    const {n, lead} = elected()
    n.isolate(3)
    n.send(transfer(3, 1))
    expect(lead.leadTransferee).to.equal(3)
    n.send(transfer(1, 1))
    checkLeaderTransferState(lead, Leader, 1)
  })

  it('a second transfer to another node replaces the first (etcd TestLeaderTransferSecondTransferToAnotherNode)', () => {
    const {n, lead} = elected()
    n.isolate(3)
    n.send(transfer(3, 1))
    expect(lead.leadTransferee).to.equal(3)
    n.send(transfer(2, 1))
    checkLeaderTransferState(lead, Follower, 2)
  })

  it('a second transfer to the same node does not extend the timeout (etcd TestLeaderTransferSecondTransferToSameNode)', () => {
    const {n, lead} = elected()
    n.isolate(3)
    n.send(transfer(3, 1))
    expect(lead.leadTransferee).to.equal(3)
    for (let i = 0; i < lead.heartbeatTimeout; i++) lead.tick()
    n.send(transfer(3, 1))
    for (let i = 0; i < lead.electionTimeout - lead.heartbeatTimeout; i++) lead.tick()
    checkLeaderTransferState(lead, Leader, 1)
  })

  it('a transfer to a learner is ignored, and a learner ignores MsgTimeoutNow', () => {
    const rafts = [1, 2].map((id) => newTestRaft(id, 10, 1, newTestStorage([1], [2])))
    const n = new Network(rafts)
    n.send(localMsg(1, MessageType.MsgHup))
    const lead = rafts[0]
    expect(lead.state).to.equal(Leader)
    n.send(transfer(2, 1))
    checkLeaderTransferState(lead, Leader, 1)
    n.send(newMessage({msgType: MessageType.MsgTimeoutNow, from: 1, to: 2, term: lead.term}))
    expect(rafts[1].state).to.equal(Follower)
    expect(lead.state).to.equal(Leader)
  })

  it('a node that is not a member ignores MsgTimeoutNow (etcd TestTransferNonMember)', () => {
    const r = newTestRaft(1, 5, 1, newTestStorage([2, 3, 4]))
    r.step(newMessage({msgType: MessageType.MsgTimeoutNow, from: 2, to: 1}))
    r.step(newMessage({msgType: MessageType.MsgRequestVoteResponse, from: 2, to: 1}))
    r.step(newMessage({msgType: MessageType.MsgRequestVoteResponse, from: 3, to: 1}))
    expect(r.state).to.equal(Follower)
  })

  it('MsgTimeoutNow makes a follower campaign at once, without pre-vote, carrying the transfer context', () => {
    const r = newTestRaftPeers(2, [1, 2, 3], {preVote: true})
    r.becomeFollower(1, 1)
    r.step(newMessage({msgType: MessageType.MsgTimeoutNow, from: 1, to: 2, term: 1}))
    expect([r.state, r.term]).to.deep.equal([StateRole.Candidate, 2])
    const votes = readMessages(r).filter((m) => m.msgType === MessageType.MsgRequestVote)
    expect(votes.map((m) => new TextDecoder().decode(m.context))).to.deep.equal(['CampaignTransfer', 'CampaignTransfer'])
  })
})
