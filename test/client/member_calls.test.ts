/**
 * The client's membership writes go to etcd's Cluster service, with raftctl's choices in request
 * metadata (the new member's id in `raftctl-member-id`, `raftctl-force: 1`), against a scripted
 * fake member (real gRPC on 127.0.0.1) that records what it received.
 */
import type {Metadata, ServerUnaryCall, ServiceError} from '@grpc/grpc-js'
import {expect} from 'chai'
import {RaftctlClient} from '../../src/client/index.js'
import {ClusterService} from '../../src/generated/etcd/etcdserverpb/cluster.js'
import {FORCE_KEY, MEMBER_ID_KEY} from '../../src/raftpb/metadata.js'
import {FakeGrpcServer} from './fake_server.js'

type Cb = (err: Partial<ServiceError> | null, res?: unknown) => void
interface Seen {
  readonly method: string
  readonly request: unknown
  readonly memberId: unknown
  readonly force: unknown
}

class FakeCluster extends FakeGrpcServer {
  readonly seen: Seen[] = []

  async listen(): Promise<this> {
    const record = (method: string) => (call: ServerUnaryCall<unknown, unknown>, cb: Cb) => {
      const md: Metadata = call.metadata
      this.seen.push({method, request: call.request, memberId: md.get(MEMBER_ID_KEY)[0], force: md.get(FORCE_KEY)[0]})
      cb(null, {header: {clusterId: 3n, memberId: 1n, revision: 0, raftTerm: 1}, members: []})
    }
    await this.serve(ClusterService, {
      memberAdd: record('add'), memberPromote: record('promote'), memberRemove: record('remove'), memberUpdate: record('update'),
    })
    return this
  }
}

describe('client: membership writes over etcd\'s Cluster service', function () {
  this.timeout(10_000)
  let node: FakeCluster
  let client: RaftctlClient

  beforeEach(async () => {
    node = await new FakeCluster().listen()
    client = new RaftctlClient({endpoints: [node.endpoint], timeoutMs: 2000})
  })

  afterEach(() => {
    client.close()
    node.close()
  })

  it('sends MemberAdd with the chosen id and force in metadata, and none when not chosen', async () => {
    await client.memberAdd({id: 7, peerUrls: ['127.0.0.1:2387'], isLearner: true})
    await client.memberAdd({id: 8, peerUrls: ['127.0.0.1:2388'], force: true})
    await client.memberAdd({peerUrls: ['127.0.0.1:2389']})
    expect(node.seen).to.deep.equal([
      {method: 'add', request: {peerURLs: ['127.0.0.1:2387'], isLearner: true}, memberId: '7', force: undefined},
      {method: 'add', request: {peerURLs: ['127.0.0.1:2388'], isLearner: false}, memberId: '8', force: '1'},
      {method: 'add', request: {peerURLs: ['127.0.0.1:2389'], isLearner: false}, memberId: undefined, force: undefined},
    ])
  })

  it('sends promote (with force when asked), remove and update with etcd\'s 64-bit ids', async () => {
    await client.memberPromote(4)
    await client.memberPromote(4, {force: true})
    await client.memberRemove(5)
    await client.memberUpdate(6, ['127.0.0.1:2396'])
    expect(node.seen).to.deep.equal([
      {method: 'promote', request: {ID: 4n}, memberId: undefined, force: undefined},
      {method: 'promote', request: {ID: 4n}, memberId: undefined, force: '1'},
      {method: 'remove', request: {ID: 5n}, memberId: undefined, force: undefined},
      {method: 'update', request: {ID: 6n, peerURLs: ['127.0.0.1:2396']}, memberId: undefined, force: undefined},
    ])
  })
})
