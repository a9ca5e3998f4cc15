/**
 * Issue 11 #3 on real processes: every operation that shrinks the voters goes through the same
 * reachable-quorum check. Voters (1 2 3) with one follower stopped: demoting, removing or
 * (through `member change`) demoting a reachable voter would leave two voters of which only one
 * is reachable, so the cluster would lose its leader until the stopped node returns; each is
 * refused with one error line and nothing changes, while demoting the stopped node itself (which
 * keeps a reachable quorum) is accepted and the cluster keeps serving.
 */
import {expect} from 'chai'
import {errorLine, runCli} from '../commands/cli_harness.js'
import {ensureBuilt, stopAll, TestCluster, waitFor} from './harness.js'

describe('integration: membership changes that shrink the voters need a reachable quorum', function () {
  this.timeout(120_000)
  const cluster = new TestCluster()

  before(function () {
    this.timeout(240_000)
    ensureBuilt()
  })

  after(async () => {
    cluster.close()
    await stopAll()
  })

  it('refuses demote, remove and change --demote of a reachable voter while a voter is down; the down one may go', async () => {
    await cluster.bootstrap(3)
    const leader = await cluster.waitLeader()
    const client = cluster.client()
    const [down, other] = [1, 2, 3].filter((id) => id !== leader)
    expect(await cluster.node(down).stop('SIGTERM'), `node ${down} exits 0 on SIGTERM`).to.equal(0)
    await waitFor(`the leader to see node ${down} as unreachable`, async () => {
      const list = await client.memberList({endpoint: cluster.node(leader).client})
      return list.members.find((m) => m.member?.id === down)?.recentActive === false
    }, {timeoutMs: 15_000})
    const E = ['--endpoints', cluster.node(leader).client]
    const quorum = (what: string): RegExp =>
      new RegExp(`^Error: ${what} would leave 2 voters, which need 2 for a quorum, but only 1 of them are reachable now`)
    const cases: Array<[string[], RegExp]> = [
      [['member', 'demote', String(leader), '--yes'], quorum(`demoting voter ${leader}`)],
      [['member', 'demote', String(other), '--yes'], quorum(`demoting voter ${other}`)],
      [['member', 'remove', String(leader), '--yes'], quorum(`removing voter ${leader}`)],
      [['member', 'change', '--demote', String(leader), '--yes'], quorum('this change')],
    ]
    for (const [args, line] of cases) {
      const r = await runCli([...args, ...E])
      expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).to.equal(1)
      expect(errorLine(r)).to.match(line)
    }
    const st = await client.status(cluster.node(leader).client)
    expect(st.confState!.voters, 'nothing changed').to.deep.equal([1, 2, 3])
    expect(st.confState!.learners).to.deep.equal([])
    expect(st.leader, 'the leader kept leading').to.equal(leader)
    const r = await runCli(['member', 'demote', String(down), '--yes', ...E])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.include(`Demoted node ${down} to learner`)
    const put = await client.put('quorum/after', 'ok')
    expect(put.header!.revision).to.be.greaterThan(0)
    const after = await client.status(cluster.node(leader).client)
    expect(after.confState!.voters).to.deep.equal([leader, other].sort((a, b) => a - b))
    expect(after.confState!.learners).to.deep.equal([down])
  })
})
