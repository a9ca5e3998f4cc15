/**
 * Issue 11 #10 on real processes: a member that learns it was removed exits with code 1 and one
 * line saying so (as etcd's removed member does), instead of running on as a non-member.
 *
 * 1. A follower stopped while it is removed never receives the entry that removes it. Started
 *    again while the others are down (nobody to ask), it serves as a member; once they are back
 *    it campaigns, they refuse it as not a member, it asks them, and it exits.
 * 2. Restarted on its data dir (whose configuration still names it) while its peers are up, it
 *    asks them before serving and refuses to start, with one error line.
 * 3. A running follower applies its own removal (or hears it from its peers) and exits.
 * The cluster keeps serving throughout. (The removed leader, and the outgoing voters of a joint
 * change, which stay members until the joint configuration is left, are in
 * leader_membership.test.ts.)
 */
import {expect} from 'chai'
import {runCli} from '../commands/cli_harness.js'
import {ensureBuilt, type NodeProc, stopAll, TestCluster, waitFor} from './harness.js'

/** The one fatal removed-from-cluster line of a node's JSON log. */
function removedLine(n: NodeProc): {level: number, msg: string} {
  const lines = n.lines('removed-from-cluster')
  expect(lines, n.output.slice(-3000)).to.have.length(1)
  return JSON.parse(lines[0]) as {level: number, msg: string}
}

describe('integration: a removed member exits', function () {
  this.timeout(180_000)
  const cluster = new TestCluster()
  let leader: number
  let gone: number
  let follower: number
  let E: string[]

  before(async function () {
    this.timeout(240_000)
    ensureBuilt()
    await cluster.bootstrap(3)
    leader = await cluster.waitLeader()
    ;[gone, follower] = [1, 2, 3].filter((id) => id !== leader)
    E = ['--endpoints', cluster.node(leader).client]
  })

  after(async () => {
    cluster.close()
    await stopAll()
  })

  it('a follower removed while stopped, started while the others are down, learns it from them once they are back', async () => {
    const n = cluster.node(gone)
    expect(await n.stop('SIGTERM'), `node ${gone} exits 0 on SIGTERM`).to.equal(0)
    const r = await runCli(['member', 'remove', String(gone), '--yes', ...E])
    expect(r.code, r.stderr).to.equal(0)
    for (const id of [leader, follower]) expect(await cluster.node(id).stop('SIGTERM'), `node ${id} exits 0`).to.equal(0)
    n.output = ''
    n.start()
    await waitFor(`node ${gone} to serve (none of its peers answers yet)`, () => n.lines('serving').length > 0 || !n.running, {timeoutMs: 30_000})
    expect(n.running, n.output).to.equal(true)
    for (const id of [leader, follower]) cluster.node(id).start()
    expect(await n.waitExit(40_000), 'exit code').to.equal(1)
    const line = removedLine(n)
    expect(line.level, 'logged at fatal').to.equal(60)
    expect(line.msg).to.match(new RegExp(`^node ${gone} was removed from cluster \\d+ \\(node \\d at 127\\.0\\.0\\.1:\\d+ applied the log ` +
      'up to index \\d+, past this node\'s \\d+, and its configuration is voters=\\(\\d \\d\\)\\), so it stops; to bring it back, add it again ' +
      'with `raftctl member add` and start it with an empty --data-dir$'))
    const pair = [leader, follower]
    leader = await cluster.waitLeader(pair)
    follower = pair.find((id) => id !== leader)!
    E = ['--endpoints', cluster.node(leader).client]
    const put = await cluster.client([leader, follower]).put('removed/1', 'ok')
    expect(put.header!.revision).to.be.greaterThan(0)
  })

  it('restarted on its data dir, the removed follower asks its peers and refuses to start', async () => {
    const n = cluster.node(gone)
    n.output = ''
    n.start()
    expect(await n.waitExit(20_000), 'exit code').to.equal(1)
    const errors = n.output.split('\n').filter((l) => l.startsWith('Error:'))
    expect(errors, n.output).to.have.length(1)
    expect(errors[0]).to.match(new RegExp(`^Error: node ${gone} was removed from cluster \\d+ \\(node \\d at .* applied the log up to index`))
    expect(n.lines('serving'), 'it never served').to.deep.equal([])
  })

  it('a running follower removed from two voters exits with code 1 and one line; the last voter serves', async () => {
    const n = cluster.node(follower)
    const r = await runCli(['member', 'remove', String(follower), '--yes', ...E])
    expect(r.code, r.stderr).to.equal(0)
    expect(await n.waitExit(30_000), 'exit code').to.equal(1)
    expect(removedLine(n).msg).to.match(new RegExp(`^node ${follower} was removed from cluster \\d+ \\(.*voters=\\(${leader}\\)\\), so it stops; `))
    const put = await cluster.client([leader]).put('removed/2', 'ok')
    expect(put.header!.revision).to.be.greaterThan(0)
  })
})
