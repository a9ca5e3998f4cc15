/**
 * `raftctl cluster status|health` and `raftctl endpoint status|health|hashkv` run as child
 * processes against a real 3-node cluster, then
 * with one and two members stopped: unreachable members are shown (not an error), health fails
 * only when there is no leader or no quorum, and no endpoint at all is one error line.
 */
import {expect} from 'chai'
import {TestCluster, waitFor} from '../integration/harness.js'
import {runCli, runCliJson, startThreeNodes, stopNodes} from './cli_harness.js'

interface Row {
  id: number, name: string, endpoint: string, reachable: boolean, role: string, term: number, leader: number,
  commitIndex: number, appliedIndex: number, lag: number, dbSize: number, version: string, errors: string[]
}
interface View { leader: number, members: Row[], confState: {voters: number[], learners: number[]} }
interface Health { healthy: boolean, leader: number, term: number, voters: number[], votersAnswering: number, quorum: number, problems: string[] }

describe('raftctl cluster (status, health) against a 3-node cluster', function () {
  this.timeout(60_000)
  let tc: TestCluster
  let E: string[]
  let leader: number

  before(async function () {
    this.timeout(240_000)
    const three = await startThreeNodes()
    tc = three.tc
    E = three.E
    leader = three.leader
    await tc.client().put('k', 'v')
  })

  after(() => stopNodes(tc))

  it('status: one row per member with its Raft state, field by field with --json', async () => {
    // Only one endpoint given: the others come from the member list.
    const {result, json} = await runCliJson<View>(['cluster', 'status', '--endpoints', tc.node(1).client])
    expect(result.code, result.stderr).to.equal(0)
    expect(json.leader).to.equal(leader)
    expect(json.confState.voters).to.deep.equal([1, 2, 3])
    expect(json.members.map((m) => m.id)).to.deep.equal([1, 2, 3])
    for (const m of json.members) {
      expect(m).to.deep.include({name: `node${m.id}`, endpoint: tc.node(m.id).client, reachable: true, leader, version: '0.1.0'})
      expect(m.role).to.equal(m.id === leader ? 'leader' : 'follower')
      expect(m.term).to.be.greaterThan(0)
      expect(m.commitIndex).to.be.greaterThan(1)
      expect(m.appliedIndex).to.be.at.most(m.commitIndex)
      expect(m.lag).to.be.a('number').at.least(0)
      expect(m.dbSize).to.be.greaterThan(0)
      expect(m.errors).to.deep.equal([])
    }
    expect(new Set(json.members.map((m) => m.term)).size).to.equal(1)
  })

  it('status: prints one comma-separated line per member when stdout is not a terminal, and fields with -w fields', async () => {
    const r = await runCli(['cluster', 'status', ...E])
    expect(r.code, r.stderr).to.equal(0)
    const lines = r.stdout.split('\n').filter((l) => l !== '')
    expect(lines).to.have.length(3)
    const mine = lines.find((l) => l.startsWith(`${leader}, `))!.split(', ')
    expect(mine.slice(0, 4)).to.deep.equal([String(leader), `node${leader}`, tc.node(leader).client, 'leader'])
    expect(mine.slice(5, 6)).to.deep.equal([String(leader)])
    expect(mine[10]).to.equal('true')
    const f = await runCli(['cluster', 'status', '-w', 'fields', ...E])
    expect(f.stdout).to.match(new RegExp(`^"Leader" : ${leader}\n"ID" : 1\n"Name" : "node1"\n`))
  })

  it('status: prints a table and a summary line with -w table', async () => {
    const r = await runCli(['cluster', 'status', '-w', 'table', ...E])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/ID\s*│\s*NAME\s*│\s*ENDPOINT\s*│\s*ROLE\s*│\s*TERM\s*│\s*LEADER\s*│\s*COMMIT\s*│\s*APPLIED\s*│\s*LAG\s*│\s*DB SIZE\s*│\s*REACHABLE/)
    expect(r.stdout).to.match(new RegExp(`│ ${leader}\\s*│ node${leader}\\s*│ 127\\.0\\.0\\.1:\\d+\\s*│ leader\\s*│`))
    expect(r.stdout).to.contain(`leader: ${leader}; 3 of 3 members reachable`)
  })

  it('endpoint status, health and hashkv: etcdctl\'s lines for every endpoint; an endpoint that does not answer is an error line and exit 1', async () => {
    const hex = (id: number): string => id.toString(16)
    const st = await runCli(['endpoint', 'status', ...E])
    expect(st.code, st.stderr).to.equal(0)
    const rows = st.stdout.trimEnd().split('\n').map((l) => l.split(', '))
    expect(rows.map((r) => r[0])).to.deep.equal([1, 2, 3].map((id) => tc.node(id).client))
    for (const [i, r] of rows.entries()) {
      expect(r[1]).to.equal(hex(i + 1))
      expect(r[4], 'IS LEADER').to.equal(String(i + 1 === leader))
      expect(r.slice(5, 6)).to.deep.equal(['false'])
      expect(r[3]).to.match(/^\d+(\.\d)? [kMG]?B$/)
    }
    const json = JSON.parse((await runCli(['endpoint', 'status', '-w', 'json', ...E])).stdout) as Array<{Endpoint: string, Status: {leader: number, header: {member_id: number}}}>
    expect(json.map((j) => [j.Endpoint, j.Status.header.member_id, j.Status.leader])).to.deep.equal([1, 2, 3].map((id) => [tc.node(id).client, id, leader]))
    const h = await runCli(['endpoint', 'health', ...E])
    expect(h.code, h.stderr).to.equal(0)
    expect(h.stdout).to.equal('')
    for (const id of [1, 2, 3]) expect(h.stderr).to.match(new RegExp(`^${tc.node(id).client} is healthy: successfully committed proposal: took = [0-9.]+[µm]?s$`, 'm'))
    await waitFor('every member to apply the last write', async () => {
      const hk = await runCli(['endpoint', 'hashkv', ...E])
      expect(hk.code, hk.stderr).to.equal(0)
      const hashes = hk.stdout.trimEnd().split('\n').map((l) => l.split(', ')[1])
      return hashes.length === 3 && new Set(hashes).size === 1
    }, {timeoutMs: 10_000})
    const down = await runCli(['endpoint', 'status', '--endpoints', `${tc.node(1).client},127.0.0.1:1`, '--timeout', '1s'])
    expect(down.code).to.equal(1)
    expect(down.stdout.trimEnd().split('\n')).to.have.length(1)
    expect(down.stderr).to.match(/^Failed to get the status of endpoint 127\.0\.0\.1:1 \(.+\)$/m)
    const sick = await runCli(['endpoint', 'health', '--endpoints', '127.0.0.1:1', '--timeout', '1s'])
    expect(sick.code).to.equal(1)
    expect(sick.stderr).to.match(/^127\.0\.0\.1:1 is unhealthy: failed to commit proposal: .+\nError: unhealthy cluster\n$/)
  })

  it('health: exit 0 and one line when a leader exists and a quorum answers', async () => {
    const r = await runCli(['cluster', 'health', ...E])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.match(new RegExp(`^healthy: leader ${leader} at term \\d+; 3 of 3 voters answer \\(quorum 2\\)\\n$`))
    const t = await runCli(['cluster', 'health', '-w', 'table', ...E])
    expect(t.stdout).to.match(new RegExp(`HEALTHY\\s*│\\s*LEADER[^\\n]*\\n[^\\n]*\\n│ true\\s*│ ${leader}\\s*│`))
    const {json} = await runCliJson<Health>(['cluster', 'health', ...E])
    expect(json).to.deep.include({healthy: true, leader, votersAnswering: 3, quorum: 2, problems: []})
    expect(json.voters).to.deep.equal([1, 2, 3])
  })

  it('status: shows a learner that joined as a learner, and health counts only voters', async function () {
    this.timeout(60_000)
    const spec = await tc.spec(4)
    tc.add(spec, ['--join', tc.node(leader).client]).start()
    const view = await waitFor('the learner to answer status', async () => {
      const {json} = await runCliJson<View>(['cluster', 'status', ...E])
      const row = json.members.find((m) => m.id === 4)
      return row?.reachable === true && row.appliedIndex > 0 ? json : undefined
    }, {timeoutMs: 30_000, intervalMs: 300})
    expect(view.confState.learners).to.deep.equal([4])
    expect(view.members.find((m) => m.id === 4)).to.deep.include({role: 'learner', endpoint: tc.node(4).client, leader})
    const {json} = await runCliJson<Health>(['cluster', 'health', ...E])
    expect(json).to.deep.include({healthy: true, votersAnswering: 3, quorum: 2})
    expect(json.voters).to.deep.equal([1, 2, 3])
  })

  it('with a follower stopped: status shows it unreachable, health still passes', async () => {
    const down = [1, 2, 3].find((id) => id !== leader)!
    await tc.node(down).stop()
    const {result, json} = await runCliJson<View>(['cluster', 'status', ...E])
    expect(result.code, result.stderr).to.equal(0)
    const row = json.members.find((m) => m.id === down)!
    expect(row).to.deep.include({reachable: false, endpoint: tc.node(down).client, role: 'voter', term: 0})
    expect(row.errors[0]).to.contain(`cannot reach ${tc.node(down).client}`)
    const human = await runCli(['cluster', 'status', '-w', 'table', ...E])
    expect(human.stdout).to.match(new RegExp(`│ ${down}\\s*│ node${down}\\s*│.*│ no: cannot reach`))
    expect(human.stdout).to.contain('3 of 4 members reachable')
    const h = await runCliJson<Health>(['cluster', 'health', ...E])
    expect(h.result.code).to.equal(0)
    expect(h.json).to.deep.include({healthy: true, votersAnswering: 2, quorum: 2})
  })

  it('with two members stopped: health exits 1 saying what is wrong; status still answers', async () => {
    const up = [1, 2, 3].filter((id) => tc.node(id).running)
    const stop = up.find((id) => id !== leader) ?? up[0]
    await tc.node(stop).stop()
    const last = [1, 2, 3].find((id) => tc.node(id).running)!
    // Only voters count: the learner (4) still answers but cannot make a quorum.
    const r = await runCli(['cluster', 'health', ...E, '--timeout', '2s'])
    expect(r.code).to.equal(1)
    expect(r.stderr.trim().split('\n')).to.have.length(1)
    expect(r.stderr).to.match(/^Error: cluster is unhealthy: .*only 1 of 3 voters answer \(quorum is 2\); not answering: /)
    expect(r.stdout).to.equal('')
    const j = await runCliJson<Health>(['cluster', 'health', ...E, '--timeout', '2s'])
    expect(j.result.code).to.equal(1)
    expect(j.json).to.deep.include({healthy: false, votersAnswering: 1, quorum: 2})
    expect(j.json.problems.some((p) => p.startsWith('only 1 of 3 voters answer'))).to.equal(true)
    // Without a quorum the remaining member loses its leader once its election timeout passes.
    await waitFor('the last member to lose its leader', async () => (await tc.client([last]).status(tc.node(last).client)).leader === 0 || undefined,
      {timeoutMs: 10_000})
    const noLeader = await runCliJson<Health>(['cluster', 'health', ...E, '--timeout', '2s'])
    expect(noLeader.result.code).to.equal(1)
    expect(noLeader.json.leader).to.equal(0)
    expect(noLeader.json.problems[0]).to.equal('no leader: the members that answer know of no live leader')
    // Without a quorum a write cannot commit: --timeout bounds the wait and the error is one line.
    const started = Date.now()
    const put = await runCli(['kv', 'put', 'k', 'v2', ...E, '--timeout', '1s'])
    expect(Date.now() - started).to.be.below(8_000)
    expect(put.code).to.equal(1)
    expect(put.stderr.trim().split('\n')).to.have.length(1)
    expect(put.stderr, put.stderr).to.match(/^Error: put failed: no leader is known \(an election is in progress, or too few members are up to elect one\): .*knew no leader for the \d+ ms the request could wait; nothing was done.*$/m)
    const ml = await runCli(['member', 'list', ...E, '--timeout', '2s', '-w', 'table'])
    expect(ml.code, ml.stderr).to.equal(0)
    expect(ml.stdout).to.contain('configuration: voters=(1 2 3) learners=(4)')
    expect(ml.stdout.trim().split('\n').at(-1)).to.equal('(replication progress unknown: no leader is known now; see raftctl cluster health)')
    const s = await runCliJson<View>(['cluster', 'status', ...E, '--timeout', '2s'])
    expect(s.result.code, s.result.stderr).to.equal(0)
    expect(s.json.members.filter((m) => m.reachable).map((m) => m.id)).to.deep.equal([last, 4])
  })

  it('fails with one line when no endpoint answers at all', async () => {
    const r = await runCli(['cluster', 'status', '--endpoints', '127.0.0.1:1', '--timeout', '1s'])
    expect(r.code).to.equal(1)
    expect(r.stderr.trim()).to.equal('Error: no member answers (asked 127.0.0.1:1): cannot reach 127.0.0.1:1: no raftctl server answers there')
    const h = await runCli(['cluster', 'health', '--endpoints', '127.0.0.1:1', '--timeout', '1s'])
    expect(h.code).to.equal(1)
    expect(h.stderr.trim()).to.match(/^Error: no member answers/)
  })

  it('has help with examples (raftctl help cluster health; both cluster commands have them)', async () => {
    const r = await runCli(['help', 'cluster', 'health'])
    expect(r.code).to.equal(0)
    expect(r.stdout).to.contain('EXAMPLES')
    expect(r.stdout).to.contain('raftctl cluster health --json')
    for (const name of ['status', 'health']) {
      const cmd = (await import(`../../src/commands/cluster/${name}.js`)).default as {summary?: string, description?: string, examples?: string[]}
      expect(cmd.summary, name).to.be.a('string').that.is.not.empty
      expect(cmd.description, name).to.be.a('string').that.is.not.empty
      expect(cmd.examples, name).to.be.an('array').that.is.not.empty
      for (const e of cmd.examples!) expect(e, name).to.contain(`<%= config.bin %> cluster ${name}`)
    }
  })
})
