/**
 * RaftctlClient.memberList against a scripted fake member (real gRPC on 127.0.0.1) serving the
 * extension's NodeStatus and MemberProgress and etcd's Cluster.MemberList: with a leader known,
 * the list is the leader's MemberProgress answer (forwarded by the member asked), with each
 * member's progress; without one — or when the leader cannot be asked — it is etcd's MemberList
 * joined with the member's own ConfState: roles known, progress unknown. Either way the members
 * are in raftctl's terms (numeric ids, host:port addresses).
 */
import {type ServiceError, status} from '@grpc/grpc-js'
import {expect} from 'chai'
import {RaftctlClient} from '../../src/client/index.js'
import {ClusterService, type Member, type MemberListResponse} from '../../src/generated/etcd/etcdserverpb/cluster.js'
import type {ConfState} from '../../src/generated/eraftpb.js'
import {
  type MemberProgressResponse, MemberStatus_ProgressState as P, MemberStatus_Role as R, type NodeStatusResponse, RaftctlService,
} from '../../src/generated/raftctl/v1/raftctl.js'
import {FakeGrpcServer} from './fake_server.js'

const header = {clusterId: 9n, memberId: 1n, revision: 0, raftTerm: 2}
/** Voters 1 and 2, node 3 a learner, node 2 being demoted (learner-next) in a joint configuration. */
const CS: ConfState = {voters: [1], votersOutgoing: [1, 2], learners: [3], learnersNext: [2], autoLeave: false}
const member = (id: number): Member => ({
  ID: BigInt(id), name: `node${id}`, peerURLs: [`http://127.0.0.1:${2380 + id}`], clientURLs: [`http://127.0.0.1:${2370 + id}`], isLearner: id === 3,
})

type Cb<T> = (err: Partial<ServiceError> | null, res?: T) => void

/** A member that knows `leader` (0: none); its MemberProgress answers `progress` or fails. */
class FakeMember extends FakeGrpcServer {
  readonly calls = {nodeStatus: 0, memberProgress: 0, memberList: 0}
  progressFails = false

  constructor(readonly leader: number) {
    super()
  }

  async listen(): Promise<this> {
    this.addService(RaftctlService, {
      nodeStatus: (_call: unknown, cb: Cb<NodeStatusResponse>) => {
        this.calls.nodeStatus++
        cb(null, {
          header, id: 1, name: 'node1', version: '0.1.0', raftState: 0, role: R.VOTER, leader: this.leader, raftTerm: 2, raftCommitIndex: 9,
          raftAppliedIndex: 9, raftFirstIndex: 1, raftLastIndex: 9, snapshotIndex: 0, dbSize: 0, confState: CS, peers: [], errors: [],
        })
      },
      memberProgress: (_call: unknown, cb: Cb<MemberProgressResponse>) => {
        this.calls.memberProgress++
        if (this.progressFails) return cb({code: status.UNAVAILABLE, details: 'etcdserver: leader changed'})
        cb(null, {header: {...header, memberId: BigInt(this.leader)}, confState: CS, leader: this.leader, leaderLastIndex: 9, members: [1, 2, 3].map((id) => ({
          member: member(id), role: R.VOTER, isLeader: id === this.leader, matchIndex: 9 - id, nextIndex: 10 - id, lag: id,
          progressState: P.REPLICATE, recentActive: true,
        }))})
      },
    })
    await this.serve(ClusterService, {
      memberList: (_call: unknown, cb: Cb<MemberListResponse>) => {
        this.calls.memberList++
        cb(null, {header, members: [1, 2, 3].map(member)})
      },
    })
    return this
  }
}

describe('client: memberList (the leader\'s progress, or a member\'s list and ConfState)', function () {
  this.timeout(20_000)
  let node: FakeMember | undefined
  let client: RaftctlClient | undefined
  const start = async (leader: number, timeoutMs = 3000): Promise<FakeMember> => {
    node = await new FakeMember(leader).listen()
    client = new RaftctlClient({endpoints: [node.endpoint], timeoutMs})
    return node
  }

  afterEach(() => {
    client?.close()
    node?.close()
  })

  it('returns the leader\'s MemberProgress when a leader is known, members in raftctl\'s terms', async () => {
    const n = await start(2)
    const r = await client!.memberList()
    expect(r).to.deep.include({leader: 2, fromLeader: true, confState: CS})
    expect(r.members.map((m) => [m.member?.id, m.progressState, m.matchIndex])).to.deep.equal([[1, P.REPLICATE, 8], [2, P.REPLICATE, 7], [3, P.REPLICATE, 6]])
    expect(r.members[0].member).to.deep.equal({id: 1, name: 'node1', peerUrls: ['127.0.0.1:2381'], clientUrls: ['127.0.0.1:2371'], isLearner: false})
    expect(n.calls).to.deep.equal({nodeStatus: 1, memberProgress: 1, memberList: 0})
  })

  it('without a leader: etcd\'s MemberList with the member\'s roles from its ConfState, progress unknown', async () => {
    const n = await start(0)
    const r = await client!.memberList()
    expect(r).to.deep.include({leader: 0, fromLeader: false, confState: CS})
    expect(r.members.map((m) => [m.member?.id, m.role, m.isLeader, m.progressState]))
      .to.deep.equal([[1, R.VOTER, false, P.PROGRESS_UNKNOWN], [2, R.LEARNER_NEXT, false, P.PROGRESS_UNKNOWN], [3, R.LEARNER, false, P.PROGRESS_UNKNOWN]])
    expect(n.calls).to.deep.equal({nodeStatus: 1, memberProgress: 0, memberList: 1})
  })

  it('falls back to the member\'s own list, the leader marked, when the leader cannot be asked', async () => {
    const n = await start(1, 1000)
    n.progressFails = true
    const r = await client!.memberList()
    expect(r).to.deep.include({leader: 1, fromLeader: false})
    expect(r.members.map((m) => [m.member?.id, m.isLeader])).to.deep.equal([[1, true], [2, false], [3, false]])
    expect(r.members.every((m) => m.progressState === P.PROGRESS_UNKNOWN)).to.equal(true)
    expect(n.calls.memberProgress, 'retried while its time lasted').to.be.at.least(1)
    expect(n.calls.memberList).to.equal(1)
  })
})
