import {expect} from 'chai'
import {MemberChangeRequest_Change_Kind as Kind, MemberStatus_Role} from '../../src/generated/raftctl/v1/raftctl.js'
import {type ConfState, ConfChangeTransition, ConfChangeType, EMPTY_CONF_STATE, type ProgressStatus, ProgressState} from '../../src/raft/index.js'
import {status} from '@grpc/grpc-js'
import {NodeError} from '../../src/server/errors.js'
import {ETCD_ERRORS as ETCD_FACTS} from '../compat/etcd_facts.js'
import {memberStatuses, roleOf} from '../../src/server/member_status.js'
import {
  checkLeaveJoint, checkTransferTarget, planAdd, planChange, planDemote, planPromote, planRemove, type RuleContext,
  transferObstacle,
} from '../../src/server/membership.js'

const member = (id: number) => ({id, name: `node${id}`, peerUrls: [`127.0.0.1:${2380 + id}`], clientUrls: []})
const progress = (match: number, recentActive = true): ProgressStatus => ({
  match, next: match + 1, state: ProgressState.Replicate, isLearner: false, pendingSnapshot: 0, recentActive, paused: false, inflight: 0,
})

function view(cs: Partial<ConfState>, opts: {last?: number, matches?: Record<number, number>, down?: number[], maxLearners?: number} = {}): RuleContext {
  const conf = {...EMPTY_CONF_STATE, ...cs}
  const ids = [...new Set([...conf.voters, ...conf.learners, ...conf.votersOutgoing, ...conf.learnersNext])]
  const down = new Set(opts.down ?? [])
  const prog = new Map(ids.map((id) => [id, progress(opts.matches?.[id] ?? opts.last ?? 100, !down.has(id))]))
  return {
    selfId: 1, leaderId: 1, confState: conf, members: new Map(ids.map((id) => [id, member(id)])),
    leaderLastIndex: opts.last ?? 100, progress: prog, maxLearners: opts.maxLearners ?? 1,
    isReachable: (id) => id === 1 || prog.get(id)?.recentActive === true,
  }
}

function refused(f: () => unknown, pattern: RegExp): NodeError {
  try {
    f()
  } catch (err) {
    expect(err).to.be.instanceOf(NodeError)
    // raftctl's sentence: the message itself, or the detail of etcd's error for the case.
    const e = err as NodeError
    expect(e.detail ?? e.message).to.match(pattern)
    return err as NodeError
  }
  throw new Error('expected a refusal')
}

/** etcd's observed errors, and the one raftctl adds for an id chosen with raftctl-member-id. */
const OBSERVED = {...ETCD_FACTS, memberExists: {code: 'FAILED_PRECONDITION', details: 'etcdserver: member ID already exist'}}

const add = (id: number, isLearner: boolean, force = false) =>
  ({id, name: '', peerUrls: [`127.0.0.1:${3000 + id}`], isLearner, force, clientUrls: []})

describe('server/membership rules', () => {
  it('adds a learner with its metadata, and refuses more learners than --max-learners', () => {
    const p = planAdd(view({voters: [1, 2, 3]}), add(4, true))
    expect(p.cc.changes).to.deep.equal([{type: ConfChangeType.AddLearnerNode, nodeId: 4}])
    // No name yet: the member is "unstarted" (etcd's word) until the node publishes its name.
    expect(p.added).to.deep.equal([{id: 4, name: '', peerUrls: ['127.0.0.1:3004'], clientUrls: []}])
    refused(() => planAdd(view({voters: [1, 2, 3], learners: [4]}), add(5, true)),
      /already has 1 learner\(s\) and --max-learners is 1/)
    expect(planAdd(view({voters: [1, 2, 3], learners: [4]}, {maxLearners: 2}), add(5, true)).added).to.have.length(1)
  })

  it('refuses a direct voter add that the reachable voters could not carry, unless forced', () => {
    expect(planAdd(view({voters: [1, 2, 3]}), add(4, false)).cc.changes[0].type).to.equal(ConfChangeType.AddNode)
    refused(() => planAdd(view({voters: [1, 2, 3]}, {down: [3]}), add(4, false)),
      /adding voter 4 would leave 4 voters, which need 3 for a quorum, but only 2 of them are reachable now/)
    expect(planAdd(view({voters: [1, 2, 3]}, {down: [3]}), add(4, false, true)).added).to.have.length(1)
    refused(() => planAdd(view({voters: [1]}), add(2, false)), /which need 2 for a quorum, but only 1/)
  })

  it('refuses an id or peer URL already in use and a malformed URL', () => {
    const etcd = (e: NodeError) => [status[e.grpcCode], e.message]
    expect(etcd(refused(() => planAdd(view({voters: [1, 2]}), add(2, true)), /node 2 is already a member/)))
      .to.deep.equal([OBSERVED.memberExists.code, OBSERVED.memberExists.details])
    expect(etcd(refused(() => planAdd(view({voters: [1, 2]}), {...add(5, true), peerUrls: ['127.0.0.1:2382']}), /already used by node 2/)))
      .to.deep.equal([OBSERVED.peerURLExists.code, OBSERVED.peerURLExists.details])
    expect(etcd(refused(() => planAdd(view({voters: [1]}), {...add(5, true), peerUrls: ['nope']}), /is not host:port/)))
      .to.deep.equal([OBSERVED.memberBadURLs.code, OBSERVED.memberBadURLs.details])
    refused(() => planAdd(view({voters: [1]}), {...add(5, true), peerUrls: []}), /needs at least one peer URL/)
    expect(planAdd(view({voters: [1]}), {...add(5, true), peerUrls: ['http://127.0.0.1:2390']}).added[0].peerUrls,
      'etcd\'s URL form is accepted and stored as host:port').to.deep.equal(['127.0.0.1:2390'])
    refused(() => planAdd(view({voters: [1]}), add(0, true)), /is not a node id/)
  })

  it('promotes a learner only at 90% of the leader\'s last index, saying how far behind it is', () => {
    const v = (match: number) => view({voters: [1, 2, 3], learners: [4]}, {last: 200, matches: {4: match}})
    expect(planPromote(v(180), 4, false)!.cc.changes).to.deep.equal([{type: ConfChangeType.AddNode, nodeId: 4}])
    refused(() => planPromote(v(179), 4, false),
      /learner 4 is not caught up: its match index 179 is 89% of the leader's last index 200 \(21 entries behind\); promotion needs at least 90%/)
    expect(planPromote(v(0), 4, true)).to.not.equal(undefined)
    expect(planPromote(v(0), 2, false)).to.equal(undefined)
    refused(() => planPromote(v(0), 9, false), /node 9 is not a member/)
  })

  it('refuses with etcd\'s code and text where etcd has the case, raftctl\'s sentence as detail', () => {
    const etcd = (e: NodeError) => [status[e.grpcCode], e.message]
    const cases: Array<[() => unknown, keyof typeof OBSERVED]> = [
      [() => planAdd(view({voters: [1, 2, 3], learners: [4]}), add(5, true)), 'tooManyLearners'],
      [() => planAdd(view({voters: [1, 2, 3]}, {down: [3]}), add(4, false)), 'unhealthyCluster'],
      [() => planRemove(view({voters: [1, 2, 3]}, {down: [2]}), 3), 'unhealthyCluster'],
      [() => planPromote(view({voters: [1, 2, 3], learners: [4]}, {last: 200, matches: {4: 10}}), 4, false), 'learnerNotReady'],
      [() => planPromote(view({voters: [1]}), 9, false), 'memberNotFound'],
      [() => planRemove(view({voters: [1]}), 9), 'memberNotFound'],
      [() => planDemote(view({voters: [1]}), 9), 'memberNotFound'],
    ]
    for (const [f, kind] of cases) expect(etcd(refused(f, /./)), kind).to.deep.equal([OBSERVED[kind].code, OBSERVED[kind].details])
    const joint = refused(() => planRemove(view({voters: [1, 2], votersOutgoing: [1, 3]}), 2), /joint configuration; leave it first/)
    expect([status[joint.grpcCode], joint.detail], 'etcd has no such case: raftctl\'s sentence is the message').to.deep.equal(['FAILED_PRECONDITION', undefined])
  })

  it('demotes a voter, accepts a learner as is, and keeps the last voter', () => {
    expect(planDemote(view({voters: [1, 2, 3]}), 3)!.cc.changes).to.deep.equal([{type: ConfChangeType.AddLearnerNode, nodeId: 3}])
    expect(planDemote(view({voters: [1, 2], learners: [3]}), 3)).to.equal(undefined)
    refused(() => planDemote(view({voters: [1]}), 1), /only voter/)
  })

  it('refuses a demotion whose remaining voters could not form a quorum, as a removal (issue 11 #3)', () => {
    // Voters (1 2 3), node 3 down: demoting 1 or 2 leaves two voters of which one is reachable.
    const v = view({voters: [1, 2, 3]}, {down: [3]})
    for (const id of [1, 2]) {
      const demote = refused(() => planDemote(v, id), new RegExp(`demoting voter ${id} would leave 2 voters, which need 2 for a quorum, but only 1 of them are reachable now`))
      const remove = refused(() => planRemove(v, id), new RegExp(`removing voter ${id} would leave 2 voters, which need 2 for a quorum, but only 1 of them are reachable now`))
      const change = refused(() => planChange(v, {changes: [{kind: Kind.DEMOTE, id, name: '', peerUrls: [], clientUrls: []}], transition: 0, force: false}),
        /this change would leave 2 voters, which need 2 for a quorum, but only 1 of them are reachable now/)
      // etcd's answer to a change that the reachable members could not carry.
      expect([demote, remove, change].map((e) => [status[e.grpcCode], e.message])).to.deep.equal(
        Array(3).fill([OBSERVED.unhealthyCluster.code, OBSERVED.unhealthyCluster.details]))
    }
    // Demoting the down node itself keeps a reachable quorum (1 2).
    expect(planDemote(v, 3)!.cc.changes).to.deep.equal([{type: ConfChangeType.AddLearnerNode, nodeId: 3}])
    expect(planDemote(view({voters: [1, 2, 3, 4, 5]}, {down: [5]}), 2)).to.not.equal(undefined)
  })

  it('refuses promoting a learner when the new voter set could not form a quorum, unless forced', () => {
    const v = view({voters: [1, 2, 3], learners: [4]}, {down: [3, 4]})
    refused(() => planPromote(v, 4, false), /promoting learner 4 would leave 4 voters, which need 3 for a quorum, but only 2 of them are reachable now/)
    expect(planPromote(v, 4, true)).to.not.equal(undefined)
    expect(planPromote(view({voters: [1, 2, 3], learners: [4]}, {down: [3]}), 4, false)).to.not.equal(undefined)
  })

  it('removes members but not the last voter, nor one whose removal leaves no reachable quorum', () => {
    expect(planRemove(view({voters: [1, 2, 3]}), 3).cc.changes).to.deep.equal([{type: ConfChangeType.RemoveNode, nodeId: 3}])
    refused(() => planRemove(view({voters: [1]}), 1), /cannot remove its last voter/)
    refused(() => planRemove(view({voters: [1, 2, 3]}, {down: [2]}), 3), /removing voter 3 would leave 2 voters, which need 2/)
  })

  it('plans a joint replacement and refuses duplicates, unknown kinds and changes while joint', () => {
    const p = planChange(view({voters: [1, 2, 3]}), {
      transition: ConfChangeTransition.Explicit, force: false,
      changes: [
        {kind: Kind.ADD_VOTER, id: 4, name: '', peerUrls: ['127.0.0.1:4004'], clientUrls: []},
        {kind: Kind.REMOVE, id: 3, name: '', peerUrls: [], clientUrls: []},
      ],
    })
    expect(p.cc.transition).to.equal(ConfChangeTransition.Explicit)
    expect(p.cc.changes).to.deep.equal([{type: ConfChangeType.AddNode, nodeId: 4}, {type: ConfChangeType.RemoveNode, nodeId: 3}])
    expect(p.added.map((m) => m.id)).to.deep.equal([4])
    const c = (kind: Kind, id: number) => ({kind, id, name: '', peerUrls: [`127.0.0.1:${5000 + id}`], clientUrls: []})
    refused(() => planChange(view({voters: [1, 2, 3]}), {transition: 0, force: false, changes: [c(Kind.REMOVE, 2), c(Kind.DEMOTE, 2)]}), /more than once/)
    refused(() => planChange(view({voters: [1, 2, 3]}), {transition: 0, force: false, changes: []}), /at least one change/)
    refused(() => planChange(view({voters: [1, 2, 3]}), {transition: 0, force: false, changes: [c(Kind.KIND_UNSPECIFIED, 2)]}), /has no kind/)
    refused(() => planChange(view({voters: [1, 2, 3], votersOutgoing: [1, 2]}), {transition: 0, force: false, changes: [c(Kind.REMOVE, 2)]}),
      /joint configuration; leave it first/)
    refused(() => planChange(view({voters: [1, 2, 3]}, {down: [2, 3]}), {transition: 0, force: false, changes: [c(Kind.ADD_VOTER, 4), c(Kind.REMOVE, 3)]}),
      /this change would leave 3 voters, which need 2 for a quorum, but only 1/)
    refused(() => planChange(view({voters: [1, 2, 3]}), {transition: 0, force: false, changes: [c(Kind.ADD_LEARNER, 4), c(Kind.ADD_LEARNER, 5)]}),
      /^adding 2 learners would make 2 learner\(s\), but --max-learners is 1; add fewer at once, or promote or remove a learner first$/)
  })

  it('refuses a leader transfer to a non-member, a learner, or a voter the leader cannot reach now (issue 11 #11)', () => {
    const v = view({voters: [1, 2, 3], learners: [4]}, {down: [3]})
    expect(() => checkTransferTarget(v, 2)).to.not.throw()
    expect(() => checkTransferTarget(v, 1)).to.not.throw()
    expect(refused(() => checkTransferTarget(v, 9), /^node 9 is not a member of the cluster$/).grpcCode).to.equal(5)
    expect(refused(() => checkTransferTarget(v, 4), /^node 4 is not a voter, so it cannot lead$/).grpcCode).to.equal(9)
    expect(refused(() => checkTransferTarget(v, 3),
      /^node 3 cannot take over leadership: the leader \(node 1\) cannot reach it now; check that it runs, or choose another voter$/).grpcCode).to.equal(9)
  })

  it('says why a transfer target has not taken over: silent, behind, or lost its election', () => {
    const v = view({voters: [1, 2, 3]}, {last: 200, matches: {2: 150}, down: [3]})
    expect(transferObstacle(v, 3)).to.equal('the leader has not heard from it for an election timeout (it is down, paused or cut off)')
    expect(transferObstacle(v, 2)).to.equal('it is not caught up: its log reaches index 150, the leader\'s 200')
    expect(transferObstacle(view({voters: [1, 2, 3]}, {last: 200}), 2)).to.equal('it was caught up and told to campaign, but did not win the election')
    expect(transferObstacle({...v, progress: undefined}, 2)).to.equal('node 1 no longer leads, so it cannot tell why')
  })

  it('refuses leave-joint when the configuration is not joint', () => {
    refused(() => checkLeaveJoint(view({voters: [1, 2], learners: [3]})), /^the configuration is not joint \(voters=\(1 2\) learners=\(3\)\); there is nothing to leave$/)
    checkLeaveJoint(view({voters: [1, 2], votersOutgoing: [1, 3]}))
  })

  it('names every role of the ConfState in the member list', () => {
    const v = view({voters: [1, 2], learners: [5], votersOutgoing: [1, 3, 4], learnersNext: [4]}, {last: 50, matches: {2: 40}})
    expect([1, 2, 3, 4, 5].map((id) => roleOf(v.confState, id))).to.deep.equal([
      MemberStatus_Role.VOTER, MemberStatus_Role.VOTER, MemberStatus_Role.OUTGOING_VOTER, MemberStatus_Role.LEARNER_NEXT, MemberStatus_Role.LEARNER,
    ])
    const list = memberStatuses(v)
    expect(list.map((m) => m.member!.ID)).to.deep.equal([1n, 2n, 3n, 4n, 5n])
    expect(list.map((m) => m.member!.isLearner)).to.deep.equal([false, false, false, false, true])
    expect(list[0].member!.peerURLs).to.deep.equal(['http://127.0.0.1:2381'])
    expect(list[0]).to.include({isLeader: true, matchIndex: 50, lag: 0})
    expect(list[1]).to.include({isLeader: false, matchIndex: 40, lag: 10, recentActive: true})
  })
})
