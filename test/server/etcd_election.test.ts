/**
 * Our Election service (src/server/services/etcd/election.ts), backed by a real etcd 3.4,
 * answers as etcd's own Election service: the same scenario runs against both and the normalized
 * transcripts (etcd_lock_helpers.ts) must be equal — leader keys, values, errors, headers modulo
 * ids, and what Observe streams. Then it interoperates with etcdctl elect.
 */
import {credentials, type ServiceError} from '@grpc/grpc-js'
import {expect} from 'chai'
import {EtcdClient} from '../../src/client/concurrency/index.js'
import {rangeRequest} from '../../src/client/concurrency/etcd.js'
import {ElectionClient, type LeaderResponse} from '../../src/generated/etcd/v3electionpb/v3election.js'
import {etcdctlProcess, stopAllLineProcesses} from '../client/concurrency/helpers.js'
import {call} from '../compat/etcd_grpc.js'
import {type EtcdCluster, requireEtcd, startEtcd, stopAllEtcd} from '../compat/etcd_harness.js'
import {waitFor} from '../integration/harness.js'
import {normalize, RecipeTestServer, waitKeys} from './etcd_lock_helpers.js'
import {electionScenario} from './etcd_recipe_scenarios.js'

const b = (s: string): Buffer => Buffer.from(s)

describe('server: the Election service over a real etcd 3.4, compared with etcd\'s own', function () {
  this.timeout(90_000)
  let etcd: EtcdCluster
  let ours: RecipeTestServer
  let kv: EtcdClient
  let etcdElection: ElectionClient
  let ourElection: ElectionClient

  before(async function () {
    requireEtcd(this)
    etcd = await startEtcd()
    ours = await RecipeTestServer.start(etcd.endpoints()[0])
    kv = new EtcdClient(etcd.endpoints()[0])
    etcdElection = new ElectionClient(etcd.endpoints()[0], credentials.createInsecure())
    ourElection = new ElectionClient(ours.endpoint, credentials.createInsecure())
  })
  afterEach(() => stopAllLineProcesses())
  after(async () => {
    etcdElection?.close()
    ourElection?.close()
    kv?.close()
    ours?.close()
    await stopAllEtcd()
  })

  it('answers the same leader keys, values, errors, headers and observations as etcd\'s Election service', async () => {
    const theirs = await electionScenario(etcdElection, kv, 'etcd-elect')
    const mine = await electionScenario(ourElection, kv, 'our-elect')
    const expected = normalize(theirs.t, 'etcd-elect', theirs.base)
    expect(normalize(mine.t, 'our-elect', mine.base)).to.deep.equal(expected)
    const facts = JSON.stringify(expected)
    expect(facts).to.include('{"code":"UNKNOWN","details":"election: no leader"}')
    expect(facts).to.include('{"code":"UNKNOWN","details":"election: not leader"}')
    expect(facts).to.include('{"code":"UNKNOWN","details":"\\"leader\\" field must be provided"}')
    expect(facts).to.include('{"code":"UNKNOWN","details":"etcdserver: requested lease not found"}')
  })

  it('refuses a request that does not decode with INVALID_ARGUMENT naming the method', async () => {
    const raw = new ElectionClient(ours.endpoint, credentials.createInsecure())
    try {
      for (const method of ['Campaign', 'Leader', 'Resign']) {
        const bad = await new Promise<{code: number, details: string}>((resolve) => {
          raw.makeUnaryRequest(`/v3electionpb.Election/${method}`, (x: Buffer) => x, (x: Buffer) => x, Buffer.from([0x0a, 0xff]), (err) =>
            resolve({code: err?.code ?? 0, details: err?.details ?? ''}))
        })
        expect(bad.code, method).to.equal(3)
        expect(bad.details).to.match(new RegExp(`^the request to v3electionpb\\.Election/${method} does not decode: `))
      }
    } finally {
      raw.close()
    }
  })

  it('interoperates with etcdctl elect: etcdctl observes our leader and waits for our resignation', async () => {
    const endpoint = etcd.endpoints()[0]
    const lease = (await kv.leaseGrant(30)).ID
    const listener = etcdctlProcess(endpoint, ['elect', '--listen', 'svc-elect'])
    const won = await call(ourElection, ourElection.campaign, {name: b('svc-elect'), lease, value: b('ours')})
    expect(await listener.waitLine(/^svc-elect\//)).to.equal(`svc-elect/${lease.toString(16)}`)
    await listener.waitLine(/^ours$/)
    const ctl = etcdctlProcess(endpoint, ['elect', 'svc-elect', 'theirs'])
    await waitKeys(kv, 'svc-elect', 2)
    await call(ourElection, ourElection.proclaim, {leader: won.leader, value: b('ours-2')})
    await listener.waitLine(/^ours-2$/)
    expect(ctl.lines).to.deep.equal([])
    await call(ourElection, ourElection.resign, {leader: won.leader})
    await ctl.waitLine(/^theirs$/, 10_000)
    const leader = await call(ourElection, ourElection.leader, {name: b('svc-elect')})
    expect(Buffer.from(leader.kv!.value).toString()).to.equal('theirs')
    await listener.waitLine(/^theirs$/)
    expect(await ctl.stop('SIGTERM')).to.equal(0)
    expect(await listener.stop('SIGTERM')).to.equal(0)
    await kv.leaseRevoke(lease)
  })
})
