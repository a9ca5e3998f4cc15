/**
 * etcd's Lock and Election services on a real 3-node raftctl cluster, through a follower's
 * endpoint: the scenarios of etcd_recipe_scenarios.ts give the same normalized transcripts as
 * etcd 3.4's own services (keys, errors, headers modulo ids and terms), and raftctl's locks and
 * etcdctl lock's exclude each other on the same name.
 */
import {credentials} from '@grpc/grpc-js'
import {expect} from 'chai'
import {EtcdClient} from '../../src/client/concurrency/index.js'
import {ElectionClient} from '../../src/generated/etcd/v3electionpb/v3election.js'
import {LockClient} from '../../src/generated/etcd/v3lockpb/v3lock.js'
import {etcdctlProcess, stopAllLineProcesses} from '../client/concurrency/helpers.js'
import {call} from '../compat/etcd_grpc.js'
import {type EtcdCluster, requireEtcd, startEtcd, stopAllEtcd} from '../compat/etcd_harness.js'
import {ensureBuilt, stopAll, TestCluster} from '../integration/harness.js'
import {normalize, waitKeys} from './etcd_lock_helpers.js'
import {electionScenario, lockScenario} from './etcd_recipe_scenarios.js'

describe('server: etcd Lock and Election on a 3-node raftctl cluster, compared with etcd 3.4', function () {
  this.timeout(180_000)
  const cluster = new TestCluster()
  let etcd: EtcdCluster
  let endpoint: string
  const closers: Array<{close(): void}> = []
  const etcdKv = (): EtcdClient => closers[closers.push(new EtcdClient(etcd.endpoints()[0])) - 1] as EtcdClient
  const ourKv = (): EtcdClient => closers[closers.push(new EtcdClient(endpoint)) - 1] as EtcdClient

  before(async function () {
    this.timeout(240_000)
    requireEtcd(this)
    ensureBuilt()
    etcd = await startEtcd()
    await cluster.bootstrap(3)
    const leader = await cluster.waitLeader()
    endpoint = cluster.node([1, 2, 3].find((id) => id !== leader)!).client
  })
  afterEach(() => stopAllLineProcesses())
  after(async () => {
    for (const c of closers) c.close()
    cluster.close()
    await stopAll()
    await stopAllEtcd()
  })

  it('Lock answers the same keys, errors and headers as etcd\'s', async () => {
    const [theirLock, ourLock] = [new LockClient(etcd.endpoints()[0], credentials.createInsecure()), new LockClient(endpoint, credentials.createInsecure())]
    closers.push(theirLock, ourLock)
    const theirs = await lockScenario(theirLock, etcdKv(), 'lock-a')
    const mine = await lockScenario(ourLock, ourKv(), 'lock-a')
    expect(normalize(mine.t, 'lock-a', mine.base)).to.deep.equal(normalize(theirs.t, 'lock-a', theirs.base))
  })

  it('Election answers the same leaders, values, errors and observations as etcd\'s', async () => {
    const [theirEl, ourEl] = [new ElectionClient(etcd.endpoints()[0], credentials.createInsecure()), new ElectionClient(endpoint, credentials.createInsecure())]
    closers.push(theirEl, ourEl)
    const theirs = await electionScenario(theirEl, etcdKv(), 'elect-a')
    const mine = await electionScenario(ourEl, ourKv(), 'elect-a')
    expect(normalize(mine.t, 'elect-a', mine.base)).to.deep.equal(normalize(theirs.t, 'elect-a', theirs.base))
  })

  it('a Lock of the service and etcdctl lock on raftctl exclude each other', async () => {
    const kv = ourKv()
    const lock = new LockClient(endpoint, credentials.createInsecure())
    closers.push(lock)
    const lease = (await kv.leaseGrant(30)).ID
    const mine = await call(lock, lock.lock, {name: Buffer.from('shared'), lease})
    const ctl = etcdctlProcess(endpoint, ['lock', 'shared', '--ttl', '10'])
    await waitKeys(kv, 'shared', 2)
    await new Promise((r) => setTimeout(r, 500))
    expect(ctl.lines, 'etcdctl waits while the service holds the lock').to.deep.equal([])
    await call(lock, lock.unlock, {key: mine.key})
    await ctl.waitLine(/^shared\/[0-9a-f]+$/, 10_000)
    expect(await ctl.stop('SIGTERM')).to.equal(0)
    await kv.leaseRevoke(lease)
  })
})
