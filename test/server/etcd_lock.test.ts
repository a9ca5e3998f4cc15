/**
 * Our Lock service (src/server/services/etcd/lock.ts), backed by a real etcd 3.4, answers as
 * etcd's own Lock service: the same scenario runs against both and the normalized transcripts
 * (etcd_lock_helpers.ts) must be equal — keys, errors, headers modulo ids. Then its locks
 * exclude etcdctl lock's on the same name, both ways.
 */
import {credentials} from '@grpc/grpc-js'
import {expect} from 'chai'
import {EtcdClient} from '../../src/client/concurrency/index.js'
import {rangeRequest} from '../../src/client/concurrency/etcd.js'
import {LockClient} from '../../src/generated/etcd/v3lockpb/v3lock.js'
import {etcdctlProcess, settledWithin, stopAllLineProcesses} from '../client/concurrency/helpers.js'
import {call} from '../compat/etcd_grpc.js'
import {type EtcdCluster, requireEtcd, startEtcd, stopAllEtcd} from '../compat/etcd_harness.js'
import {normalize, RecipeTestServer, waitKeys} from './etcd_lock_helpers.js'
import {lockScenario} from './etcd_recipe_scenarios.js'

const b = (s: string): Buffer => Buffer.from(s)

describe('server: the Lock service over a real etcd 3.4, compared with etcd\'s own', function () {
  this.timeout(90_000)
  let etcd: EtcdCluster
  let ours: RecipeTestServer
  let kv: EtcdClient
  let etcdLock: LockClient
  let ourLock: LockClient

  before(async function () {
    requireEtcd(this)
    etcd = await startEtcd()
    ours = await RecipeTestServer.start(etcd.endpoints()[0])
    kv = new EtcdClient(etcd.endpoints()[0])
    etcdLock = new LockClient(etcd.endpoints()[0], credentials.createInsecure())
    ourLock = new LockClient(ours.endpoint, credentials.createInsecure())
  })
  afterEach(() => stopAllLineProcesses())
  after(async () => {
    etcdLock?.close()
    ourLock?.close()
    kv?.close()
    ours?.close()
    await stopAllEtcd()
  })

  it('answers the same keys, errors and headers as etcd\'s Lock service', async () => {
    const theirs = await lockScenario(etcdLock, kv, 'etcd-lock')
    const mine = await lockScenario(ourLock, kv, 'our-lock')
    const expected = normalize(theirs.t, 'etcd-lock', theirs.base)
    expect(normalize(mine.t, 'our-lock', mine.base)).to.deep.equal(expected)
    // The facts the comparison rests on, as etcd answered them.
    expect(JSON.stringify(expected)).to.include('{"code":"UNKNOWN","details":"etcdserver: requested lease not found"}')
    expect(JSON.stringify(expected)).to.include('{"code":"UNKNOWN","details":"etcdserver: key is not provided"}')
    expect(JSON.stringify(expected)).to.include('"key":"<name>/<lease:1>"')
  })

  it('refuses a request that does not decode with INVALID_ARGUMENT naming the method', async () => {
    const raw = new LockClient(ours.endpoint, credentials.createInsecure())
    try {
      const bad = await new Promise<{code: number, details: string}>((resolve) => {
        raw.makeUnaryRequest('/v3lockpb.Lock/Lock', (x: Buffer) => x, (x: Buffer) => x, Buffer.from([0x0a, 0xff]), (err) =>
          resolve({code: err?.code ?? 0, details: err?.details ?? ''}))
      })
      expect(bad.code).to.equal(3)
      expect(bad.details).to.match(/^the request to v3lockpb\.Lock\/Lock does not decode: /)
    } finally {
      raw.close()
    }
  })

  it('its locks and etcdctl lock\'s exclude each other on the same name', async () => {
    const endpoint = etcd.endpoints()[0]
    const lease = (await kv.leaseGrant(30)).ID
    const mine = await call(ourLock, ourLock.lock, {name: b('svc-shared'), lease})
    expect(Buffer.from(mine.key).toString()).to.equal(`svc-shared/${lease.toString(16)}`)
    const ctl = etcdctlProcess(endpoint, ['lock', 'svc-shared', '--ttl', '10'])
    await waitKeys(kv, 'svc-shared', 2)
    await new Promise((r) => setTimeout(r, 500))
    expect(ctl.lines).to.deep.equal([])
    await call(ourLock, ourLock.unlock, {key: mine.key})
    await ctl.waitLine(/^svc-shared\/[0-9a-f]+$/, 10_000)

    const waiting = call(ourLock, ourLock.lock, {name: b('svc-shared'), lease}, {}, 20_000)
    expect(await settledWithin(waiting, 1000)).to.equal('pending')
    expect(await ctl.stop('SIGTERM')).to.equal(0)
    expect(Buffer.from((await waiting).key).toString()).to.equal(`svc-shared/${lease.toString(16)}`)
    await kv.leaseRevoke(lease)
  })
})
