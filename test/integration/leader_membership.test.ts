/**
 * Membership changes that target the CURRENT LEADER, on real `raftctl server start` processes
 * with a client writing continuously in the background (thesis §4.2.2: a leader that is not
 * part of the new configuration steps down once that configuration is committed; the core
 * hands leadership to an up-to-date voter of the new configuration before stepping down).
 *
 * One three-voter cluster lives through, in order:
 *   1. demoting the leader to a learner (then promoting it back);
 *   2. removing the leader (it applies its own removal, hands over, says so in one line and exits
 *      with code 1, as etcd's removed member does; restarted, it refuses to start; a fresh node
 *      joins as a learner to take its place);
 *   3. a joint change (Auto transition) that removes the leader and promotes that learner; the
 *      leader leaves the joint configuration by itself and then steps down;
 *   4. the same with the Explicit transition, left with LeaveJoint.
 * After each: the call returns with the resulting ConfState, a voter of the new configuration
 * leads within a bounded time, every acknowledged write is read back linearizably, and the
 * cluster keeps serving writes.
 */
import {expect} from 'chai'
import {MemberStatus_Role} from '../../src/generated/raftctl/v1/raftctl.js'
import {NodeStatusResponse_RaftState as StatusResponse_RaftState} from '../../src/generated/raftctl/v1/raftctl.js'
import {bytesToString, type RaftctlClient} from '../../src/client/index.js'
import {ensureBuilt, sleep, stopAll, TestCluster, waitFor} from './harness.js'

/** How long the remaining voters may take to agree on a new leader (election timeout 300–600 ms). */
const NEW_LEADER_BOUND_MS = 5000
/**
 * The only write failures allowed while the leader changes, both reported as an unknown
 * outcome: a write pending at a leader that was removed, which that node answers as soon as it
 * applies its removal; and a write a member proposed (any member proposes, as etcd's do) whose
 * entry the outgoing leader never committed: the member can only give up at its deadline
 * (etcd's "request timed out"), never retry it blindly.
 */
const ALLOWED_WRITE_FAILURE = new RegExp('^node \\d+ was removed from the cluster .* its outcome is unknown|' +
  '^put: the outcome is unknown, it may or may not have been applied: \\S+ gave up: the write did not complete within \\d+ ms;')

/** Upper bound of the writer's iterations (the loop stops earlier when asked). */
const MAX_WRITES = 20_000

/** Writes keys one after another (bounded loop), remembering which writes were acknowledged. */
class Writer {
  readonly acked = new Map<string, string>()
  readonly errors: string[] = []
  private stopped = false
  private loop: Promise<void> | undefined

  constructor(private readonly client: RaftctlClient, private readonly prefix: string) {}

  start(): this {
    this.loop = (async () => {
      for (let i = 0; i < MAX_WRITES && !this.stopped; i++) {
        const key = `${this.prefix}${String(i).padStart(5, '0')}`
        try {
          await this.client.put(key, `v${i}`)
          this.acked.set(key, `v${i}`)
        } catch (err) {
          this.errors.push((err as Error).message)
          await sleep(30)
        }
      }
    })()
    return this
  }

  /** Resolves once `n` more writes than now were acknowledged (bounded). */
  async progress(n: number, what: string): Promise<void> {
    const base = this.acked.size
    await waitFor(`${n} more acknowledged writes ${what}`, () => this.acked.size >= base + n, {timeoutMs: 15_000, intervalMs: 20})
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.loop
  }
}

describe('integration: membership changes that target the leader', function () {
  this.timeout(120_000)
  const cluster = new TestCluster()
  /** Ids of the nodes that are members now (voters and learners), kept up to date by the tests. */
  let members = [1, 2, 3]
  let client: RaftctlClient

  before(async function () {
    this.timeout(240_000)
    ensureBuilt()
    await cluster.bootstrap(3, ['--max-learners', '1'])
    client = cluster.client()
    await cluster.waitLeader()
  })

  after(async () => {
    cluster.close()
    await stopAll()
  })

  /** The leader every member in `ids` agrees on, that has published its client URL. */
  const leaderOf = (ids: readonly number[]): Promise<number> => cluster.waitLeader(ids, 30_000)

  /**
   * Waits (at most NEW_LEADER_BOUND_MS) until every node in `voters` names the same leader and
   * that leader is one of `voters`; returns it.
   */
  async function newLeaderAmong(voters: readonly number[]): Promise<number> {
    const c = cluster.client(voters, 1000)
    const leader = await waitFor(`a leader among voters ${voters.join(', ')}`, async () => {
      const st = await Promise.all(voters.map((id) => c.status(cluster.node(id).client)))
      const l = st[0].leader
      return voters.includes(l) && st.every((s) => s.leader === l) ? l : undefined
    }, {timeoutMs: NEW_LEADER_BOUND_MS, intervalMs: 25})
    return leader
  }

  /** Reads every acknowledged write back linearizably through the current members. */
  async function expectAllAcked(w: Writer, prefix: string): Promise<void> {
    const reader = cluster.client(members, 10_000)
    const r = await reader.range(prefix, {prefix: true})
    const got = new Map(r.kvs.map((kv) => [bytesToString(kv.key), bytesToString(kv.value)]))
    for (const [key, value] of w.acked) expect(got.get(key), `acknowledged write ${key}`).to.equal(value)
  }

  /** Starts the background writer through every current member. */
  async function startWriter(prefix: string): Promise<Writer> {
    const w = new Writer(cluster.client(members, 5000), prefix).start()
    await w.progress(20, 'before the change')
    return w
  }

  /**
   * After the change: more writes go through, then every acknowledged write is read back. A
   * write may fail only with an outcome reported as unknown (ALLOWED_WRITE_FAILURE).
   */
  async function finishWriter(w: Writer, prefix: string): Promise<void> {
    await w.progress(20, 'after the change')
    await w.stop()
    for (const e of w.errors) expect(e, `the only write failures allowed: ${e}`).to.match(ALLOWED_WRITE_FAILURE)
    await expectAllAcked(w, prefix)
    const direct = await cluster.client(members).put(`${prefix}after`, 'ok')
    expect(direct.header!.revision).to.be.greaterThan(0)
  }

  /** The member list as the leader `leader` sees it: id -> role. */
  async function roles(leader: number): Promise<Map<number, MemberStatus_Role>> {
    const list = await client.memberList({endpoint: cluster.node(leader).client})
    return new Map(list.members.map((m) => [m.member!.id, m.role]))
  }

  /** Adds node `id` with --join as a learner and waits until it is caught up. */
  async function joinLearner(id: number): Promise<void> {
    const leader = await leaderOf(members)
    const spec = await cluster.spec(id)
    cluster.add(spec, ['--join', cluster.node(leader).client, '--max-learners', '1']).start()
    members = [...members, id]
    await waitFor(`node ${id} to be a caught-up learner`, async () => {
      const list = await client.memberList() // the leader's list: it carries the progress
      const m = list.members.find((x) => x.member?.id === id)
      return m?.role === MemberStatus_Role.LEARNER && m.matchIndex > 0 && m.lag <= 2
    }, {timeoutMs: 60_000})
  }

  /**
   * What a removed (former leader) node does (issue 11 #10): it applies its own removal, logs one
   * fatal line saying so, and exits with code 1 — after handing leadership over, so the remaining
   * members never step anything from it (a refusal, if it sent anything, is PERMISSION_DENIED)
   * and their leader and term stay undisturbed.
   */
  async function checkRemoved(removed: number, voters: readonly number[]): Promise<void> {
    const n = cluster.node(removed)
    expect(await n.waitExit(15_000), `the removed node ${removed} exits with code 1`).to.equal(1)
    const lines = n.lines('removed-from-cluster')
    expect(lines, n.output.slice(-3000)).to.have.length(1)
    const line = JSON.parse(lines[0]) as {level: number, msg: string, voters: number[]}
    expect(line.level, 'logged at fatal').to.equal(60)
    expect(line.msg).to.match(new RegExp(`^node ${removed} was removed from cluster \\d+ \\(its configuration at applied index \\d+ is voters=\\(`))
    expect(line.voters).to.not.include(removed)
    expect(n.output, 'no stack trace').to.not.match(/^\s+at .+:\d+:\d+\)?$/m)
    const leader = await leaderOf(voters)
    const before = await client.status(cluster.node(leader).client)
    await sleep(1500) // more than two election timeouts
    const after = await client.status(cluster.node(leader).client)
    expect(after.leader, 'the leader is undisturbed by the removed node').to.equal(leader)
    expect(after.raftTerm, 'the term is undisturbed by the removed node').to.equal(before.raftTerm)
    for (const id of voters) {
      const refusals = cluster.node(id).events('peer-refused').filter((e) => e.peer === removed)
      for (const e of refusals) expect(e.code, `node ${id} refuses node ${removed}`).to.equal('PERMISSION_DENIED')
    }
    const list = await client.memberList({endpoint: cluster.node(leader).client})
    expect(list.members.map((m) => m.member!.id)).to.not.include(removed)
    members = members.filter((x) => x !== removed)
  }

  it('demotes the leader: a remaining voter leads, the old leader is a learner, no acknowledged write is lost', async () => {
    const w = await startWriter('demote/')
    const old = await leaderOf(members)
    const r = await client.memberDemote(old)
    const rest = members.filter((x) => x !== old)
    expect(r.confState!.voters).to.deep.equal(rest)
    expect(r.confState!.learners).to.deep.equal([old])
    expect(r.confState!.votersOutgoing).to.deep.equal([])
    expect(r.members.find((m) => m.member?.id === old)!.role).to.equal(MemberStatus_Role.LEARNER)
    const leader = await newLeaderAmong(rest)
    const st = await client.status(cluster.node(old).client)
    expect(st.raftState, 'the demoted leader stepped down').to.not.equal(StatusResponse_RaftState.LEADER)
    expect(st.role).to.equal(MemberStatus_Role.LEARNER)
    expect(cluster.node(old).lines('lost-leadership').length).to.be.greaterThan(0)
    await waitFor(`the demoted node ${old} to follow node ${leader}`, async () =>
      (await client.status(cluster.node(old).client)).leader === leader, {timeoutMs: 5000})
    const rs = await roles(leader)
    expect(rs.get(old)).to.equal(MemberStatus_Role.LEARNER)
    for (const id of rest) expect(rs.get(id)).to.equal(MemberStatus_Role.VOTER)
    await finishWriter(w, 'demote/')
    const onLearner = await client.get('demote/after', {endpoint: cluster.node(old).client})
    expect(onLearner && bytesToString(onLearner.value), 'a linearizable read on the demoted node').to.equal('ok')
    await client.memberPromote(old)
    expect((await client.memberList()).confState!.voters).to.deep.equal([...members])
  })

  it('removes the leader: a remaining voter leads, the removed node says so and exits, no acknowledged write is lost', async () => {
    const w = await startWriter('remove/')
    const old = await leaderOf(members)
    const removed = await client.memberRemove(old)
    expect(removed.members.map((m) => Number(m.ID))).to.not.include(old)
    const rest = members.filter((x) => x !== old)
    const leader = await newLeaderAmong(rest)
    expect(rest).to.include(leader)
    const r = await client.memberList({endpoint: cluster.node(leader).client})
    expect(r.confState!.voters).to.deep.equal(rest)
    expect(r.confState!.learners).to.deep.equal([])
    expect(r.members.map((m) => m.member!.id)).to.not.include(old)
    const rs = await roles(leader)
    expect([...rs.keys()]).to.deep.equal(rest)
    await checkRemoved(old, rest)
    await finishWriter(w, 'remove/')
    // Restarted from its data dir, the former leader still knows it was removed: it refuses to
    // start, with one error line, and the cluster is not disturbed.
    const now = await leaderOf(rest)
    const before = await client.status(cluster.node(now).client)
    const n = cluster.node(old)
    n.output = ''
    n.start()
    expect(await n.waitExit(15_000), 'a removed node refuses to start').to.equal(1)
    expect(n.lines('restart'), 'it resumed from its data dir').to.have.length(1)
    const errors = n.output.split('\n').filter((l) => l.startsWith('Error:'))
    expect(errors, n.output).to.have.length(1)
    expect(errors[0]).to.match(new RegExp(`^Error: node ${old} was removed from cluster \\d+ \\(its configuration at applied index \\d+ is voters=\\(${rest.join(' ')}\\)\\), so it stops; `))
    expect(n.lines('serving'), 'it never served').to.deep.equal([])
    const after = await client.status(cluster.node(now).client)
    expect([after.leader, after.raftTerm], 'leader and term after the restart').to.deep.equal([now, before.raftTerm])
  })

  it('replaces the leader through a joint change with the Auto transition', async function () {
    this.timeout(180_000)
    await joinLearner(4)
    const w = await startWriter('joint-auto/')
    const voters = members.filter((x) => x !== 4)
    const old = await leaderOf(members)
    const r = await client.memberChange([{kind: 'remove', id: old}, {kind: 'add-voter', id: 4}], {transition: 'auto'})
    const incoming = [...voters.filter((x) => x !== old), 4].sort((a, b) => a - b)
    expect(r.confState!.voters, 'the call returns the joint ConfState it entered').to.deep.equal(incoming)
    expect(r.confState!.votersOutgoing).to.deep.equal(voters)
    expect(r.confState!.autoLeave).to.equal(true)
    const leader = await newLeaderAmong(incoming)
    expect(incoming).to.include(leader)
    await waitFor('the joint configuration to be left', async () => {
      const cs = (await client.status(cluster.node(leader).client)).confState!
      return cs.votersOutgoing.length === 0 && cs.voters.join() === incoming.join()
    }, {timeoutMs: NEW_LEADER_BOUND_MS})
    await checkRemoved(old, incoming)
    await finishWriter(w, 'joint-auto/')
  })

  it('replaces the leader through a joint change with the Explicit transition, left with LeaveJoint', async function () {
    this.timeout(180_000)
    await joinLearner(5)
    const w = await startWriter('joint-explicit/')
    const voters = members.filter((x) => x !== 5)
    const old = await leaderOf(members)
    const joint = await client.memberChange([{kind: 'remove', id: old}, {kind: 'add-voter', id: 5}], {transition: 'explicit'})
    const incoming = [...voters.filter((x) => x !== old), 5].sort((a, b) => a - b)
    expect(joint.confState!.voters).to.deep.equal(incoming)
    expect(joint.confState!.votersOutgoing).to.deep.equal(voters)
    expect(joint.confState!.autoLeave).to.equal(false)
    expect((await roles(old)).get(old), 'the leader is an outgoing voter while joint').to.equal(MemberStatus_Role.OUTGOING_VOTER)
    await w.progress(10, 'while joint (the outgoing leader still leads)')
    expect((await client.status(cluster.node(old).client)).raftState).to.equal(StatusResponse_RaftState.LEADER)
    expect(cluster.node(old).running, 'an outgoing voter is still a member').to.equal(true)
    expect(cluster.node(old).lines('removed-from-cluster')).to.deep.equal([])
    const left = await client.leaveJoint()
    expect(left.confState!.voters).to.deep.equal(incoming)
    expect(left.confState!.votersOutgoing).to.deep.equal([])
    expect(left.members.map((m) => m.member!.id)).to.not.include(old)
    const leader = await newLeaderAmong(incoming)
    expect(incoming).to.include(leader)
    await checkRemoved(old, incoming)
    await finishWriter(w, 'joint-explicit/')
  })
})
