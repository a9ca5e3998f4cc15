/**
 * etcd's Cluster service and raftctl's extension service on a real 3-node raftctl cluster, through
 * our generated clients and the etcd3 npm client: any member serves every call (a follower
 * forwards membership changes to the leader and returns its answer, raftctl's explanation
 * included); raftctl's rules answer with etcd's codes and texts; headers as etcd fills them;
 * Lease and Auth answer UNIMPLEMENTED.
 */
import {expect} from 'chai'
import {credentials, type ServiceError} from '@grpc/grpc-js'
import {Etcd3} from 'etcd3'
import type {Member} from '../../src/generated/etcd/etcdserverpb/cluster.js'
import {
  MemberChangeRequest_Change_Kind as Kind, MemberStatus_Role as Role, RaftctlClient as ExtensionClient,
} from '../../src/generated/raftctl/v1/raftctl.js'
import {ConfChangeTransition} from '../../src/raft/index.js'
import {decodeDetail, DETAIL_KEY, FORCE_KEY, MEMBER_ID_KEY} from '../../src/raftpb/metadata.js'
import {AUTH_UNSUPPORTED} from '../../src/server/services/etcd/auth.js'
import {call, etcdClients, failureOf, type GrpcFailure} from '../compat/etcd_grpc.js'
import {ETCD_ERRORS as E} from '../compat/etcd_facts.js'
import {ensureBuilt, stopAll, TestCluster, waitFor} from '../integration/harness.js'

/** A failed call's status and raftctl's explanation. */
async function refusal(p: Promise<unknown>): Promise<GrpcFailure & {detail: string}> {
  let detail = ''
  const f = await failureOf(p.catch((err: ServiceError) => {
    const d = err.metadata?.get(DETAIL_KEY)[0]
    detail = typeof d === 'string' ? decodeDetail(d) : ''
    throw err
  }))
  return {...f, detail}
}

const ids = (ms: readonly Member[]): number[] => ms.map((m) => Number(m.ID))

describe('server: etcd Cluster and the raftctl extension on a 3-node cluster', function () {
  this.timeout(120_000)
  const cluster = new TestCluster()
  let leader: number
  let follower: number
  let c: ReturnType<typeof etcdClients>
  let ext: ExtensionClient

  before(async function () {
    this.timeout(240_000)
    ensureBuilt()
    await cluster.bootstrap(3, ['--max-learners', '1'])
    leader = await cluster.waitLeader()
    follower = [1, 2, 3].find((id) => id !== leader)!
    c = etcdClients(cluster.node(follower).client)
    ext = new ExtensionClient(cluster.node(follower).client, credentials.createInsecure())
  })

  after(async () => {
    c?.close()
    ext?.close()
    cluster.close()
    await stopAll()
  })

  it('lists the members on a follower as etcd does: ascending ids, URLs, header without revision', async () => {
    const res = await call(c.cluster, c.cluster.memberList, {linearizable: true})
    expect(ids(res.members)).to.deep.equal([1, 2, 3])
    const me = res.members.find((m) => Number(m.ID) === follower)!
    expect(me).to.include({name: `node${follower}`, isLearner: false})
    expect(me.peerURLs).to.deep.equal([`http://${cluster.node(follower).peer}`])
    expect(me.clientURLs).to.deep.equal([`http://${cluster.node(follower).client}`])
    expect(res.header!.memberId).to.equal(BigInt(follower))
    expect(res.header!.clusterId).to.not.equal(0n)
    expect(res.header!.revision, 'Cluster answers carry no revision').to.equal(0)
    expect(res.header!.raftTerm).to.be.greaterThan(0)
  })

  it('the etcd3 client lists and adds members through a follower only', async () => {
    const client = new Etcd3({hosts: cluster.node(follower).client})
    try {
      const list = await client.cluster.memberList({})
      expect(list.members.map((m) => m.ID).sort()).to.deep.equal(['1', '2', '3'])
      const added = await client.cluster.memberAdd({peerURLs: ['http://127.0.0.1:1'], isLearner: true})
      const id = added.member.ID
      expect(BigInt(id) > 0n && BigInt(id) <= BigInt(Number.MAX_SAFE_INTEGER), 'a fresh raftctl node id').to.equal(true)
      expect(added.member.isLearner).to.equal(true)
      expect(added.members.map((m) => m.ID)).to.include(id)
      const removed = await client.cluster.memberRemove({ID: id})
      expect(removed.members.map((m) => m.ID)).to.not.include(id)
    } finally {
      client.close()
    }
  })

  it('adds a learner with the id chosen in metadata, through a follower; the leader\'s refusals come back unchanged', async () => {
    const md = {[MEMBER_ID_KEY]: '4'}
    const res = await call(c.cluster, c.cluster.memberAdd, {peerURLs: ['127.0.0.1:19004'], isLearner: true}, md)
    expect(res.member).to.deep.equal({ID: 4n, name: '', peerURLs: ['http://127.0.0.1:19004'], clientURLs: [], isLearner: true})
    expect(ids(res.members)).to.deep.equal([1, 2, 3, 4])
    // The answer is the leader's, passed on unchanged, header included.
    expect([res.header!.memberId, res.header!.revision]).to.deep.equal([BigInt(leader), 0])

    const again = await refusal(call(c.cluster, c.cluster.memberAdd, {peerURLs: ['127.0.0.1:19005'], isLearner: true}, md))
    expect(again).to.deep.equal({code: 'FAILED_PRECONDITION', details: 'etcdserver: member ID already exist',
      detail: 'node 4 is already a member of the cluster'})
    const sameUrl = await refusal(call(c.cluster, c.cluster.memberAdd, {peerURLs: ['http://127.0.0.1:19004'], isLearner: false}))
    expect(sameUrl).to.deep.equal({...E.peerURLExists, detail: 'peer URL 127.0.0.1:19004 is already used by node 4'})
    const bad = await refusal(call(c.cluster, c.cluster.memberAdd, {peerURLs: ['not a url'], isLearner: true}))
    expect(bad).to.include(E.memberBadURLs)
    expect(bad.detail).to.match(/is not host:port/)
    const second = await refusal(call(c.cluster, c.cluster.memberAdd, {peerURLs: ['127.0.0.1:19006'], isLearner: true}))
    expect(second).to.include(E.tooManyLearners)
    expect(second.detail).to.match(/already has 1 learner\(s\) and --max-learners is 1/)
    const badId = await refusal(call(c.cluster, c.cluster.memberAdd, {peerURLs: ['127.0.0.1:19007'], isLearner: true}, {[MEMBER_ID_KEY]: 'x1'}))
    expect(badId).to.deep.equal({code: 'INVALID_ARGUMENT', detail: '',
      details: `metadata ${MEMBER_ID_KEY} "x1" is not a node id (an integer from 1 to 2^53-1)`})
  })

  it('refuses to promote a learner that is not caught up, with the percentage in the detail', async () => {
    const r = await refusal(call(c.cluster, c.cluster.memberPromote, {ID: 4n}))
    expect(r).to.include(E.learnerNotReady)
    expect(r.detail).to.match(/^learner 4 is not caught up: its match index 0 is 0% of the leader's last index \d+ .*promotion needs at least 90%/)
    expect(await refusal(call(c.cluster, c.cluster.memberPromote, {ID: BigInt(leader)}))).to.include(E.memberNotLearner)
    expect(await refusal(call(c.cluster, c.cluster.memberPromote, {ID: 99n}))).to.include(E.memberNotFound)
    expect(await refusal(call(c.cluster, c.cluster.memberPromote, {ID: 2n ** 60n}))).to.include(E.memberNotFound)
  })

  it('updates a member\'s peer URLs and refuses unknown members and taken URLs', async () => {
    const res = await call(c.cluster, c.cluster.memberUpdate, {ID: 4n, peerURLs: ['http://127.0.0.1:19014']})
    expect(res.members.find((m) => m.ID === 4n)!.peerURLs).to.deep.equal(['http://127.0.0.1:19014'])
    expect(res.header!.revision).to.equal(0)
    expect(await refusal(call(c.cluster, c.cluster.memberUpdate, {ID: 98n, peerURLs: ['127.0.0.1:19015']}))).to.include(E.memberNotFound)
    const taken = await refusal(call(c.cluster, c.cluster.memberUpdate, {ID: 4n, peerURLs: [cluster.node(leader).peer]}))
    expect(taken).to.include(E.peerURLExists)
  })

  it('MemberProgress on a follower answers the leader\'s view of every member', async () => {
    const p = await call(ext, ext.memberProgress, {})
    expect(p.leader).to.equal(leader)
    expect(p.header!.memberId, 'answered by the leader').to.equal(BigInt(leader))
    expect(p.members.map((m) => [Number(m.member!.ID), m.role])).to.deep.equal(
      [[1, Role.VOTER], [2, Role.VOTER], [3, Role.VOTER], [4, Role.LEARNER]])
    const voters = p.members.filter((m) => m.role === Role.VOTER)
    expect(voters.every((m) => m.matchIndex > 0 && m.recentActive), 'the voters replicate').to.equal(true)
    // (A new member counts as recently active until the leader's next check-quorum round.)
    const learner = p.members.find((m) => m.member!.ID === 4n)!
    expect(learner.matchIndex, 'the learner never started').to.equal(0)
    expect(learner.lag).to.equal(p.leaderLastIndex)
    expect(p.confState!.learners).to.deep.equal([4])
  })

  it('removes the learner through a follower, and refuses an unknown member', async () => {
    const res = await call(c.cluster, c.cluster.memberRemove, {ID: 4n})
    expect(ids(res.members)).to.deep.equal([1, 2, 3])
    expect(await refusal(call(c.cluster, c.cluster.memberRemove, {ID: 4n}))).to.include(E.memberNotFound)
  })

  it('demotes a voter, promotes it back through an explicit joint change, and leaves the joint configuration', async () => {
    const target = [1, 2, 3].find((id) => id !== leader && id !== follower)!
    const demoted = await call(ext, ext.memberDemote, {id: target})
    expect(demoted.confState!.learners).to.deep.equal([target])
    expect(demoted.header!.memberId).to.equal(BigInt(leader))
    // The demoted member catches up at once (it still receives the log), then goes back.
    const change = {changes: [{kind: Kind.ADD_VOTER, id: target, peerUrls: []}], transition: ConfChangeTransition.Explicit, force: false}
    const joint = await waitFor('the demoted voter to be promoted back', async () => {
      try {
        return await call(ext, ext.memberChange, change)
      } catch (err) {
        if ((err as ServiceError).details === E.learnerNotReady.details) return undefined
        throw err
      }
    }, {timeoutMs: 20_000, intervalMs: 200})
    expect(joint.confState!.votersOutgoing.length, 'an explicit transition stays joint').to.be.greaterThan(0)
    const left = await call(ext, ext.leaveJoint, {})
    expect(left.confState!.votersOutgoing).to.deep.equal([])
    expect([...left.confState!.voters].sort()).to.deep.equal([1, 2, 3])
    const notJoint = await refusal(call(ext, ext.leaveJoint, {}))
    expect(notJoint.code).to.equal('FAILED_PRECONDITION')
    expect(notJoint.details).to.match(/^the configuration is not joint/)
  })

  it('NodeStatus answers for the node asked', async () => {
    const st = await call(ext, ext.nodeStatus, {})
    expect([st.id, st.leader, st.header!.memberId]).to.deep.equal([follower, leader, BigInt(follower)])
    expect(st.raftAppliedIndex).to.be.greaterThan(0)
    expect(st.peers.map((p) => p.id).sort()).to.deep.equal([1, 2, 3].filter((id) => id !== follower))
    expect(st.errors).to.deep.equal([])
  })

  it('Auth answers UNIMPLEMENTED with a sentence', async () => {
    expect(await failureOf(call(c.auth, c.auth.authStatus, {}))).to.deep.equal({code: 'UNIMPLEMENTED', details: AUTH_UNSUPPORTED})
  })

  it('with the quorum lost, refuses hasleader requests at once and lets a change wait for its deadline', async () => {
    const others = [1, 2, 3].filter((id) => id !== follower)
    for (const id of others) await cluster.node(id).stop('SIGKILL')
    await waitFor('the survivor to lose its leader', async () => {
      const f = await failureOf(call(c.cluster, c.cluster.memberList, {linearizable: false}, {hasleader: 'true'}, 2000)).catch(() => undefined)
      return f?.details === E.noLeader.details ? f : undefined
    }, {timeoutMs: 30_000, intervalMs: 200})
    expect(await failureOf(call(c.cluster, c.cluster.memberList, {linearizable: false}, {hasleader: 'true'}))).to.deep.equal(E.noLeader)
    const serializable = await call(c.cluster, c.cluster.memberList, {linearizable: false})
    expect(ids(serializable.members), 'without hasleader a local list is served').to.deep.equal([1, 2, 3])
    const started = Date.now()
    const waited = await refusal(call(c.cluster, c.cluster.memberAdd, {peerURLs: ['127.0.0.1:19020'], isLearner: true},
      {[FORCE_KEY]: '1'}, 2500))
    expect(Date.now() - started, 'answered before the caller\'s deadline').to.be.lessThan(2500)
    expect(waited.code).to.equal('DEADLINE_EXCEEDED')
    expect(waited.details).to.equal('context deadline exceeded')
    expect(waited.detail).to.match(/knew no leader for the \d+ ms the request could wait; nothing was done, so it is safe to retry$/)
  })
})
