// Raft thesis §4.3 (arbitrary configuration changes using joint consensus) with ConfChangeV2:
// Auto / Implicit / Explicit transitions, auto-leave by the leader (also after a leadership
// change, DESIGN.md §2), learnersNext for a demoted voter, joint quorums for commit and
// elections, and replacing the leader. End to end through RawNode.
import {expect} from 'chai'
import {ProposalDroppedError} from '../../../src/raft/errors.js'
import {StateRole} from '../../../src/raft/role.js'
import {
  type ConfChangeSingle, ConfChangeTransition, ConfChangeType, type ConfChangeV2, type ConfState, EntryType,
  MessageType,
} from '../../../src/raft/types.js'
import {Cluster} from './cluster.js'

const {AddNode, RemoveNode, AddLearnerNode} = ConfChangeType
const {Auto, Implicit, Explicit} = ConfChangeTransition
const NO_CTX = new Uint8Array(0)

function v2(transition: ConfChangeTransition, ...changes: ConfChangeSingle[]): ConfChangeV2 {
  return {kind: 'v2', transition, changes, context: NO_CTX}
}
const LEAVE = v2(Auto)

function cs(voters: number[], extra: Partial<ConfState> = {}): ConfState {
  return {voters, learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false, ...extra}
}

function expectAll(c: Cluster, ids: number[], want: ConfState): void {
  for (const id of ids) expect(c.node(id).confState, `node ${id}`).to.deep.equal(want)
}

/** Whether a message carries the empty ConfChangeV2 that leaves a joint config. */
function carriesLeave(m: {msgType: MessageType; entries: readonly {entryType: EntryType; data: Uint8Array}[]}): boolean {
  return m.msgType === MessageType.MsgAppend &&
    m.entries.some((e) => e.entryType === EntryType.EntryConfChangeV2 && e.data.length === 0)
}

describe('thesis §4.3 joint consensus', () => {
  it('several changes (Auto) enter a joint config that the leader leaves automatically', () => {
    const c = new Cluster([1, 2, 3], {learners: [4]})
    c.campaign(1)
    c.proposeConfChange(1, v2(Auto, {type: AddNode, nodeId: 4}, {type: RemoveNode, nodeId: 3}))
    const joint = cs([1, 2, 4], {votersOutgoing: [1, 2, 3], autoLeave: true})
    for (const id of [1, 2, 3, 4]) {
      expect(c.node(id).confHistory, `node ${id}`).to.deep.equal([cs([1, 2, 3], {learners: [4]}), joint, cs([1, 2, 4])])
    }
    c.propose(1, 'after')
    expect(c.node(4).applied).to.deep.equal(['after'])
  })

  it('a single change with the Implicit transition still goes through a joint config, left automatically', () => {
    const c = new Cluster([1, 2, 3])
    c.campaign(1)
    c.proposeConfChange(1, v2(Implicit, {type: AddLearnerNode, nodeId: 4}))
    expect(c.node(2).confHistory.slice(1)).to.deep.equal([
      cs([1, 2, 3], {votersOutgoing: [1, 2, 3], learners: [4], autoLeave: true}),
      cs([1, 2, 3], {learners: [4]}),
    ])
  })

  it('a single Auto change is simple: no joint config', () => {
    const c = new Cluster([1, 2, 3])
    c.campaign(1)
    c.proposeConfChange(1, v2(Auto, {type: AddLearnerNode, nodeId: 4}))
    expect(c.node(2).confHistory.slice(1)).to.deep.equal([cs([1, 2, 3], {learners: [4]})])
  })

  it('Explicit: stays joint until the application proposes the empty ConfChangeV2; other changes are refused meanwhile', () => {
    const c = new Cluster([1, 2, 3], {learners: [4]})
    c.campaign(1)
    c.proposeConfChange(1, v2(Explicit, {type: AddNode, nodeId: 4}, {type: RemoveNode, nodeId: 3}))
    const joint = cs([1, 2, 4], {votersOutgoing: [1, 2, 3]})
    expectAll(c, [1, 2, 3, 4], joint)
    c.tick(5)
    expectAll(c, [1, 2, 3, 4], joint)
    expect(() => c.rn(1).proposeConfChange(v2(Auto, {type: AddLearnerNode, nodeId: 5})))
      .to.throw(ProposalDroppedError, /must transition out of joint config first/)
    expect(() => c.rn(1).proposeConfChange(v2(Explicit)))
      .to.throw(ProposalDroppedError, /must use the Auto transition/)
    c.proposeConfChange(1, LEAVE)
    expectAll(c, [1, 2, 4], cs([1, 2, 4]))
    expect(() => c.rn(1).proposeConfChange(LEAVE)).to.throw(ProposalDroppedError, /not in joint state/)
  })

  it('a demoted voter waits in learnersNext while it is in the outgoing half', () => {
    const c = new Cluster([1, 2, 3])
    c.campaign(1)
    c.proposeConfChange(1, v2(Explicit, {type: RemoveNode, nodeId: 3}, {type: AddLearnerNode, nodeId: 3}))
    expectAll(c, [1, 2, 3], cs([1, 2], {votersOutgoing: [1, 2, 3], learnersNext: [3]}))
    c.proposeConfChange(1, LEAVE)
    expectAll(c, [1, 2, 3], cs([1, 2], {learners: [3]}))
    expect(c.rn(3).raft.isLearner).to.equal(true)
    c.propose(1, 'learner still replicates')
    expect(c.node(3).applied).to.include('learner still replicates')
  })

  it('commit in a joint config needs a majority of both halves', () => {
    const c = new Cluster([1, 2, 3], {learners: [4, 5]})
    c.campaign(1)
    c.proposeConfChange(1, v2(Explicit, {type: AddNode, nodeId: 4}, {type: AddNode, nodeId: 5},
      {type: RemoveNode, nodeId: 2}, {type: RemoveNode, nodeId: 3}))
    expect(c.node(1).confState).to.deep.equal(cs([1, 4, 5], {votersOutgoing: [1, 2, 3]}))
    c.isolate(2)
    c.isolate(3)
    c.propose(1, 'needs the old majority too')
    expect(c.node(4).applied).to.deep.equal([])
    expect(c.rn(1).status().commit).to.be.lessThan(c.rn(1).raft.raftLog.lastIndex())
    c.heal()
    c.tick(2)
    expect(c.node(4).applied).to.deep.equal(['needs the old majority too'])
  })

  it('an election in a joint config needs votes from both halves', () => {
    const c = new Cluster([1, 2, 3], {learners: [4, 5]})
    c.campaign(1)
    c.proposeConfChange(1, v2(Explicit, {type: AddNode, nodeId: 4}, {type: AddNode, nodeId: 5},
      {type: RemoveNode, nodeId: 2}, {type: RemoveNode, nodeId: 3}))
    c.crash(1)
    c.isolate(2)
    c.isolate(3)
    c.campaign(4)
    expect(c.rn(4).status().role).to.equal(StateRole.Candidate)
    c.heal()
    c.campaign(4)
    expect(c.leader()).to.equal(4)
  })

  it('replaces the leader: it leads the joint config, then steps down once removed', () => {
    const c = new Cluster([1, 2, 3], {learners: [4]})
    c.campaign(1)
    c.propose(1, 'before')
    c.proposeConfChange(1, v2(Auto, {type: AddNode, nodeId: 4}, {type: RemoveNode, nodeId: 1}))
    expect(c.node(2).confHistory.at(-2)).to.deep.equal(cs([2, 3, 4], {votersOutgoing: [1, 2, 3], autoLeave: true}))
    expectAll(c, [1, 2, 3, 4], cs([2, 3, 4]))
    expect(c.rn(1).status().role).to.equal(StateRole.Follower)
    c.tick(30)
    const l = c.leader()
    expect([2, 3, 4]).to.include(l)
    c.propose(l, 'after')
    expect(c.node(4).applied).to.deep.equal(['before', 'after'])
  })

  it('auto-leave by a leader elected before the joint change committed (the leader stepped down mid-change)', () => {
    const c = new Cluster([1, 2, 3], {learners: [4]})
    c.campaign(1)
    // Node 1's acknowledgements are lost: it never commits the joint change.
    c.msgHook = (m) => !(m.to === 1 && m.msgType === MessageType.MsgAppendResponse)
    c.proposeConfChange(1, v2(Auto, {type: AddNode, nodeId: 4}, {type: RemoveNode, nodeId: 1}))
    expect(c.node(1).confState).to.deep.equal(cs([1, 2, 3], {learners: [4]}))
    c.msgHook = undefined
    c.crash(1)
    c.campaign(2)
    expect(c.leader()).to.equal(2)
    // Node 2 committed the joint change with its first entry and left it by itself.
    for (const id of [2, 3, 4]) {
      expect(c.node(id).confHistory.slice(1), `node ${id}`).to.deep.equal([
        cs([2, 3, 4], {votersOutgoing: [1, 2, 3], autoLeave: true}), cs([2, 3, 4]),
      ])
    }
  })

  it('auto-leave by a new leader when the old one applied the joint change but its leave entry was lost', () => {
    const c = new Cluster([1, 2, 3], {learners: [4]})
    c.campaign(1)
    c.msgHook = (m) => !(m.from === 1 && carriesLeave(m))
    c.proposeConfChange(1, v2(Implicit, {type: AddNode, nodeId: 4}, {type: RemoveNode, nodeId: 3}))
    const joint = cs([1, 2, 4], {votersOutgoing: [1, 2, 3], autoLeave: true})
    expectAll(c, [1, 2, 3, 4], joint)
    // The old leader proposed the leave, but nobody received it; then it crashed.
    expect(c.rn(1).raft.pendingConfIndex).to.equal(c.rn(1).raft.raftLog.lastIndex())
    c.crash(1)
    c.msgHook = undefined
    c.campaign(2)
    expect(c.leader()).to.equal(2)
    expectAll(c, [2, 3, 4], cs([1, 2, 4]))
  })

  it('no auto-leave for an Explicit joint config, whoever leads', () => {
    const c = new Cluster([1, 2, 3], {learners: [4]})
    c.campaign(1)
    c.proposeConfChange(1, v2(Explicit, {type: AddNode, nodeId: 4}, {type: RemoveNode, nodeId: 3}))
    c.campaign(2)
    expect(c.leader()).to.equal(2)
    c.tick(3)
    expectAll(c, [1, 2, 4], cs([1, 2, 4], {votersOutgoing: [1, 2, 3]}))
  })

  it('an auto-leave dropped during a leadership transfer is proposed once the transfer is aborted', () => {
    const c = new Cluster([1, 2, 3], {learners: [4]})
    c.campaign(1)
    c.isolate(3)
    c.rn(1).proposeConfChange(v2(Auto, {type: AddNode, nodeId: 4}, {type: RemoveNode, nodeId: 3}))
    // A transfer to an unreachable node: it cannot finish, and blocks proposals meanwhile.
    c.rn(1).transferLeader(3)
    c.stabilize()
    const joint = cs([1, 2, 4], {votersOutgoing: [1, 2, 3], autoLeave: true})
    expectAll(c, [1, 2, 4], joint)
    expect(c.rn(1).raft.leadTransferee).to.equal(3)
    // After an election timeout the transfer is aborted and the leave is proposed.
    c.tick(12, 1)
    expect(c.rn(1).raft.leadTransferee).to.equal(0)
    c.tick(2)
    expectAll(c, [1, 2, 4], cs([1, 2, 4]))
  })
})
