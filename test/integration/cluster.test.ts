/**
 * A real three-node cluster of `raftctl server start` processes, driven through the typed
 * client, in the order an operator would live through it: bootstrap; writes on the leader read
 * back on every node; kill -9 of the leader with a watch open and writes in flight; restart of
 * the killed node; then membership: a node joins with --join as a learner, catches up from a
 * snapshot after the log was compacted, and is promoted while the cluster keeps serving; a
 * voter is demoted; a voter is replaced through an explicit joint change left with LeaveJoint,
 * and, restarted on its data dir, refuses to start as a removed member.
 */
import {expect} from 'chai'
import {MemberStatus_ProgressState, MemberStatus_Role} from '../../src/generated/raftctl/v1/raftctl.js'
import {bytesToString, type RaftctlClient, type WatchBatch, type WatchStream} from '../../src/client/index.js'
import {checkHealth} from '../../src/cli/endpoint.js'
import {ensureBuilt, sleep, stopAll, TestCluster, waitFor} from './harness.js'

/** Writes keys one after another, remembering which writes were acknowledged. */
class Writer {
  readonly acked: Array<{key: string, value: string, revision: number}> = []
  failures = 0
  private stopped = false
  private loop: Promise<void> | undefined

  constructor(private readonly client: RaftctlClient, private readonly prefix: string) {}

  start(): this {
    this.loop = (async () => {
      for (let i = 0; !this.stopped; i++) {
        const key = `${this.prefix}${String(i).padStart(5, '0')}`
        try {
          const r = await this.client.put(key, `v${i}`)
          this.acked.push({key, value: `v${i}`, revision: r.header!.revision})
        } catch {
          this.failures++
          await sleep(50)
        }
      }
    })()
    return this
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.loop
  }
}

/** Collects a watch's batches in the background. */
function collect(w: WatchStream): {batches: WatchBatch[], error?: Error, done: Promise<void>} {
  const out: {batches: WatchBatch[], error?: Error, done: Promise<void>} = {batches: [], done: Promise.resolve()}
  out.done = (async () => {
    try {
      for await (const b of w) out.batches.push(b)
    } catch (err) {
      out.error = err as Error
    }
  })()
  return out
}

describe('integration: a three-node cluster', function () {
  this.timeout(120_000)
  const cluster = new TestCluster()
  let client: RaftctlClient
  let leader: number

  before(async function () {
    this.timeout(240_000)
    ensureBuilt()
    await cluster.bootstrap(3, ['--snapshot-count', '40', '--snapshot-catch-up-entries', '10'])
    client = cluster.client()
    leader = await cluster.waitLeader()
  })

  after(async () => {
    cluster.close()
    await stopAll()
  })

  const voters = async (): Promise<number[]> => (await client.memberList()).confState!.voters
  const notLeader = (ids: number[]): number => ids.find((id) => id !== leader)!

  it('bootstraps three voters that agree on one leader and one cluster id', async () => {
    const st = await Promise.all([1, 2, 3].map((id) => client.status(cluster.node(id).client)))
    expect(new Set(st.map((s) => s.header!.clusterId)).size).to.equal(1)
    expect(st.map((s) => s.leader)).to.deep.equal([leader, leader, leader])
    expect(st.filter((s) => s.raftState === 2)).to.have.length(1)
    expect(await voters()).to.deep.equal([1, 2, 3])
  })

  it('serves a put on the leader and the value from every node', async () => {
    const onLeader = cluster.client([leader])
    const put = await onLeader.put('config/color', 'blue')
    const rev = put.header!.revision
    for (const id of [1, 2, 3]) {
      const kv = await client.get('config/color', {endpoint: cluster.node(id).client})
      expect(bytesToString(kv!.value), `linearizable read on node ${id}`).to.equal('blue')
      expect(kv!.modRevision).to.equal(rev)
      const local = await waitFor(`node ${id} to apply revision ${rev}`, async () => {
        const r = await client.get('config/color', {endpoint: cluster.node(id).client, serializable: true})
        return r?.modRevision === rev ? r : undefined
      })
      expect(bytesToString(local.value)).to.equal('blue')
    }
  })

  it('serves a write sent to a follower there (proposed through Raft, no redirect), as etcd\'s members do', async () => {
    const id = notLeader([1, 2, 3])
    const r = await cluster.client([id]).put('config/size', 'large')
    expect(Number(r.header!.memberId), 'answered by the follower').to.equal(id)
    const kv = await client.get('config/size', {endpoint: cluster.node(leader).client})
    expect(kv!.modRevision, 'the leader holds the write at the revision the follower answered').to.equal(r.header!.revision)
  })

  it('lists every member with role, peer URL, leader flag and the leader\'s progress, even through a follower', async () => {
    const follower = cluster.client([notLeader([1, 2, 3])])
    const list = await waitFor('every member replicating, with its client URL published', async () => {
      const l = await follower.memberList()
      return l.members.every((x) => x.progressState === MemberStatus_ProgressState.REPLICATE && x.member!.clientUrls.length > 0) ? l : undefined
    })
    expect(Number(list.header!.memberId), 'answered by the leader').to.equal(leader)
    const last = (await client.status(cluster.node(leader).client)).raftLastIndex
    for (const x of list.members) {
      const id = x.member!.id
      expect(x.role).to.equal(MemberStatus_Role.VOTER)
      expect(x.isLeader).to.equal(id === leader)
      expect(x.member!.peerUrls).to.deep.equal([cluster.node(id).peer])
      expect(x.member!.clientUrls).to.deep.equal([cluster.node(id).client])
      expect(x.matchIndex).to.be.within(2, last)
    }
    const local = await follower.etcdMemberList({endpoint: follower.endpoints[0]})
    expect(Number(local.header!.memberId), 'etcd\'s MemberList is answered by the member asked').to.not.equal(leader)
    expect(local.members.map((m) => [Number(m.ID), m.peerURLs])).to.deep.equal([1, 2, 3].map((id) => [id, [`http://${cluster.node(id).peer}`]]))
  })

  let killed: number
  let watched: ReturnType<typeof collect>
  let watch: WatchStream
  let writer: Writer

  it('elects a new leader after kill -9 of the leader and loses no acknowledged write', async () => {
    const start = (await client.get('config/size'))!.modRevision + 1
    const ordered = cluster.client([leader, ...[1, 2, 3].filter((id) => id !== leader)])
    watch = ordered.watch('w/', {prefix: true, startRevision: start})
    watched = collect(watch)
    writer = new Writer(cluster.client([1, 2, 3]), 'w/').start()
    await waitFor('20 acknowledged writes', () => writer.acked.length >= 20)
    killed = leader
    const survivors = [1, 2, 3].filter((id) => id !== killed)
    const downWarnings = (id: number): number =>
      cluster.node(id).events('peer-unreachable').filter((e) => e.peer === killed && e.level === 40).length
    const warnedBefore = survivors.map(downWarnings)
    await cluster.node(killed).stop('SIGKILL')
    leader = await cluster.waitLeader(survivors)
    expect(leader).to.not.equal(killed)
    const nl = cluster.node(leader)
    expect(nl.events('became-leader').length, 'the new leader logs became-leader').to.be.greaterThan(0)
    const term = (await client.status(nl.client)).raftTerm
    expect(nl.events('term-changed').map((e) => e.term), 'the term change is logged').to.include(term)
    for (const [i, id] of survivors.entries()) {
      await waitFor(`node ${id} to log (once, as a warning) that node ${killed} is unreachable`, () =>
        downWarnings(id) === warnedBefore[i] + 1)
    }
    let refused: unknown
    await client.memberAdd({id: 9, peerUrls: ['127.0.0.1:1']}).catch((e) => { refused = e })
    expect((refused as {codeName?: string})?.codeName, 'a voter add with a member down (etcd\'s "unhealthy cluster")').to.equal('UNAVAILABLE')
    expect((refused as Error).message).to.equal('adding voter 9 would leave 4 voters, which need 3 for a quorum, ' +
      'but only 2 of them are reachable now; add it as a learner first (member add --learner), or force it (member add --force)')
    const before = writer.acked.length
    await waitFor('20 more acknowledged writes after the failover', () => writer.acked.length >= before + 20)
    await writer.stop()
    const reader = cluster.client(survivors)
    for (const w of writer.acked) {
      const kv = await reader.get(w.key)
      expect(kv && bytesToString(kv.value), `acknowledged write ${w.key}`).to.equal(w.value)
    }
  })

  it('delivers every watch event in order across the leader change', async () => {
    const last = writer.acked[writer.acked.length - 1].revision
    await waitFor(`the watch to reach revision ${last}`, () => watch.revision !== undefined && watch.revision >= last)
    watch.cancel()
    await watched.done
    expect(watched.error).to.equal(undefined)
    const revisions = watched.batches.map((b) => b.revision)
    const first = revisions[0]
    expect(revisions, 'one batch per revision, none skipped or repeated').to.deep.equal(revisions.map((_, i) => first + i))
    const seen = new Map(watched.batches.flatMap((b) => b.events.map((e) => [bytesToString(e.kv!.key), bytesToString(e.kv!.value)])))
    for (const w of writer.acked) expect(seen.get(w.key), `event for ${w.key}`).to.equal(w.value)
  })

  it('lets the killed node catch up after a restart', async () => {
    const n = cluster.node(killed)
    n.start()
    const target = (await client.status(cluster.node(leader).client)).raftCommitIndex
    await waitFor(`node ${killed} to apply index ${target}`, async () =>
      (await client.status(n.client)).raftAppliedIndex >= target, {timeoutMs: 30_000})
    const lastKey = writer.acked[writer.acked.length - 1]
    const kv = await client.get(lastKey.key, {endpoint: n.client, serializable: true})
    expect(bytesToString(kv!.value)).to.equal(lastKey.value)
    expect(n.lines('restart')).to.have.length(1)
    leader = await cluster.waitLeader([1, 2, 3])
  })

  let learner: number

  it('adds a node with --join as a learner that catches up from a snapshot after compaction, then promotes it', async function () {
    this.timeout(180_000)
    for (let i = 0; i < 60; i++) await client.put(`fill/${i}`, 'x'.repeat(100))
    const ls = await waitFor('the leader to compact its log', async () => {
      const s = await client.status(cluster.node(leader).client)
      return s.raftFirstIndex > 2 ? s : undefined
    })
    expect(ls.snapshotIndex).to.be.greaterThan(1)
    const serving = new Writer(cluster.client([1, 2, 3]), 'during-join/').start()
    learner = 4
    const spec = await cluster.spec(learner)
    const n = cluster.add(spec, ['--join', cluster.node(notLeader([1, 2, 3])).client, '--snapshot-count', '40']).start()
    // The node publishes its client URL itself once it runs (etcd's MemberAdd carries none).
    const caughtUp = await waitFor('node 4 to be a caught-up learner that published its client URL', async () => {
      const list = await client.memberList({endpoint: cluster.node(leader).client})
      const m = list.members.find((x) => x.member?.id === learner)
      return m?.role === MemberStatus_Role.LEARNER && m.matchIndex > ls.snapshotIndex && m.lag <= 2 &&
        (m.member?.clientUrls.length ?? 0) > 0 ? m : undefined
    }, {timeoutMs: 60_000})
    expect(caughtUp.member?.clientUrls).to.deep.equal([n.client])
    const st = await client.status(n.client)
    expect(st.snapshotIndex, 'the learner was initialized from a snapshot').to.be.greaterThan(1)
    expect(n.lines('snapshot-applied').length).to.be.greaterThan(0)
    expect(n.events('snapshot-received').some((e) => e.index === st.snapshotIndex || (e.index as number) > 1)).to.equal(true)
    const voterNodes = [1, 2, 3].map((id) => cluster.node(id))
    expect(voterNodes.some((v) => v.events('snapshot-sent').some((e) => e.peer === learner)), 'a leader logs snapshot-sent').to.equal(true)
    for (const v of voterNodes) {
      const added = v.events('conf-change-applied').filter((e) => (e.learners as number[]).includes(learner))
      expect(added.length, `node ${v.spec.id} logs the conf change that added the learner`).to.be.greaterThan(0)
      expect(added[0].changes).to.deep.equal([`AddLearnerNode(${learner})`])
    }
    await client.memberPromote(learner)
    const promoted = await client.memberList()
    expect(promoted.confState!.voters).to.deep.equal([1, 2, 3, 4])
    expect(promoted.members.find((m) => m.member?.id === learner)!.role).to.equal(MemberStatus_Role.VOTER)
    await sleep(300)
    await serving.stop()
    expect(serving.failures, 'writes failed while the learner joined').to.equal(0)
    expect(serving.acked.length).to.be.greaterThan(0)
    const kv = await client.get('fill/59', {endpoint: n.client})
    expect(bytesToString(kv!.value)).to.equal('x'.repeat(100))
  })

  let demoted: number

  it('demotes a voter to a learner', async () => {
    leader = await cluster.waitLeader([1, 2, 3, 4])
    demoted = notLeader([3, 2, 1])
    const r = await client.memberDemote(demoted)
    expect(r.confState!.voters).to.deep.equal([1, 2, 3, 4].filter((id) => id !== demoted))
    expect(r.confState!.learners).to.deep.equal([demoted])
    expect(r.members.find((m) => m.member?.id === demoted)!.role).to.equal(MemberStatus_Role.LEARNER)
    expect((await client.put('after-demote', 'ok')).header!.revision).to.be.greaterThan(0)
  })

  it('replaces a voter through an explicit joint change, left with leave-joint', async function () {
    this.timeout(180_000)
    leader = await cluster.waitLeader([1, 2, 3, 4])
    const before = await voters()
    const removed = before.find((id) => id !== leader && id !== learner) ?? before.find((id) => id !== leader)!
    const spec = await cluster.spec(5)
    const joint = await client.memberChange([
      {kind: 'add-voter', id: 5, peerUrls: [`127.0.0.1:${spec.peerPort}`]},
      {kind: 'remove', id: removed},
    ], {transition: 'explicit'})
    const incoming = [...before.filter((id) => id !== removed), 5].sort((a, b) => a - b)
    expect(joint.confState!.voters).to.deep.equal(incoming)
    expect(joint.confState!.votersOutgoing).to.deep.equal(before)
    expect(joint.confState!.autoLeave).to.equal(false)
    const roles = new Map(joint.members.map((m) => [m.member!.id, m.role]))
    expect(roles.get(removed)).to.equal(MemberStatus_Role.OUTGOING_VOTER)
    const initial = [...incoming, removed].map((id) => `${id}=${id === 5 ? `127.0.0.1:${spec.peerPort}` : cluster.node(id).peer}`).join(',')
    const n5 = cluster.add(spec, ['--initial-cluster-state', 'existing', '--initial-cluster', initial]).start()
    await waitFor('node 5 to catch up', async () => {
      const list = await client.memberList({endpoint: cluster.node(leader).client})
      const m = list.members.find((x) => x.member?.id === 5)
      return m !== undefined && m.matchIndex > 0 && m.lag <= 2
    }, {timeoutMs: 60_000})
    expect((await client.put('in-joint', 'ok')).header!.revision).to.be.greaterThan(0)
    // The outgoing voter stops before the joint configuration is left (the rest of the outgoing
    // voters still form its quorum), so it never learns that it was removed.
    expect(await cluster.node(removed).stop('SIGTERM')).to.equal(0)
    const left = await client.leaveJoint()
    expect(left.confState!.voters).to.deep.equal(incoming)
    expect(left.confState!.votersOutgoing).to.deep.equal([])
    expect(left.members.map((m) => m.member!.id)).to.not.include(removed)
    const kv = await client.get('in-joint', {endpoint: n5.client})
    expect(bytesToString(kv!.value)).to.equal('ok')
    expect(n5.lines('identified')).to.have.length(1)
    replaced = {removed, voters: incoming}
  })

  let replaced: {removed: number, voters: number[]}

  it('a removed member restarted on its data dir asks the members, refuses to start, and disturbs nobody', async () => {
    const {removed, voters: current} = replaced
    leader = await cluster.waitLeader(current)
    const before = await client.status(cluster.node(leader).client)
    const stale = cluster.node(removed)
    stale.output = ''
    stale.start()
    // From disk it still believes it is a voter of the joint configuration; the members, which
    // applied more of the log, have a configuration without it (issue 11 #10).
    expect(await stale.waitExit(20_000), 'exit code').to.equal(1)
    const errors = stale.output.split('\n').filter((l) => l.startsWith('Error:'))
    expect(errors, stale.output).to.have.length(1)
    expect(errors[0]).to.match(new RegExp(`^Error: node ${removed} was removed from cluster \\d+ \\(node \\d at 127\\.0\\.0\\.1:\\d+ applied ` +
      `the log up to index \\d+, past this node's \\d+, and its configuration is voters=\\(${current.join(' ')}\\).*\\), so it stops; `))
    expect(stale.lines('serving'), 'it never served or sent anything').to.deep.equal([])
    const after = await client.status(cluster.node(leader).client)
    expect(after.leader, 'the leader is undisturbed').to.equal(leader)
    expect(after.raftTerm, 'the term is unchanged').to.equal(before.raftTerm)
    const list = await client.memberList({endpoint: cluster.node(leader).client})
    expect(list.members.map((m) => m.member!.id)).to.not.include(removed)
  })

  it('transfers leadership to another voter', async () => {
    leader = await cluster.waitLeader([...(await voters())])
    const target = (await voters()).find((id) => id !== leader)!
    await client.moveLeader(target)
    expect((await client.status(cluster.node(target).client)).leader).to.equal(target)
    await waitFor('the old leader to follow the target', async () => (await client.status(cluster.node(leader).client)).leader === target || undefined,
      {timeoutMs: 5000})
    expect((await client.put('after-transfer', 'ok')).header!.revision).to.be.greaterThan(0)
  })

  it('serves linearizable reads only with a quorum, serializable reads always, and stops cleanly', async () => {
    const current = await voters()
    const [survivor, ...others] = current
    const pinned = cluster.client([survivor], 1500)
    for (const id of others) expect(await cluster.node(id).stop('SIGTERM'), `node ${id} exits 0 on SIGTERM`).to.equal(0)
    for (const id of others) expect(cluster.node(id).lines('stopped')).to.have.length(1)
    let err: unknown
    await pinned.get('after-transfer').catch((e) => { err = e })
    expect(err, 'a linearizable read without a quorum fails').to.be.instanceOf(Error)
    expect(['UNAVAILABLE', 'DEADLINE_EXCEEDED']).to.include((err as {codeName?: string}).codeName)
    const kv = await pinned.get('after-transfer', {serializable: true})
    expect(bytesToString(kv!.value)).to.equal('ok')
    let writeErr: unknown
    await pinned.put('no-quorum', 'x').catch((e) => { writeErr = e })
    expect(['UNAVAILABLE', 'DEADLINE_EXCEEDED'], 'a write without a quorum fails').to.include((writeErr as {codeName?: string})?.codeName)
    expect((writeErr as Error).message).to.not.match(/\n/)
    const health = await checkHealth(pinned, cluster.node(survivor).client)
    expect(health.health, 'a node without a quorum is unhealthy').to.equal(false)
    expect(health.error).to.match(/leader|quorum|timed out/)
  })
})
