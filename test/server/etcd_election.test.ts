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
import {normalize, RecipeTestServer, record, type Step, waitKeys} from './etcd_lock_helpers.js'

const b = (s: string): Buffer => Buffer.from(s)

/** An Observe stream's answers, collected until stop(). */
function observeStream(el: ElectionClient, name: string): {seen: LeaderResponse[], stop: () => {error?: string}} {
  const seen: LeaderResponse[] = []
  let error: string | undefined
  const stream = el.observe({name: b(name)}, {deadline: Date.now() + 60_000})
  stream.on('data', (r: LeaderResponse) => seen.push(r))
  stream.on('error', (e: ServiceError) => { if (e.code !== 1) error = `${e.code} ${e.details}` })
  return {seen, stop: () => { stream.cancel(); return error === undefined ? {} : {error} }}
}

/** Campaign, Proclaim, Leader, Resign and Observe, covering every answer and error etcd gives. */
async function electionScenario(el: ElectionClient, kv: EtcdClient, name: string): Promise<{t: Step[], base: number}> {
  const t: Step[] = []
  const [l1, l2] = [(await kv.leaseGrant(30)).ID, (await kv.leaseGrant(30)).ID]
  const base = (await kv.range(rangeRequest(b(name)))).header!.revision
  await record(t, 'leader of an empty election', call(el, el.leader, {name: b(name)}))
  await record(t, 'proclaim without a leader key', call(el, el.proclaim, {leader: undefined, value: b('x')}))
  await record(t, 'resign without a leader key', call(el, el.resign, {leader: undefined}))
  const obs = observeStream(el, name)
  const first = await call(el, el.campaign, {name: b(name), lease: l1, value: b('v1')})
  t.push(['campaign with l1', first])
  const leader = first.leader!
  await record(t, 'leader', call(el, el.leader, {name: b(name)}))
  await record(t, 'proclaim v2', call(el, el.proclaim, {leader, value: b('v2')}))
  await record(t, 'proclaim with a wrong revision', call(el, el.proclaim, {leader: {...leader, rev: leader.rev + 100}, value: b('x')}))
  await record(t, 'resign with a wrong revision', call(el, el.resign, {leader: {...leader, rev: leader.rev + 100}}))
  await record(t, 'campaign with an unknown lease', call(el, el.campaign, {name: b(name), lease: 0x1234n, value: b('x')}))
  await record(t, 'campaign with l2 until the deadline', call(el, el.campaign, {name: b(name), lease: l2, value: b('w')}, {}, 500))
  await waitKeys(kv, name, 1)
  const waiting = call(el, el.campaign, {name: b(name), lease: l2, value: b('w')}, {}, 15_000)
  await waitKeys(kv, name, 2)
  await record(t, 'resign l1', call(el, el.resign, {leader}))
  await record(t, 'the waiting campaign with l2', waiting)
  await record(t, 'campaign again with l2 and a new value', call(el, el.campaign, {name: b(name), lease: l2, value: b('w2')}))
  await waitFor('observe to see w2', () => obs.seen.some((r) => Buffer.from(r.kv?.value ?? []).toString() === 'w2'),
    {timeoutMs: 5000, intervalMs: 20})
  t.push(['observe', {...obs.stop(), seen: obs.seen}])
  await record(t, 'campaign with lease 0', call(el, el.campaign, {name: b(`${name}-zero`), lease: 0n, value: b('z')}))
  const granted = (await kv.range({...rangeRequest(b(`${name}-zero/`)), rangeEnd: b(`${name}-zero0`)})).kvs[0].lease
  await kv.leaseRevoke(granted)
  await kv.leaseRevoke(l1)
  await kv.leaseRevoke(l2)
  return {t, base}
}

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
