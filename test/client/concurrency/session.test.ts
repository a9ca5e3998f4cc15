/**
 * Sessions against a real etcd 3.4: the lease lives past its TTL while kept alive, close()
 * revokes it (its keys go), and a lost lease is reported: at the next keep-alive when revoked by
 * someone else, and within the TTL when the server stops answering (etcd paused with SIGSTOP)
 * or its keep-alive stream keeps failing (etcd killed).
 */
import {expect} from 'chai'
import {EtcdClient, Session, SessionError} from '../../../src/client/concurrency/index.js'
import {putRequest, rangeRequest} from '../../../src/client/concurrency/etcd.js'
import {type EtcdCluster, requireEtcd, startEtcd, stopAllEtcd} from '../../compat/etcd_harness.js'
import {sleep} from '../../integration/harness.js'
import {settledWithin} from './helpers.js'

describe('concurrency: Session against etcd 3.4', function () {
  this.timeout(60_000)
  let etcd: EtcdCluster
  let client: EtcdClient

  before(async function () {
    requireEtcd(this)
    etcd = await startEtcd()
    client = new EtcdClient(etcd.endpoints()[0])
  })
  after(async () => {
    const m = etcd?.members[0]
    if (m?.running === true && m.pid !== undefined) process.kill(m.pid, 'SIGCONT')
    client?.close()
    await stopAllEtcd()
  })

  const timeToLive = async (lease: bigint): Promise<number> =>
    (await new Promise<{TTL: number}>((resolve, reject) => client.leaseClient.leaseTimeToLive({ID: lease, keys: false},
      (err, res) => err !== null ? reject(err) : resolve(res)))).TTL

  it('keeps its lease alive past the TTL, and close() revokes it and deletes its keys', async () => {
    const s = await Session.create(client, {ttl: 2})
    const key = Buffer.from('session/key')
    await client.put(putRequest(key, Buffer.from('v'), s.lease))
    await sleep(4500)
    expect(s.ended).to.equal(undefined)
    expect(await timeToLive(s.lease)).to.be.greaterThan(0)
    await s.close()
    expect((await s.done).reason).to.equal('closed')
    expect((await client.range(rangeRequest(key))).kvs).to.have.length(0)
    expect(await timeToLive(s.lease)).to.equal(-1)
  })

  it('keeps an existing lease alive, and refuses a lease that does not exist', async () => {
    const granted = await client.leaseGrant(5)
    const s = await Session.create(client, {lease: granted.ID})
    expect(s.lease).to.equal(granted.ID)
    expect(s.ttlSeconds).to.equal(5)
    s.orphan()
    expect((await s.done).reason).to.equal('orphaned')
    expect(await timeToLive(granted.ID)).to.be.greaterThan(0)
    await client.leaseRevoke(granted.ID)
    let err: unknown
    try {
      await Session.create(client, {lease: granted.ID, signal: AbortSignal.timeout(5000)})
    } catch (e) {
      err = e
    }
    expect(err).to.be.instanceOf(SessionError)
    expect((err as Error).message).to.match(/^lease [0-9a-f]+ expired or was revoked: its keep-alive was answered with TTL -?\d+$/)
  })

  it('refuses a TTL that is not a positive whole number of seconds', async () => {
    for (const ttl of [0, -1, 1.5]) {
      let err: unknown
      try {
        await Session.create(client, {ttl})
      } catch (e) {
        err = e
      }
      expect(err, String(ttl)).to.be.instanceOf(SessionError)
      expect((err as Error).message).to.equal(`session TTL must be a positive whole number of seconds, got ${ttl}`)
    }
  })

  it('reports a lease revoked by someone else at its next keep-alive', async () => {
    const s = await Session.create(client, {ttl: 3})
    const ends: string[] = []
    s.onEnd((e) => ends.push(e.reason))
    const other = new EtcdClient(etcd.endpoints()[0])
    try {
      await other.leaseRevoke(s.lease)
    } finally {
      other.close()
    }
    // The next keep-alive goes out at most TTL/3 after the last answer.
    const end = await settledWithin(s.done, 1000 + 1500)
    expect(end).to.have.property('value').that.deep.equals({
      reason: 'expired', message: `lease ${s.lease.toString(16)} expired or was revoked: its keep-alive was answered with TTL 0`,
    })
    expect(ends).to.deep.equal(['expired'])
  })

  it('reports the loss within the TTL when the server stops answering (etcd paused)', async () => {
    const ttl = 3
    const s = await Session.create(client, {ttl})
    await sleep(200)
    const pid = etcd.members[0].pid!
    process.kill(pid, 'SIGSTOP')
    const pausedAt = Date.now()
    try {
      const end = await settledWithin(s.done, ttl * 1000 + 1000)
      const after = Date.now() - pausedAt
      expect(end).to.have.property('value').that.has.property('reason', 'unconfirmed')
      expect((end as {value: {message: string}}).value.message)
        .to.match(new RegExp(`^lease ${s.lease.toString(16)}: no keep-alive was confirmed within its TTL of ${ttl} s \\(.*\\); it may have expired$`))
      // Not before the last confirmed keep-alive's TTL could have run out: at least TTL - TTL/3 after the pause.
      expect(after).to.be.at.least((ttl * 1000 * 2) / 3 - 100)
    } finally {
      process.kill(pid, 'SIGCONT')
    }
    await etcd.waitHealthy()
  })

  it('reports the loss within the TTL when its keep-alive stream keeps failing (etcd killed); runs last', async () => {
    const ttl = 3
    const s = await Session.create(client, {ttl})
    await sleep(200)
    await etcd.members[0].stop('SIGKILL')
    const killedAt = Date.now()
    const end = await settledWithin(s.done, ttl * 1000 + 1000)
    expect(end).to.have.property('value').that.has.property('reason', 'unconfirmed')
    expect((end as {value: {message: string}}).value.message).to.match(/\(last error: .+\); it may have expired$/)
    expect(Date.now() - killedAt).to.be.at.least((ttl * 1000 * 2) / 3 - 100)
  })
})
