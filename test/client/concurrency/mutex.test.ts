/**
 * The Mutex recipe against a real etcd 3.4: arrival order, a waiter leaving the queue, release
 * by revoke and by a killed holder process within the TTL, fencing, and mutual exclusion with
 * `etcdctl lock` both ways (the same key scheme).
 */
import {expect} from 'chai'
import {EtcdClient, Mutex, MutexSessionExpiredError, Session} from '../../../src/client/concurrency/index.js'
import {oldestUnder, putRequest, txnRequest} from '../../../src/client/concurrency/etcd.js'
import {namePrefix} from '../../../src/client/concurrency/mutex.js'
import {type EtcdCluster, requireEtcd, startEtcd, stopAllEtcd} from '../../compat/etcd_harness.js'
import {waitFor} from '../../integration/harness.js'
import {etcdctlProcess, lockHolderProcess, settledWithin, stopAllLineProcesses, text} from './helpers.js'

/** etcd revokes expired leases in a loop every 500 ms, then commits the revoke and notifies watchers. */
const EXPIRY_SLACK_MS = 2000

describe('concurrency: Mutex against etcd 3.4', function () {
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

  const session = async (ttl = 10): Promise<Session> => {
    const s = await Session.create(client, {ttl})
    sessions.push(s)
    return s
  }
  /** Waits until `n` contenders' keys are under the lock's name. */
  const waitQueue = (name: string, n: number): Promise<unknown> => waitFor(`${n} keys under ${name}/`, async () => {
    const res = await client.range({...oldestUnder(namePrefix(name)), limit: 0})
    return res.kvs.length === n
  }, {timeoutMs: 10_000, intervalMs: 20})

  it('gives the lock to three contenders in arrival order, each after the previous one unlocks', async () => {
    const [a, b, c] = [new Mutex(await session(), 'fifo'), new Mutex(await session(), 'fifo'), new Mutex(await session(), 'fifo')]
    const order: string[] = []
    const revs: number[] = []
    const got = (name: string, m: Mutex): void => {
      order.push(name)
      revs.push(m.revision)
    }
    await a.lock(AbortSignal.timeout(10_000))
    got('a', a)
    const bLock = b.lock(AbortSignal.timeout(20_000)).then(() => got('b', b))
    await waitQueue('fifo', 2)
    const cLock = c.lock(AbortSignal.timeout(20_000)).then(() => got('c', c))
    await waitQueue('fifo', 3)
    expect(await settledWithin(bLock, 300)).to.equal('pending')
    await a.unlock()
    await bLock
    expect(await settledWithin(cLock, 300)).to.equal('pending')
    await b.unlock()
    await cLock
    expect(order).to.deep.equal(['a', 'b', 'c'])
    expect(revs[0]).to.be.greaterThan(0)
    expect(revs[1]).to.be.greaterThan(revs[0])
    expect(revs[2]).to.be.greaterThan(revs[1])
    await c.unlock()
    expect(c.revision).to.equal(-1)
  })

  it('a waiter that gives up leaves the queue and the next one keeps waiting for the holder', async () => {
    const [a, b, c] = [new Mutex(await session(), 'leave'), new Mutex(await session(), 'leave'), new Mutex(await session(), 'leave')]
    await a.lock()
    const giveUp = new AbortController()
    const bLock = b.lock(giveUp.signal)
    await waitQueue('leave', 2)
    const cLock = c.lock(AbortSignal.timeout(20_000))
    await waitQueue('leave', 3)
    giveUp.abort(new Error('b gives up'))
    const bOutcome = await settledWithin(bLock, 5000)
    expect(bOutcome).to.have.property('error').that.has.property('message', 'b gives up')
    await waitQueue('leave', 2)
    expect(await settledWithin(cLock, 500)).to.equal('pending')
    await a.unlock()
    await cLock
    await c.unlock()
  })

  it('the key is <name>/<lease hex> with the session lease, and the lock is reentrant for its session', async () => {
    const s = await session()
    const m = new Mutex(s, 'scheme')
    await m.lock()
    expect(text(m.key)).to.equal(`scheme/${s.lease.toString(16)}`)
    const kv = (await client.range({...oldestUnder(namePrefix('scheme'))})).kvs[0]
    expect(kv.lease).to.equal(s.lease)
    expect(kv.createRevision).to.equal(m.revision)
    const again = new Mutex(s, 'scheme')
    await again.lock(AbortSignal.timeout(5000))
    expect(again.revision).to.equal(m.revision)
    await m.unlock()
  })

  it('a holder whose lease is revoked loses the lock: the next waiter gets it and the old holder\'s fenced write fails', async () => {
    const holder = await session(3)
    const a = new Mutex(holder, 'revoked')
    const b = new Mutex(await session(), 'revoked')
    await a.lock()
    const guarded = (m: Mutex) => client.txn(txnRequest([m.isOwner()], [{requestPut: putRequest(Buffer.from('fenced'), Buffer.from('x'), 0n)}]))
    expect((await guarded(a)).succeeded).to.equal(true)
    const bLock = b.lock(AbortSignal.timeout(20_000))
    await waitQueue('revoked', 2)
    const other = new EtcdClient(endpoint)
    try {
      await other.leaseRevoke(holder.lease)
    } finally {
      other.close()
    }
    await bLock
    expect((await guarded(a)).succeeded).to.equal(false)
    expect((await guarded(b)).succeeded).to.equal(true)
    expect(b.revision).to.be.greaterThan(a.revision)
    const end = await settledWithin(holder.done, 3000)
    expect(end).to.have.property('value').that.has.property('reason', 'expired')
    await b.unlock()
  })

  it('a waiter whose lease ends while it waits fails with "mutex: session is expired" instead of getting a lock nobody holds', async () => {
    const a = new Mutex(await session(), 'expired-waiter')
    await a.lock()
    const lease = (await client.leaseGrant(30)).ID
    const b = new Mutex({client, lease}, 'expired-waiter')
    const bLock = b.lock(AbortSignal.timeout(20_000))
    await waitQueue('expired-waiter', 2)
    await client.leaseRevoke(lease)
    await waitQueue('expired-waiter', 1)
    await a.unlock()
    const outcome = await settledWithin(bLock, 5000)
    expect(outcome).to.have.property('error').that.is.instanceOf(MutexSessionExpiredError)
    expect((outcome as {error: Error}).error.message).to.equal('mutex: session is expired')
  })

  it('a holder process killed with SIGKILL releases the lock within its TTL and the next waiter gets it', async () => {
    const ttl = 3
    const holder = lockHolderProcess(endpoint, 'killed', ttl)
    const line = await holder.waitLine(/^LOCKED /, 30_000)
    const holderRev = Number(line.split(' ')[2])
    const waiter = new Mutex(await session(), 'killed')
    const wait = waiter.lock(AbortSignal.timeout(30_000))
    await waitQueue('killed', 2)
    expect(await settledWithin(wait, 500)).to.equal('pending')
    holder.signal('SIGKILL')
    const killedAt = Date.now()
    await holder.exited
    await wait
    const released = Date.now() - killedAt
    expect(released).to.be.at.most(ttl * 1000 + EXPIRY_SLACK_MS)
    expect(waiter.revision).to.be.greaterThan(holderRev)
    await waiter.unlock()
  })

  it('excludes etcdctl lock, and etcdctl lock excludes it, on the same name', async () => {
    // etcdctl holds first: ours waits until etcdctl is stopped (it unlocks on SIGTERM).
    const ctl = etcdctlProcess(endpoint, ['lock', 'shared', '--ttl', '10'])
    const ctlKey = await ctl.waitLine(/^shared\//, 20_000)
    expect(ctlKey).to.match(/^shared\/[0-9a-f]+$/)
    const ours = new Mutex(await session(), 'shared')
    const oursLock = ours.lock(AbortSignal.timeout(20_000))
    expect(await settledWithin(oursLock, 1000)).to.equal('pending')
    expect(await ctl.stop('SIGTERM')).to.equal(0)
    await oursLock
    expect(Buffer.from(ours.key).toString()).to.not.equal(ctlKey)

    // Ours holds: etcdctl waits (prints nothing) until we unlock, then prints its key.
    const ctl2 = etcdctlProcess(endpoint, ['lock', 'shared', '--ttl', '10'])
    await waitQueue('shared', 2)
    await new Promise((r) => setTimeout(r, 500))
    expect(ctl2.lines).to.deep.equal([])
    await ours.unlock()
    expect(await ctl2.waitLine(/^shared\//, 10_000)).to.match(/^shared\/[0-9a-f]+$/)
    expect(await ctl2.stop('SIGTERM')).to.equal(0)
  })
})
