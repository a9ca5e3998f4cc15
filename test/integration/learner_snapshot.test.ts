/**
 * A learner joining a three-node cluster (real processes) while writes go on catches up from
 * exactly one snapshot: the leader builds one snapshot for it — none of the voters builds one
 * just because a node was added — that snapshot names the learner, it is the one sent, and it is
 * the one the learner applies. (Before: every voter built a snapshot when the node was added and
 * the leader built up to three.)
 */
import {expect} from 'chai'
import {MemberStatus_Role} from '../../src/generated/raftctl/v1/raftctl.js'
import {ensureBuilt, sleep, stopAll, TestCluster, waitFor} from './harness.js'

describe('integration: a learner catches up from one snapshot', function () {
  this.timeout(180_000)
  const cluster = new TestCluster()

  before(async function () {
    this.timeout(240_000)
    ensureBuilt()
    // No automatic snapshot during the test: every snapshot built after the join is one built
    // because of the learner.
    await cluster.bootstrap(3, ['--snapshot-count', '1000000', '--snapshot-catch-up-entries', '5'])
  })

  after(async () => {
    cluster.close()
    await stopAll()
  })

  it('builds one snapshot naming the learner, sends it, and the learner applies it', async () => {
    const leader = await cluster.waitLeader()
    const client = cluster.client([1, 2, 3])
    for (let i = 0; i < 40; i++) await client.put(`fill/${String(i).padStart(2, '0')}`, 'x'.repeat(200))
    // A snapshot download makes the leader snapshot and compact its log: the learner, whose log
    // is empty, can then only catch up from a snapshot, and this one does not name it.
    const dl = await client.snapshot(cluster.node(leader).client)
    for await (const _ of dl.chunks) { /* discarded */ }
    const before = (await client.status(cluster.node(leader).client)).snapshotIndex
    await waitFor('the leader to compact its log', async () => (await client.status(cluster.node(leader).client)).raftFirstIndex > 2)

    let writing = true
    let acked = 0
    const writer = (async () => {
      for (let i = 0; writing && i < 100_000; i++) {
        await client.put(`during/${i}`, 'y').then(() => { acked++ }, () => sleep(50))
      }
    })()
    const voters = [1, 2, 3].map((id) => cluster.node(id))
    const joinedAt = Date.now()
    const spec = await cluster.spec(4)
    const learner = cluster.add(spec, ['--join', cluster.node([1, 2, 3].find((id) => id !== leader)!).client]).start()
    await waitFor('node 4 to be a caught-up learner', async () => {
      const m = (await client.memberList({endpoint: cluster.node(leader).client})).members.find((x) => x.member?.id === 4)
      return m?.role === MemberStatus_Role.LEARNER && m.matchIndex > before && m.lag <= 5
    }, {timeoutMs: 90_000})
    writing = false
    await writer
    expect(acked, 'writes went on while the learner joined').to.be.greaterThan(0)

    const after = (e: Record<string, unknown>): boolean => Date.parse(String(e.time)) >= joinedAt
    for (const v of voters) {
      const built = v.events('snapshot-created').filter(after)
      expect(built.map((e) => e.reason), `snapshots node ${v.spec.id} built after the join`)
        .to.deep.equal(v.spec.id === leader ? ['node 4 is not in the latest snapshot'] : [])
    }
    const built = cluster.node(leader).events('snapshot-created').filter(after)[0]
    expect(built.learners, 'the snapshot built names the learner').to.deep.equal([4])
    const sending = cluster.node(leader).events('snapshot-sending').filter((e) => e.peer === 4)
    expect(sending.map((e) => e.index), 'one transfer, of the snapshot built').to.deep.equal([built.index])
    const applied = learner.events('snapshot-applied')
    expect(applied.map((e) => e.index)).to.deep.equal([built.index])
    expect(applied[0].learners).to.deep.equal([4])
  })
})
