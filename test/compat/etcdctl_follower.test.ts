/**
 * etcdctl pointed only at a follower of a 3-node raftctl cluster, also while the leader changes
 * (issue 12: etcd clients do not follow redirects, so the member asked serves everything).
 * etcdctl runs put, get, txn and member list through the follower; the leader is killed with
 * kill -9; a put sent right after the kill either succeeds or ends with etcd's timeout text (its
 * outcome unknown, never a redirect or a foreign error), and once a new leader is elected etcdctl
 * writes and reads through the same follower again, and every put it saw succeed is there.
 */
import {expect} from 'chai'
import {requireEtcd, etcdctl} from './etcd_harness.js'
import {ensureBuilt, stopAll, TestCluster, waitFor} from '../integration/harness.js'

describe('compat: etcdctl given only a follower, across a leader kill', function () {
  this.timeout(180_000)
  const cluster = new TestCluster()
  before(function () {
    requireEtcd(this)
    ensureBuilt()
  })
  after(async () => {
    cluster.close()
    await stopAll()
  })

  it('puts, reads, runs a txn and lists members through the follower, before and after the leader dies', async () => {
    await cluster.bootstrap(3)
    const leader = await cluster.waitLeader()
    const follower = [1, 2, 3].find((id) => id !== leader)!
    const ep = [cluster.node(follower).client]
    const acked: string[] = []
    const put = await etcdctl(ep, ['put', 'fo/0', 'v0'])
    expect([put.code, put.stdout]).to.deep.equal([0, 'OK\n'])
    acked.push('fo/0')
    const txn = await etcdctl(ep, ['txn'], {input: 'value("fo/0") = "v0"\n\nput fo/t yes\n\nput fo/t no\n\n'})
    expect([txn.code, txn.stdout]).to.deep.equal([0, 'SUCCESS\n\nOK\n'])
    acked.push('fo/t')
    const members = await etcdctl(ep, ['member', 'list'])
    expect(members.stdout.trim().split('\n'), members.stderr).to.have.length(3)

    const n = cluster.node(leader)
    process.kill(n.proc!.pid!, 'SIGKILL')
    await n.waitExit()
    const during = await etcdctl(ep, ['--command-timeout', '3s', 'put', 'fo/1', 'v1'])
    if (during.code === 0) {
      acked.push('fo/1')
    } else {
      expect(during.stderr.trim().split('\n').at(-1), 'an unknown outcome, in etcd\'s words')
        .to.match(/^Error: (context deadline exceeded|etcdserver: request timed out.*|etcdserver: no leader|etcdserver: leader changed)$/)
    }
    await waitFor('a put through the follower after the new election', async () => {
      const r = await etcdctl(ep, ['--command-timeout', '2s', 'put', 'fo/2', 'v2'])
      return r.code === 0
    }, {timeoutMs: 60_000, intervalMs: 500})
    acked.push('fo/2')
    const get = await etcdctl(ep, ['get', 'fo/', '--prefix', '--keys-only'])
    expect(get.code, get.stderr).to.equal(0)
    const keys = get.stdout.split('\n').filter((l) => l !== '')
    for (const k of acked) expect(keys, `acknowledged ${k}`).to.include(k)
  })
})
