/**
 * Issue 11 #9 on real processes: a node of another cluster never serves as a member of this one.
 *
 * 1. The reported scenario, exactly: a backup of this cluster restored (`snapshot restore`) as
 *    node 5 of a new single-node cluster, member 5 added to this cluster with that node's peer
 *    address, and the restored data dir started with --initial-cluster naming this cluster's
 *    members and --initial-cluster-state existing. Before the fix it elected itself and
 *    acknowledged writes at member 5's address; now it refuses to start with one line naming both
 *    cluster ids, and nothing answers there.
 * 2. The same mistake noticed later: a node restored into another cluster whose members are this
 *    cluster's addresses starts while this cluster is down (nobody to ask), and stops with the
 *    same line once this cluster's nodes are back and refuse its messages as another cluster's.
 */
import {expect} from 'chai'
import {join} from 'node:path'
import {RaftctlClient} from '../../src/client/index.js'
import {runCli} from '../commands/cli_harness.js'
import {ensureBuilt, stopAll, TestCluster, waitFor} from './harness.js'

/** The lines of a node's output that say it does not belong (the Error line or the fatal log line). */
const foreignLines = (out: string): string[] =>
  out.split('\n').filter((l) => /belongs to cluster \d+ \(data dir .*\), but its peers belong to cluster \d+/.test(l))

describe('integration: a node of another cluster does not serve in this one', function () {
  this.timeout(180_000)
  const cluster = new TestCluster()
  const ids = [1, 2, 3]
  let E: string[]
  let ours: number
  let backup: string

  before(async function () {
    this.timeout(240_000)
    ensureBuilt()
    await cluster.bootstrap(3)
    await cluster.waitLeader()
    const client = cluster.client(ids)
    await client.put('foreign/1', 'one')
    ours = Number((await client.status()).header!.clusterId)
    E = ['--endpoints', ids.map((id) => cluster.node(id).client).join(',')]
    backup = join(cluster.root, 'backup.snap')
    const save = await runCli(['snapshot', 'save', backup, ...E])
    expect(save.code, save.stderr).to.equal(0)
  })

  after(async () => {
    cluster.close()
    await stopAll()
  })

  /** Restores the backup as node `id` of a new cluster of `initial`; returns that cluster's id. */
  async function restore(dataDir: string, id: number, initial: string): Promise<number> {
    const r = await runCli(['snapshot', 'restore', backup, '--data-dir', dataDir, '--id', String(id), '--initial-cluster', initial, '--yes'])
    expect(r.code, r.stderr).to.equal(0)
    const other = Number(/cluster id (\d+)/.exec(r.stdout)?.[1])
    expect(other).to.be.a('number').and.not.equal(ours)
    return other
  }

  it('refuses to start a data dir restored as node 5 of another cluster, started as member 5 of this one', async () => {
    const spec = await cluster.spec(5)
    const peer5 = `127.0.0.1:${spec.peerPort}`
    const other = await restore(spec.dataDir, 5, `5=${peer5}`)
    const add = await runCli(['member', 'add', '5', '--peer-url', peer5, '--learner', ...E])
    expect(add.code, add.stderr).to.equal(0)
    const initial = [...ids.map((id) => `${id}=${cluster.node(id).peer}`), `5=${peer5}`].join(',')
    const n5 = cluster.add(spec, ['--initial-cluster', initial, '--initial-cluster-state', 'existing']).start()
    expect(await n5.waitExit(30_000), 'exit code').to.equal(1)
    const errors = n5.output.split('\n').filter((l) => l.startsWith('Error:'))
    expect(errors, n5.output).to.have.length(1)
    expect(errors[0]).to.match(new RegExp(`^Error: node 5 belongs to cluster ${other} \\(data dir ${spec.dataDir}\\), ` +
      `but its peers belong to cluster ${ours} \\(node \\d at 127\\.0\\.0\\.1:\\d+ answered\\)`))
    expect(n5.lines('serving'), 'it never served').to.deep.equal([])
    const c5 = new RaftctlClient({endpoints: [n5.client], timeoutMs: 2000})
    try {
      let refused: unknown
      await c5.put('foreign/at-5', 'x').catch((e) => { refused = e })
      expect(refused, 'no write is acknowledged at member 5\'s address').to.be.instanceOf(Error)
    } finally {
      c5.close()
    }
    const rm = await runCli(['member', 'remove', '5', '--yes', ...E])
    expect(rm.code, rm.stderr).to.equal(0)
  })

  it('stops a node of another cluster once this cluster\'s nodes are back and refuse its messages', async () => {
    const spec = await cluster.spec(6)
    const initial = [...ids.map((id) => `${id}=${cluster.node(id).peer}`), `6=127.0.0.1:${spec.peerPort}`].join(',')
    const other = await restore(spec.dataDir, 6, initial)
    for (const id of ids) expect(await cluster.node(id).stop('SIGTERM'), `node ${id} exits 0`).to.equal(0)
    const n6 = cluster.add(spec, []).start()
    await waitFor('node 6 to serve (none of its peers answers yet)', () => n6.lines('serving').length > 0 || !n6.running, {timeoutMs: 30_000})
    expect(n6.running, n6.output).to.equal(true)
    for (const id of ids) cluster.node(id).start()
    expect(await n6.waitExit(40_000), 'exit code').to.equal(1)
    const lines = foreignLines(n6.output)
    expect(lines, n6.output).to.have.length(1)
    expect(JSON.parse(lines[0])).to.deep.include({event: 'foreign-cluster', code: 'FOREIGN_CLUSTER', level: 60})
    expect(JSON.parse(lines[0]).msg).to.match(new RegExp(`^node 6 belongs to cluster ${other} .*but its peers belong to cluster ${ours} `))
    await cluster.waitLeader(ids)
    const put = await cluster.client(ids).put('foreign/after', 'ok')
    expect(Number(put.header!.clusterId)).to.equal(ours)
  })
})
