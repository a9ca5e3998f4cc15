/**
 * The client across a leader failover, on real `raftctl server start` processes driven through
 * the built CLI and the typed client: right after `kill -9` of the leader of a three-node
 * cluster, a put with every endpoint and a 5 s timeout moves past the dead member and either
 * succeeds or says that its outcome is unknown (a follower that forwarded it to the dead leader
 * can only give up), never repeats it; once a new leader is elected a put succeeds, and every
 * put that succeeded is there afterwards. With the quorum gone (two of three nodes killed), a put keeps trying
 * until its deadline and then says that no leader is known, not that no server answers; a read
 * says the same. A client given the endpoints of two separate clusters refuses the second one's
 * answers, and never writes to it when the first one is down.
 */
import {expect} from 'chai'
import {errorLine, runCli} from '../commands/cli_harness.js'
import {bytesToString, type ClientError, RaftctlClient} from '../../src/client/index.js'
import {ensureBuilt, stopAll, TestCluster, waitFor} from './harness.js'

describe('integration: the client across a leader failover', function () {
  this.timeout(120_000)
  const cluster = new TestCluster()
  let endpoints: string

  before(async function () {
    this.timeout(240_000)
    ensureBuilt()
    await cluster.bootstrap(3)
    await cluster.waitLeader()
    endpoints = [1, 2, 3].map((id) => cluster.node(id).client).join(',')
  })

  after(async () => {
    cluster.close()
    await stopAll()
  })

  it('a put sent right after kill -9 of the leader succeeds or reports an unknown outcome, and one sent after the election succeeds', async () => {
    const old = await cluster.waitLeader()
    const typed = new RaftctlClient({endpoints: endpoints.split(','), timeoutMs: 5000})
    const written = new Map<string, string>()
    try {
      await cluster.node(old).stop('SIGKILL')
      // The typed client's put leaves within milliseconds of the kill, while the followers still
      // name the dead leader; the CLI's starts once the process is up (during or after the
      // election). A follower proposes a write itself (as etcd's do): one it forwarded to the
      // dead leader may be lost or may still commit, so the follower can only give up at its
      // deadline, and the client then says the outcome is unknown instead of repeating it.
      const [cli, put] = await Promise.all([
        runCli(['kv', 'put', 'fo/1', 'x', '--endpoints', endpoints, '--timeout', '5s'], {timeoutMs: 30_000}),
        typed.put('fo/0', 'w').then(() => undefined, (err: unknown) => err),
      ])
      if (put === undefined) written.set('fo/0', 'w')
      else expect((put as ClientError).outcomeUnknown, String(put)).to.equal(true)
      if (cli.code === 0) written.set('fo/1', 'x')
      else expect(errorLine(cli)).to.match(/^Error: put: the outcome is unknown, it may or may not have been applied: /)
      // Once a new leader is elected, a put through the same endpoints (the dead one included) succeeds.
      const survivorIds = [1, 2, 3].filter((id) => id !== old)
      await cluster.waitLeader(survivorIds)
      await typed.put('fo/2', 'z')
      written.set('fo/2', 'z')
    } finally {
      typed.close()
    }
    const survivors = cluster.client([1, 2, 3].filter((id) => id !== old))
    for (const [key, value] of written) {
      const kv = await survivors.get(key)
      expect(kv !== undefined && bytesToString(kv.value), key).to.equal(value)
    }
  })

  it('without a quorum, a put and a read fail at their deadline saying that no leader is known', async () => {
    for (const id of [1, 2, 3]) if (!cluster.node(id).running) cluster.node(id).start()
    const leader = await cluster.waitLeader([1, 2, 3])
    const survivor = [1, 2, 3].find((id) => id !== leader)!
    for (const id of [1, 2, 3].filter((x) => x !== survivor)) await cluster.node(id).stop('SIGKILL')
    const c = cluster.client([survivor], 2000)
    await waitFor(`node ${survivor} to know no leader`, async () => (await c.status(cluster.node(survivor).client)).leader === 0)
    const put = await runCli(['kv', 'put', 'fo/2', 'y', '--endpoints', endpoints, '--timeout', '3s'], {timeoutMs: 30_000})
    expect(put.code).to.equal(1)
    const line = errorLine(put)
    expect(line).to.match(/^Error: put failed: no leader is known/)
    expect(line).to.contain(cluster.node(survivor).client)
    expect(line).to.not.match(/no raftctl server answers$/)
    const get = await runCli(['kv', 'get', 'fo/1', '--endpoints', endpoints, '--timeout', '3s'], {timeoutMs: 30_000})
    expect(get.code).to.equal(1)
    expect(errorLine(get)).to.match(/^Error: range failed: no leader is known/)
  })
})

describe('integration: two clusters given as one endpoint list', function () {
  this.timeout(120_000)
  const one = new TestCluster()
  const two = new TestCluster()

  before(async function () {
    this.timeout(240_000)
    ensureBuilt()
    await one.bootstrap(1)
    await two.bootstrap(1)
    await Promise.all([one.waitLeader(), two.waitLeader()])
  })

  after(async () => {
    one.close()
    two.close()
    await stopAll()
  })

  it('refuses the second cluster\'s answers and never writes to it', async () => {
    const [a, b] = [one.node(1).client, two.node(1).client]
    const ids = await Promise.all([one.client().status(a), two.client().status(b)])
    const [idA, idB] = ids.map((s) => s.header!.clusterId)
    expect(idA).to.not.equal(idB)
    const mixed = new RaftctlClient({endpoints: [a, b], timeoutMs: 3000})
    try {
      await mixed.put('mix/1', 'x')
      const e = await mixed.get('mix/1', {endpoint: b}).then(() => undefined, (err: Error) => err)
      expect(e?.message).to.equal(`${b} belongs to cluster ${idB}, but ${a} to cluster ${idA}: ` +
        '--endpoints mixes members of two clusters; give the client addresses of one cluster only')
      await one.node(1).stop('SIGKILL')
      // A put sent on the old connection just before it noticed the kill may end as "outcome
      // unknown" (the connection to a dropped); any later one must be refused as a mix of
      // clusters. Either way it must never reach the second cluster.
      let w: Error | undefined
      for (let i = 0; i < 5; i++) {
        w = await mixed.put('mix/2', 'y').then(() => undefined, (err: Error) => err)
        if (!/outcome is unknown.*the connection to .* was lost/.test(w?.message ?? '')) break
        expect(w?.message).to.include(a)
      }
      expect(w?.message).to.equal(e?.message)
    } finally {
      mixed.close()
    }
    const r = await two.client().range('mix/', {prefix: true})
    expect(r.kvs, 'nothing was written to the second cluster').to.deep.equal([])
  })
})
