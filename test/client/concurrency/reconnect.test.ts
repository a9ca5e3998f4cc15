/**
 * The recipes ride out a server restart shorter than the session TTL, as clientv3's do: the
 * session's keep-alive stream and a waiter's watch are opened again, the watch from the revision
 * after its last event, so the waiter still gets the lock when the holder unlocks.
 */
import {expect} from 'chai'
import {EtcdClient, Mutex, Session} from '../../../src/client/concurrency/index.js'
import {oldestUnder} from '../../../src/client/concurrency/etcd.js'
import {namePrefix} from '../../../src/client/concurrency/mutex.js'
import {type EtcdCluster, requireEtcd, startEtcd, stopAllEtcd} from '../../compat/etcd_harness.js'
import {waitFor} from '../../integration/harness.js'
import {settledWithin} from './helpers.js'

describe('concurrency: the recipes across an etcd restart', function () {
  this.timeout(90_000)
  let etcd: EtcdCluster

  before(async function () {
    requireEtcd(this)
    etcd = await startEtcd()
  })
  after(() => stopAllEtcd())

  it('a waiter keeps its place and gets the lock after the restart; both sessions live on', async () => {
    const client = new EtcdClient(etcd.endpoints()[0])
    const [sa, sb] = [await Session.create(client, {ttl: 20}), await Session.create(client, {ttl: 20})]
    try {
      const a = new Mutex(sa, 'restart')
      const b = new Mutex(sb, 'restart')
      await a.lock()
      const bLock = b.lock(AbortSignal.timeout(60_000))
      await waitFor('b queued', async () => (await client.range({...oldestUnder(namePrefix('restart')), limit: 0})).kvs.length === 2,
        {timeoutMs: 10_000, intervalMs: 20})

      const m = etcd.members[0]
      await m.stop('SIGTERM')
      m.start(`${m.name}=${m.peerUrl}`, 'restart', [])
      await etcd.waitHealthy()
      expect(await settledWithin(bLock, 1000)).to.equal('pending')
      // The channel reconnects with back-off: retry the unlock until it goes through (bounded).
      await waitFor('a unlocked', async () => { await a.unlock(); return true }, {timeoutMs: 20_000, intervalMs: 200})
      const outcome = await settledWithin(bLock, 15_000)
      expect(outcome).to.have.property('value')
      expect(sa.ended).to.equal(undefined)
      expect(sb.ended).to.equal(undefined)
      await b.unlock()
    } finally {
      await sa.close().catch(() => undefined)
      await sb.close().catch(() => undefined)
      client.close()
    }
  })
})
