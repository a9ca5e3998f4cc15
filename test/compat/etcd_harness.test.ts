/**
 * The etcd harness works: a real single-member etcd 3.4 starts on free ports, etcdctl, the etcd3
 * client and our generated gRPC clients all read what the others wrote, and stopping it by pid
 * leaves no process and no data behind. The etcdctl helper bounds every run.
 */
import {existsSync} from 'node:fs'
import {expect} from 'chai'
import {Etcd3} from 'etcd3'
import {call, etcdClients} from './etcd_grpc.js'
import {type EtcdCluster, etcdBinariesMissing, etcdctl, requireEtcd, startEtcd, stopAllEtcd} from './etcd_harness.js'

const b = (s: string): Buffer => Buffer.from(s)

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('compat: etcd harness', function () {
  this.timeout(60_000)
  let etcd: EtcdCluster

  before(async function () {
    requireEtcd(this)
    etcd = await startEtcd()
  })

  after(stopAllEtcd)

  it('puts and gets through etcdctl, the etcd3 client and our generated client against a real etcd 3.4', async () => {
    const eps = etcd.endpoints()
    const put = await etcdctl(eps, ['put', 'greeting', 'hello'])
    expect(put).to.include({code: 0, stdout: 'OK\n'})

    const client = new Etcd3({hosts: eps.map((e) => `http://${e}`)})
    const ours = etcdClients(eps[0])
    try {
      expect(await client.get('greeting').string()).to.equal('hello')
      await client.put('from-etcd3').value('v1')
      await call(ours.kv, ours.kv.put, {key: b('from-ours'), value: b('v2'), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false})

      const got = await etcdctl(eps, ['get', '--prefix', 'from-'])
      expect(got).to.include({code: 0, stdout: 'from-etcd3\nv1\nfrom-ours\nv2\n'})
      const range = await call(ours.kv, ours.kv.range, {key: b('greeting'), rangeEnd: b(''), limit: 0, revision: 0, sortOrder: 0,
        sortTarget: 0, serializable: false, keysOnly: false, countOnly: false, minModRevision: 0, maxModRevision: 0,
        minCreateRevision: 0, maxCreateRevision: 0})
      expect(range.kvs.map((kv) => Buffer.from(kv.value).toString())).to.deep.equal(['hello'])
      expect(range.header!.revision).to.equal(4)
      expect(range.header!.memberId).to.be.a('bigint')
      expect(await client.get('from-ours').string()).to.equal('v2')
    } finally {
      client.close()
      ours.close()
    }
  })

  it('an etcdctl run that overruns its timeout is killed and reported as timed out', async () => {
    const started = Date.now()
    const r = await etcdctl(etcd.endpoints(), ['watch', 'never-written'], {timeoutMs: 1000})
    expect(r.timedOut).to.equal(true)
    expect(r.code).to.equal(null)
    expect(Date.now() - started).to.be.lessThan(5000)
  })

  it('a streaming etcdctl run stops once it printed the lines asked for', async () => {
    await etcdctl(etcd.endpoints(), ['put', 'w', 'x'])
    const r = await etcdctl(etcd.endpoints(), ['watch', '--rev', '1', 'w'], {stopAfterLines: 3, timeoutMs: 10_000})
    expect(r).to.include({timedOut: false, stdout: 'PUT\nw\nx\n'})
  })

  it('stopping the cluster ends every member process by pid and removes its data', async () => {
    const pids = etcd.members.map((m) => m.pid!)
    expect(pids.every(alive)).to.equal(true)
    await etcd.stop()
    expect(pids.filter(alive)).to.deep.equal([])
    expect(existsSync(etcd.dir)).to.equal(false)
  })
})

describe('compat: etcd binaries check', () => {
  it('names the missing binaries and the packages that provide them', () => {
    expect(etcdBinariesMissing({...process.env, PATH: '/nonexistent'}))
      .to.equal('etcd and etcdctl not found on PATH (apt-get install etcd-server etcd-client; .ci/run installs them)')
  })
})
