/**
 * A member removed and added back under the same id, started from an empty data dir, catches up
 * from a snapshot taken before its removal. Replaying the log after that snapshot, it applies its
 * own earlier removal before the entry that added it back: it must not take that removal for its
 * current state and exit (seen in a chaos run), but ask its peers, which name it a member again,
 * and stay.
 */
import {expect} from 'chai'
import {rmSync} from 'node:fs'
import {bytesToString} from '../../src/client/index.js'
import {ensureBuilt, stopAll, TestCluster, waitFor} from './harness.js'

describe('integration: a member added back under its old id replays its earlier removal and stays', function () {
  this.timeout(120_000)
  const cluster = new TestCluster()

  before(() => ensureBuilt())
  after(async () => {
    cluster.close()
    await stopAll()
  })

  it('catches up from a snapshot older than its removal, logs the replayed removal and serves', async () => {
    await cluster.bootstrap(3, ['--snapshot-count', '20', '--snapshot-catch-up-entries', '0'])
    const leader = await cluster.waitLeader()
    const back = [1, 2, 3].find((id) => id !== leader)!
    const other = [1, 2, 3].find((id) => id !== leader && id !== back)!
    const client = cluster.client([leader, other])
    for (let i = 0; i < 40; i++) await client.put(`readd/${i}`, String(i))
    const before = await waitFor('the leader to compact its log behind a snapshot', async () => {
      const st = await client.status(cluster.node(leader).client)
      return st.raftFirstIndex > 2 && st.snapshotIndex > 20 ? st : undefined
    })
    const old = cluster.node(back)
    expect(await old.stop('SIGTERM'), `node ${back} exits 0 on SIGTERM`).to.equal(0)
    const removed = await client.memberRemove(back)
    expect(removed.members.map((m) => Number(m.ID))).to.not.include(back)
    rmSync(old.spec.dataDir, {recursive: true, force: true})
    const spec = await cluster.spec(back)
    const added = await client.memberAdd({id: back, peerUrls: [`127.0.0.1:${spec.peerPort}`], isLearner: true})
    expect(added.member).to.deep.include({ID: BigInt(back), isLearner: true})
    // Fewer than --snapshot-count entries since: the newest snapshot still predates the removal.
    const now = await client.status(cluster.node(leader).client)
    expect(now.snapshotIndex, 'no snapshot taken after the removal').to.equal(before.snapshotIndex)
    const n = cluster.add(spec, ['--initial-cluster-state', 'existing', '--initial-cluster',
      [leader, other].map((id) => `${id}=127.0.0.1:${cluster.node(id).spec.peerPort}`).concat(`${back}=127.0.0.1:${spec.peerPort}`).join(',')])
    n.start()
    await waitFor(`node ${back} to replay its removal and be told it was added back`,
      () => n.lines('removal-replayed').length > 0 || !n.running, {timeoutMs: 30_000})
    expect(n.running, `node ${back} is still running:\n${n.output.slice(-3000)}`).to.equal(true)
    expect(n.lines('removed-from-cluster'), 'no fatal removal line').to.deep.equal([])
    const kv = await waitFor(`node ${back} to serve the last key`, async () =>
      cluster.client([back]).get('readd/39', {serializable: true, endpoint: n.client}).catch(() => undefined))
    expect(bytesToString(kv!.value)).to.equal('39')
    const st = await cluster.client([back]).status(n.client)
    expect(st.raftAppliedIndex).to.be.greaterThan(now.snapshotIndex)
  })
})
