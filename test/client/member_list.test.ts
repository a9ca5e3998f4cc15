/**
 * RaftctlClient.memberList against three scripted fake Cluster servers (real gRPC on 127.0.0.1)
 * standing for nodes 1–3, node 2 leading: only the leader knows replication progress, so the
 * list comes from the leader — at the client URL it published, or, before it has published
 * one (the first moments after a cluster starts), found among the client's endpoints by the
 * member id in their answers. When the leader cannot be asked, the first answer is returned.
 */
import {expect} from 'chai'
import {RaftctlClient} from '../../src/client/index.js'
import {
  ClusterService, type MemberListResponse, type MemberStatus, MemberStatus_ProgressState as P, MemberStatus_Role as R,
} from '../../src/generated/raftctl/v1/cluster.js'
import {FakeGrpcServer} from './fake_server.js'

const LEADER = 2

/** A fake node that answers MemberList as node `id` would, counting the calls. */
class FakeNode extends FakeGrpcServer {
  calls = 0
  /** The client URLs every member has published, by id. */
  published: (id: number) => string[] = () => []

  constructor(readonly id: number) {
    super()
  }

  async listen(): Promise<this> {
    await this.serve(ClusterService, {
      memberList: (_call: unknown, cb: (err: null, res: MemberListResponse) => void) => {
        this.calls++
        cb(null, this.answer())
      },
    })
    return this
  }

  private answer(): MemberListResponse {
    const isLeader = this.id === LEADER
    const members = [1, 2, 3].map((id): MemberStatus => ({
      member: {id, name: `node${id}`, peerUrls: [`127.0.0.1:${2380 + id}`], clientUrls: this.published(id)},
      role: R.VOTER, isLeader: id === LEADER, matchIndex: isLeader ? 7 : 0, nextIndex: isLeader ? 8 : 0, lag: 0,
      progressState: isLeader ? P.REPLICATE : P.PROGRESS_UNKNOWN, recentActive: isLeader,
    }))
    return {header: {clusterId: 9, memberId: this.id, revision: 1, raftTerm: 2}, members,
      confState: {voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false}}
  }
}

describe('client: memberList asks the leader', function () {
  this.timeout(20_000)
  let nodes: FakeNode[]
  const clients: RaftctlClient[] = []
  const client = (endpoints: string[]): RaftctlClient => {
    const c = new RaftctlClient({endpoints, timeoutMs: 3000})
    clients.push(c)
    return c
  }
  const calls = (): number[] => nodes.map((n) => n.calls)
  const progress = (r: MemberListResponse): P[] => r.members.map((m) => m.progressState)

  beforeEach(async () => {
    nodes = await Promise.all([1, 2, 3].map((id) => new FakeNode(id).listen()))
  })

  afterEach(() => {
    for (const c of clients.splice(0)) c.close()
    for (const n of nodes) n.close()
  })

  it('finds the leader among the endpoints while it has published no client URL', async () => {
    const r = await client(nodes.map((n) => n.endpoint)).memberList()
    expect(r.header?.memberId).to.equal(LEADER)
    expect(progress(r)).to.deep.equal([P.REPLICATE, P.REPLICATE, P.REPLICATE])
    expect(calls(), 'node 1 answered first, then each endpoint was asked until the leader').to.deep.equal([2, 1, 0])
  })

  it('skips an endpoint that does not answer, and returns the first answer when no endpoint is the leader', async () => {
    nodes[1].close()
    const r = await client(nodes.map((n) => n.endpoint)).memberList()
    expect(r.header?.memberId).to.equal(1)
    expect(progress(r).every((p) => p === P.PROGRESS_UNKNOWN)).to.equal(true)
    expect(calls()).to.deep.equal([2, 0, 1])
  })

  it('asks the leader at its published client URL only, and remembers it', async () => {
    for (const n of nodes) n.published = (id) => [nodes[id - 1].endpoint]
    const c = client([nodes[0].endpoint, nodes[2].endpoint])
    const r = await c.memberList()
    expect(r.header?.memberId).to.equal(LEADER)
    expect(calls()).to.deep.equal([1, 1, 0])
    expect(c.conn.leaderEndpoint).to.equal(nodes[1].endpoint)
  })
})
