/**
 * `raftctl elect` through the built CLI against a real 3-node raftctl cluster: a campaigner
 * prints its key and proposal when elected and resigns at SIGINT, the next one (which said who
 * leads while it waited) is elected then, `--listen` prints each leader as it changes, a lost
 * session is reported at once, and etcdctl's elect takes part in the same elections both ways.
 */
import {expect} from 'chai'
import {EtcdClient} from '../../src/client/concurrency/index.js'
import {rangeRequest} from '../../src/client/concurrency/etcd.js'
import {prefixEnd} from '../../src/client/keys.js'
import {etcdctlProcess, stopAllLineProcesses} from '../client/concurrency/helpers.js'
import {requireEtcd} from '../compat/etcd_harness.js'
import {sleep, TestCluster, waitFor} from '../integration/harness.js'
import {type CliProcess, errorLine, runCli, spawnCli, startThreeNodes, stopNodes} from './cli_harness.js'

describe('raftctl elect against a 3-node cluster', function () {
  this.timeout(120_000)
  let tc: TestCluster
  let E: string[]
  let etcd: EtcdClient
  const spawned: CliProcess[] = []

  before(async function () {
    this.timeout(240_000)
    const three = await startThreeNodes()
    tc = three.tc
    E = three.E
    etcd = new EtcdClient(tc.node(1).client)
  })

  afterEach(async () => {
    for (const p of spawned.splice(0)) p.kill()
    await stopAllLineProcesses()
  })

  after(async () => {
    etcd?.close()
    await stopNodes(tc)
  })

  const elect = (args: readonly string[]): CliProcess => {
    const p = spawnCli(['elect', ...E, ...args])
    spawned.push(p)
    return p
  }

  async function keysOf(name: string): Promise<string[]> {
    const prefix = Buffer.from(`${name}/`)
    const res = await etcd.range(rangeRequest(prefix, {rangeEnd: prefixEnd(prefix)}))
    return res.kvs.sort((a, b) => a.createRevision - b.createRevision).map((kv) => Buffer.from(kv.key).toString())
  }

  it('elects in arrival order, says who leads while waiting, resigns at SIGINT, and --listen follows', async () => {
    const listen = elect(['svc', '--listen'])
    const first = elect(['svc', 'node-1'])
    const key1 = (await first.waitStdout(/^(svc\/[0-9a-f]+)\nnode-1\n$/))[1]
    const second = elect(['svc', 'node-2', '--json'])
    await second.waitOutput('waiting to lead svc (leader: node-1)', 'stderr')
    await waitFor('the second campaigner\'s key', async () => (await keysOf('svc')).length === 2)
    await sleep(300)
    expect(second.stdout).to.equal('')
    await listen.waitStdout(new RegExp(`^${key1}\nnode-1\n`))
    expect((await first.stop('SIGINT')).code).to.equal(0)
    const j = JSON.parse((await second.waitStdout(/^\{.*\}\n/))[0]) as {name: string, key: string, proposal: string, revision: number}
    expect(j).to.include({name: 'svc', proposal: 'node-2'})
    expect(j.key).to.match(/^svc\/[0-9a-f]+$/)
    expect(j.revision).to.be.greaterThan(0)
    await listen.waitStdout(new RegExp(`^${key1}\nnode-1\n${j.key}\nnode-2\n$`))
    expect((await second.stop('SIGTERM')).code).to.equal(0)
    expect(await keysOf('svc')).to.deep.equal([])
    expect((await listen.stop('SIGINT')).code).to.equal(0)
  })

  it('reports lost leadership at once when its lease is revoked', async () => {
    const p = elect(['lost', 'me', '--ttl', '3'])
    const key = (await p.waitStdout(/^(lost\/([0-9a-f]+))\n/))[1]
    const lease = key.slice('lost/'.length)
    expect((await runCli(['lease', 'revoke', lease, ...E])).code).to.equal(0)
    const r = await p.done
    expect(r.code).to.equal(1)
    expect(errorLine(r)).to.match(new RegExp(`^Error: lost leadership of lost: lease ${lease} expired or was revoked`))
  })

  it('refuses a campaign without a proposal and --listen with one', async () => {
    const none = await runCli(['elect', 'x', ...E])
    expect(none.code).to.equal(1)
    expect(errorLine(none)).to.equal('Error: give a proposal to campaign with, or --listen to print the leader')
    const both = await runCli(['elect', 'x', 'p', '--listen', ...E])
    expect(both.code).to.equal(1)
    expect(errorLine(both)).to.equal('Error: --listen does not campaign; give no proposal with it')
  })

  it('takes part in the same elections as etcdctl elect, both ways', async function () {
    requireEtcd(this)
    const endpoint = tc.node(3).client
    const ctl = etcdctlProcess(endpoint, ['elect', 'mixed', 'from-etcdctl'])
    const ctlKey = await ctl.waitLine(/^mixed\//)
    const ours = elect(['mixed', 'from-raftctl'])
    await ours.waitOutput('waiting to lead mixed (leader: from-etcdctl)', 'stderr')
    const ctlListen = etcdctlProcess(endpoint, ['elect', 'mixed', '--listen'])
    await ctlListen.waitLine(/^from-etcdctl$/)
    await ctl.stop('SIGINT')
    const ourKey = (await ours.waitStdout(/^(mixed\/[0-9a-f]+)\nfrom-raftctl\n$/))[1]
    expect(ourKey).to.not.equal(ctlKey)
    await ctlListen.waitLine(/^from-raftctl$/)
    const ctl2 = etcdctlProcess(endpoint, ['elect', 'mixed', 'etcdctl-again'])
    await waitFor('etcdctl\'s candidacy', async () => (await keysOf('mixed')).length === 2)
    await sleep(300)
    expect(ctl2.lines).to.deep.equal([])
    expect((await ours.stop('SIGINT')).code).to.equal(0)
    await ctl2.waitLine(/^etcdctl-again$/)
  })
})
