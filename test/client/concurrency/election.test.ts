/**
 * The Election recipe against a real etcd 3.4: campaign, observe, proclaim, resign, leader, and
 * interoperation with `etcdctl elect` (campaigning against it both ways, and etcdctl observing
 * our proclamations).
 */
import {expect} from 'chai'
import {
  Election, ElectionNoLeaderError, ElectionNotLeaderError, EtcdClient, type LeaderObservation, Session,
} from '../../../src/client/concurrency/index.js'
import {oldestUnder} from '../../../src/client/concurrency/etcd.js'
import {type EtcdCluster, requireEtcd, startEtcd, stopAllEtcd} from '../../compat/etcd_harness.js'
import {waitFor} from '../../integration/harness.js'
import {etcdctlProcess, settledWithin, stopAllLineProcesses, text} from './helpers.js'

/** Collects what observe() yields until stopped. */
function observer(e: Election): {seen: LeaderObservation[], values: () => string[], stop: () => Promise<void>} {
  const ac = new AbortController()
  const seen: LeaderObservation[] = []
  const done = (async () => {
    for await (const o of e.observe(ac.signal)) seen.push(o)
  })()
  return {seen, values: () => seen.map((o) => text(o.kv.value)), stop: async () => { ac.abort(); await done }}
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

describe('concurrency: Election against etcd 3.4', function () {
  this.timeout(60_000)
  let etcd: EtcdCluster
  let endpoint: string
  let client: EtcdClient
  const sessions: Session[] = []

  before(async function () {
    requireEtcd(this)
    etcd = await startEtcd()
    endpoint = etcd.endpoints()[0]
    client = new EtcdClient(endpoint)
  })
  afterEach(async () => {
    await stopAllLineProcesses()
    for (const s of sessions.splice(0)) await s.close().catch(() => undefined)
  })
  after(async () => {
    client?.close()
    await stopAllEtcd()
  })

  const session = async (): Promise<Session> => {
    const s = await Session.create(client, {ttl: 10})
    sessions.push(s)
    return s
  }

  it('campaign, observe, proclaim, leader and resign', async () => {
    const sa = await session()
    const a = Election.create(sa, 'svc')
    const b = Election.create(await session(), 'svc')
    expect(await rejection(a.leader())).to.be.instanceOf(ElectionNoLeaderError)
    const obs = observer(Election.create(sa, 'svc'))

    await a.campaign('a1', AbortSignal.timeout(10_000))
    expect(text(a.key)).to.equal(`svc/${sa.lease.toString(16)}`)
    const bWins = b.campaign('b1', AbortSignal.timeout(20_000))
    expect(await settledWithin(bWins, 500)).to.equal('pending')
    await a.proclaim('a2')
    const leader = await a.leader()
    expect(text(leader.kvs[0].value)).to.equal('a2')
    expect(leader.kvs[0].createRevision).to.equal(a.rev)
    await waitFor('the observer to see a2', () => obs.values().includes('a2'), {timeoutMs: 5000, intervalMs: 20})

    await a.resign()
    await bWins
    expect(text((await b.leader()).kvs[0].value)).to.equal('b1')
    expect(await rejection(a.proclaim('late'))).to.be.instanceOf(ElectionNotLeaderError)
    await waitFor('the observer to see b1', () => obs.values().includes('b1'), {timeoutMs: 5000, intervalMs: 20})
    await obs.stop()
    expect(obs.values()).to.deep.equal(['a1', 'a2', 'b1'])
    const revs = obs.seen.map((o) => o.header.revision)
    expect([...revs].sort((x, y) => x - y)).to.deep.equal(revs)
    await b.resign()
    expect(await rejection(b.leader())).to.be.instanceOf(ElectionNoLeaderError)
  })

  it('a campaign that gives up withdraws its candidacy; a proclaim by a resigned leader fails', async () => {
    const a = Election.create(await session(), 'giveup')
    const b = Election.create(await session(), 'giveup')
    await a.campaign('a')
    const ac = new AbortController()
    const bWins = b.campaign('b', ac.signal)
    const contenders = async (): Promise<number> => (await client.range({...oldestUnder(Buffer.from('giveup/')), limit: 0})).kvs.length
    await waitFor('b queued', async () => await contenders() === 2, {timeoutMs: 5000, intervalMs: 20})
    ac.abort(new Error('b gives up'))
    expect(await rejection(bWins)).to.have.property('message', 'b gives up')
    await waitFor('b withdrawn', async () => await contenders() === 1, {timeoutMs: 5000, intervalMs: 20})
    await a.resign()
    expect(await rejection(a.proclaim('x'))).to.be.instanceOf(ElectionNotLeaderError)
  })

  it('interoperates with etcdctl elect: each waits for the other, and etcdctl observes our proclamations', async () => {
    // etcdctl leads; ours waits until etcdctl resigns (on SIGTERM).
    const ctl = etcdctlProcess(endpoint, ['elect', 'shared', 'from-etcdctl'])
    const ctlKey = await ctl.waitLine(/^shared\//, 20_000)
    expect(ctlKey).to.match(/^shared\/[0-9a-f]+$/)
    await ctl.waitLine(/^from-etcdctl$/)
    const ours = Election.create(await session(), 'shared')
    expect(text((await ours.leader()).kvs[0].value)).to.equal('from-etcdctl')
    const oursWins = ours.campaign('from-raftctl', AbortSignal.timeout(20_000))
    expect(await settledWithin(oursWins, 1000)).to.equal('pending')

    const listener = etcdctlProcess(endpoint, ['elect', '--listen', 'shared'])
    await listener.waitLine(/^from-etcdctl$/)
    expect(await ctl.stop('SIGTERM')).to.equal(0)
    await oursWins
    await listener.waitLine(/^from-raftctl$/)
    await ours.proclaim('proclaimed')
    await listener.waitLine(/^proclaimed$/)

    // Ours leads; etcdctl waits (prints nothing) until we resign.
    const ctl2 = etcdctlProcess(endpoint, ['elect', 'shared', 'second'])
    await new Promise((r) => setTimeout(r, 1000))
    expect(ctl2.lines).to.deep.equal([])
    await ours.resign()
    await ctl2.waitLine(/^second$/, 10_000)
    await listener.waitLine(/^second$/)
    expect(await ctl2.stop('SIGTERM')).to.equal(0)
    expect(await listener.stop('SIGTERM')).to.equal(0)
  })
})
