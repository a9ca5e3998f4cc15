/**
 * The membership workflow through the real CLI (child processes, no terminal) against real
 * nodes: add a learner and start it with the line `member add` printed, promote it with --wait,
 * add another with `--learner --wait --promote` while starting it from the streamed output,
 * demote, remove, an explicit joint change and leave-joint, a replacement through an automatic
 * joint change, and member update. The its run in order and share one cluster.
 */
import {expect} from 'chai'
import {join} from 'node:path'
import {freePorts, NodeProc, TestCluster, TICK_ARGS, waitFor} from '../integration/harness.js'
import {errorLine, runCli, runCliJson, spawnCli, splitShellLine, startThreeNodes, stopNodes} from './cli_harness.js'

interface MemberJ {
  id: number, name: string, peerUrls: string[], clientUrls: string[], role: string, isLeader: boolean,
  matchIndex: number, nextIndex: number, lag: number, progressState: string, recentActive: boolean
}
interface ConfigJ {
  voters: number[], votersOutgoing: number[], learners: number[], learnersNext: number[], autoLeave: boolean, joint: boolean, text: string
}
interface ListJ { members: MemberJ[], config: ConfigJ }

/**
 * Starts the node a printed start line describes, exactly as printed plus `extra` (test timing,
 * or a client port the line leaves to the default), in `cwd`; tracked by the harness (stopAll
 * kills it).
 */
function startFromLine(tc: TestCluster, line: string, extra: readonly string[] = [], cwd?: string): NodeProc {
  const words = splitShellLine(line)
  expect(words.slice(0, 3)).to.deep.equal(['raftctl', 'server', 'start'])
  const args = [...words.slice(3), ...extra]
  const opt = (name: string): string => {
    const i = args.indexOf(name)
    expect(i, `${name} in ${line}`).to.be.greaterThan(-1)
    return args[i + 1]
  }
  const port = (hp: string): number => Number(hp.slice(hp.lastIndexOf(':') + 1))
  const spec = {id: Number(opt('--id')), clientPort: port(opt('--listen-client')), peerPort: port(opt('--listen-peer')), dataDir: opt('--data-dir')}
  const n = new NodeProc(spec, [...args, ...TICK_ARGS, '--log-format', 'json'], {}, cwd)
  tc.nodes.set(spec.id, n)
  return n.start()
}

const START_LINE = /^ {2}(raftctl server start .*)$/m

describe('raftctl member: the learner workflow against real nodes', function () {
  this.timeout(120_000)
  let tc: TestCluster
  let E: string[]
  const list = async (): Promise<ListJ> => {
    const {result, json} = await runCliJson<ListJ>(['member', 'list', ...E])
    expect(result.code, result.stderr).to.equal(0)
    return json
  }

  before(async function () {
    this.timeout(240_000)
    const three = await startThreeNodes()
    tc = three.tc
    E = three.E
  })

  after(() => stopNodes(tc))

  it('lists the members one comma-separated line each when stdout is not a terminal', async () => {
    const r = await runCli(['member', 'list', ...E])
    expect(r.code, r.stderr).to.equal(0)
    const lines = r.stdout.trim().split('\n').map((l) => l.split(', '))
    expect(lines.map((l) => l.slice(0, 5))).to.deep.equal([1, 2, 3].map((id) => [String(id), `node${id}`, tc.node(id).peer, tc.node(id).client, 'voter']))
    expect(lines.filter((l) => l[8] === 'true')).to.have.length(1)
  })

  it('lists the founding voters with the leader marked and the configuration line', async () => {
    const r = await runCli(['member', 'list', '-w', 'table', ...E])
    expect(r.code, r.stderr).to.equal(0)
    for (const h of ['ID', 'NAME', 'PEER URL', 'ROLE', 'MATCH', 'LAG', 'PROGRESS', 'LEADER']) expect(r.stdout).to.contain(h)
    expect(r.stdout).to.contain(tc.node(2).peer)
    expect(r.stdout).to.match(/^configuration: voters=\(1 2 3\)$/m)
    expect(r.stdout.match(/\bvoter\b/g)).to.have.length(3)
    const j = await list()
    expect(j.config).to.deep.equal({voters: [1, 2, 3], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false, joint: false, text: 'voters=(1 2 3)'})
    expect(j.members.map((m) => m.id)).to.deep.equal([1, 2, 3])
    const leaders = j.members.filter((m) => m.isLeader)
    expect(leaders).to.have.length(1)
    for (const m of j.members) {
      expect(m.role).to.equal('voter')
      expect(m.name).to.equal(`node${m.id}`)
      expect(m.peerUrls).to.deep.equal([tc.node(m.id).peer])
      expect(m.clientUrls).to.deep.equal([tc.node(m.id).client])
      expect(m.progressState).to.be.oneOf(['replicate', 'probe'])
      expect(m.matchIndex).to.be.a('number').greaterThan(0)
      expect(m.lag).to.equal(leaders[0].matchIndex - m.matchIndex)
      expect(m.recentActive).to.equal(true)
    }
  })

  it('adds a learner, prints a start line that works, and promotes it with --wait', async () => {
    const [cp, pp] = await freePorts(2)
    const dir = join(tc.root, 'n4')
    const r = await runCli(['member', 'add', '4', '--learner', '--peer-url', `127.0.0.1:${pp}`, '--client-url', `127.0.0.1:${cp}`,
      '--data-dir', dir, ...E])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.contain(`Added node 4 (node4) as a learner with peer URL 127.0.0.1:${pp}.`)
    expect(r.stdout).to.contain('Configuration: voters=(1 2 3) learners=(4)')
    const line = r.stdout.match(START_LINE)![1]
    const initial = [1, 2, 3].map((id) => `${id}=${tc.node(id).peer}`).concat(`4=127.0.0.1:${pp}`).join(',')
    expect(line).to.equal(`raftctl server start --id 4 --name node4 --data-dir ${dir} --listen-peer 127.0.0.1:${pp} ` +
      `--listen-client 127.0.0.1:${cp} --initial-cluster ${initial} --initial-cluster-state existing`)
    startFromLine(tc, line)
    const {result, json} = await runCliJson<ListJ & {member: MemberJ, promoted: boolean, catchUp: {matchIndex: number, leaderLastIndex: number, percent: number, ready: boolean}}>(
      ['member', 'promote', '4', '--wait', '--wait-timeout', '40s', '--timeout', '10s', ...E], {timeoutMs: 50_000})
    expect(result.code, result.stderr).to.equal(0)
    expect(json.promoted).to.equal(true)
    expect(json.catchUp.ready).to.equal(true)
    expect(json.catchUp.percent).to.be.within(90, 100)
    expect(json.catchUp.matchIndex).to.be.at.least(0.9 * json.catchUp.leaderLastIndex)
    expect(json.member).to.include({id: 4, name: 'node4', role: 'voter'})
    expect(json.member.peerUrls).to.deep.equal([`127.0.0.1:${pp}`])
    expect(json.config.voters).to.deep.equal([1, 2, 3, 4])
    expect(json.config.learners).to.deep.equal([])
    expect(json.config.text).to.equal('voters=(1 2 3 4)')
    const again = await runCli(['member', 'promote', '4', ...E])
    expect(again.code, again.stderr).to.equal(0)
    expect(again.stdout.trim()).to.equal('Node 4 is already a voter; nothing changed. Configuration: voters=(1 2 3 4)')
  })

  it('member add --learner --wait --promote: the node is started from the streamed line while the command waits', async () => {
    const [cp, pp] = await freePorts(2)
    const p = spawnCli(['member', 'add', '5', '--learner', '--wait', '--promote', '--name', 'fifth', '--peer-url', `127.0.0.1:${pp}`,
      '--client-url', `127.0.0.1:${cp}`, '--data-dir', join(tc.root, 'n5'), '--wait-timeout', '40s', ...E], {timeoutMs: 50_000})
    const line = (await p.waitStdout(START_LINE))[1]
    expect(line).to.contain('--id 5 --name fifth')
    startFromLine(tc, line)
    const r = await p.done
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/^Node 5 is ready to promote: match index \d+ of \d+ \((9\d|100)%\)\.$/m)
    expect(r.stdout).to.contain('Promoted node 5 to voter. Configuration: voters=(1 2 3 4 5)')
    expect(r.stderr).to.match(/^node 5 catching up: \d+% \(\d+\/\d+ entries\)$/m)
    const j = await list()
    expect(j.members.find((m) => m.id === 5)).to.include({name: 'fifth', role: 'voter'})
    await waitFor('node 5 to publish its client URL', async () => (await list()).members.find((m) => m.id === 5)?.clientUrls[0] === `127.0.0.1:${cp}`)
  })

  it('member add --learner --wait without a terminal: waits, says the learner is ready and how to promote it', async () => {
    const [cp, pp] = await freePorts(2)
    const p = spawnCli(['member', 'add', '10', '--learner', '--wait', '--peer-url', `127.0.0.1:${pp}`, '--client-url', `127.0.0.1:${cp}`,
      '--data-dir', join(tc.root, 'n10'), '--wait-timeout', '40s', ...E], {timeoutMs: 50_000})
    startFromLine(tc, (await p.waitStdout(START_LINE))[1])
    const r = await p.done
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/^Node 10 is ready to promote: match index \d+ of \d+ \((9\d|100)%\)\.$/m)
    const promoteLine = r.stdout.trim().split('\n').at(-1)!
    expect(promoteLine).to.equal('Promote it with: raftctl member promote 10')
    expect(r.stdout).to.not.contain('Promoted')
    expect((await list()).config.text).to.equal('voters=(1 2 3 4 5) learners=(10)')
    // The printed line runs as printed.
    const printed = splitShellLine(promoteLine.slice('Promote it with: '.length))
    expect(printed[0]).to.equal('raftctl')
    const promoted = await runCli([...printed.slice(1), ...E])
    expect(promoted.code, promoted.stderr).to.equal(0)
    expect(promoted.stdout).to.contain('Promoted node 10 to voter. Configuration: voters=(1 2 3 4 5 10)')
    const rm = await runCli(['member', 'remove', '10', '--yes', ...E])
    expect(rm.code, rm.stderr).to.equal(0)
    await tc.node(10).stop()
    expect((await list()).config.text).to.equal('voters=(1 2 3 4 5)')
  })

  it('refuses to demote a voter without a terminal unless --yes is given, then demotes it', async () => {
    const refused = await runCli(['member', 'demote', '5', ...E])
    expect(refused.code).to.equal(1)
    expect(errorLine(refused)).to.equal('Error: demoting voter 5 needs confirmation and no terminal is attached; pass --yes to proceed')
    expect(refused.stdout).to.equal('')
    expect((await list()).config.voters).to.deep.equal([1, 2, 3, 4, 5])
    const {result, json} = await runCliJson<ListJ & {member: MemberJ, demoted: boolean}>(['member', 'demote', '5', '--yes', ...E])
    expect(result.code, result.stderr).to.equal(0)
    expect(json.demoted).to.equal(true)
    expect(json.member).to.include({id: 5, role: 'learner'})
    expect(json.config).to.include({text: 'voters=(1 2 3 4) learners=(5)', joint: false})
    const human = await runCli(['member', 'list', '-w', 'table', ...E])
    expect(human.stdout).to.match(/│ 5 +│ fifth +│[^\n]*│ learner +│/)
    expect(human.stdout).to.match(/^configuration: voters=\(1 2 3 4\) learners=\(5\)$/m)
    const noop = await runCli(['member', 'demote', '5', ...E])
    expect(noop.code, noop.stderr).to.equal(0)
    expect(noop.stdout).to.contain('Node 5 is not a voter (learner); nothing changed.')
  })

  it('removes a learner without asking and a voter only with --yes', async () => {
    const {result, json} = await runCliJson<ListJ & {removed: number, previousRole: string}>(['member', 'remove', '5', ...E])
    expect(result.code, result.stderr).to.equal(0)
    expect(json).to.include({removed: 5, previousRole: 'learner'})
    expect(json.members.map((m) => m.id)).to.not.include(5)
    expect(json.config.text).to.equal('voters=(1 2 3 4)')
    await tc.node(5).stop()
    const refused = await runCli(['member', 'remove', '4', ...E])
    expect(refused.code).to.equal(1)
    expect(errorLine(refused)).to.equal('Error: removing voter 4 needs confirmation and no terminal is attached; pass --yes to proceed')
    const unknown = await runCli(['member', 'remove', '5', ...E])
    expect(unknown.code).to.equal(1)
    expect(errorLine(unknown)).to.equal('Error: node 5 is not a member of the cluster')
  })

  it('enters a joint configuration with --explicit, refuses other changes, and leaves it with leave-joint', async () => {
    const {result, json} = await runCliJson<ListJ & {changes: unknown[], transition: string}>(
      ['member', 'change', '--demote', '4', '--explicit', '--yes', ...E])
    expect(result.code, result.stderr).to.equal(0)
    expect(json.transition).to.equal('explicit')
    expect(json.changes).to.deep.equal([{kind: 'demote', id: 4}])
    expect(json.config).to.deep.equal({voters: [1, 2, 3], votersOutgoing: [1, 2, 3, 4], learners: [], learnersNext: [4],
      autoLeave: false, joint: true, text: 'voters=(1 2 3)&&(1 2 3 4) learners_next=(4)'})
    expect(json.members.find((m) => m.id === 4)?.role).to.equal('learner-next')
    const human = await runCli(['member', 'list', '-w', 'table', ...E])
    expect(human.stdout).to.match(/│ 4 +│ node4 +│[^\n]*│ learner-next +│/)
    expect(human.stdout).to.contain('configuration: voters=(1 2 3)&&(1 2 3 4) learners_next=(4)')
    const blocked = await runCli(['member', 'demote', '3', '--yes', ...E])
    expect(blocked.code).to.equal(1)
    expect(errorLine(blocked)).to.match(/^Error: .*joint configuration; leave it first/)
    const left = await runCli(['member', 'leave-joint', ...E])
    expect(left.code, left.stderr).to.equal(0)
    expect(left.stdout.trim()).to.equal('Left the joint configuration voters=(1 2 3)&&(1 2 3 4) learners_next=(4). ' +
      'Configuration: voters=(1 2 3) learners=(4)')
    const again = await runCliJson(['member', 'leave-joint', ...E])
    expect(again.result.code).to.equal(1)
    expect(again.json).to.deep.equal({error: {message: 'the configuration is not joint (voters=(1 2 3) learners=(4)); there is nothing to leave', code: 'FAILED_PRECONDITION'}})
  })

  it('leave-joint --json, run from the line member change printed, returns the left configuration and the members', async () => {
    const enter = await runCli(['member', 'change', '--add-voter', '4', '--explicit', ...E])
    expect(enter.code, enter.stdout + enter.stderr).to.equal(0)
    expect(enter.stdout).to.match(/^Applied add-voter 4\. Configuration: voters=\(1 2 3 4\)&&\(1 2 3\)$/m)
    const leaveLine = enter.stdout.match(/^The configuration is joint; leave it with: (.*)$/m)![1]
    expect(leaveLine).to.equal('raftctl member leave-joint')
    const {result, json} = await runCliJson<ListJ & {previous: string}>([...splitShellLine(leaveLine).slice(1), ...E])
    expect(result.code, result.stdout).to.equal(0)
    expect(json.previous).to.equal('voters=(1 2 3 4)&&(1 2 3)')
    expect(json.config).to.deep.equal({voters: [1, 2, 3, 4], votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false, joint: false,
      text: 'voters=(1 2 3 4)'})
    expect(json.members.map((m) => [m.id, m.role])).to.deep.equal([[1, 'voter'], [2, 'voter'], [3, 'voter'], [4, 'voter']])
    const back = await runCli(['member', 'demote', '4', '--yes', ...E])
    expect(back.code, back.stderr).to.equal(0)
    expect((await list()).config.text).to.equal('voters=(1 2 3) learners=(4)')
  })

  it('replaces a voter in one automatic joint change (promote learner 4, remove voter 3)', async () => {
    const refused = await runCli(['member', 'change', '--add-voter', '4', '--remove', '3', ...E])
    expect(refused.code).to.equal(1)
    expect(errorLine(refused)).to.equal('Error: this membership change needs confirmation and no terminal is attached; pass --yes to proceed')
    const r = await runCli(['member', 'change', '--add-voter', '4', '--remove', '3', '--yes', ...E])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout).to.match(/^Applied add-voter 4, remove 3\. Configuration: voters=\(1 2 4\)/)
    expect(r.stdout).to.not.contain('leave-joint')
    await waitFor('the automatic leave of the joint configuration', async () => (await list()).config.text === 'voters=(1 2 4)')
    await tc.node(3).stop()
    E = ['--endpoints', [1, 2, 4].map((id) => tc.node(id).client).join(',')]
  })

  it('updates a member\'s peer URL and refuses a URL another member uses', async () => {
    const [p1, p2] = await freePorts(2)
    const add = await runCliJson<ListJ & {member: MemberJ, startArgs: string[], startCommand: string, promoted: boolean}>(
      ['member', 'add', '6', '--learner', '--peer-url', `127.0.0.1:${p1}`, ...E])
    expect(add.result.code, add.result.stderr).to.equal(0)
    expect(add.json.member, 'a member added but not started has no name yet, as in etcd').to.include({id: 6, name: '', role: 'learner'})
    expect(add.json.promoted).to.equal(false)
    expect(add.json.startArgs).to.deep.equal(['server', 'start', '--id', '6', '--name', 'node6', '--data-dir', './raftctl-data-6',
      '--listen-peer', `127.0.0.1:${p1}`, '--initial-cluster',
      [1, 2, 4].map((id) => `${id}=${tc.node(id).peer}`).concat(`6=127.0.0.1:${p1}`).join(','), '--initial-cluster-state', 'existing'])
    expect(add.json.startCommand).to.equal(`raftctl ${add.json.startArgs.join(' ')}`)
    const {result, json} = await runCliJson<ListJ & {member: MemberJ}>(['member', 'update', '6', '--peer-url', `127.0.0.1:${p2}`, ...E])
    expect(result.code, result.stderr).to.equal(0)
    expect(json.member).to.include({id: 6, role: 'learner'})
    expect(json.member.peerUrls).to.deep.equal([`127.0.0.1:${p2}`])
    const human = await runCli(['member', 'update', '6', '--peer-url', `127.0.0.1:${p1}`, ...E])
    expect(human.stdout.trim()).to.equal(`Updated node 6: peer URL 127.0.0.1:${p1}, client URL -.`)
    const clash = await runCli(['member', 'update', '6', '--peer-url', tc.node(1).peer, ...E])
    expect(clash.code).to.equal(1)
    expect(errorLine(clash)).to.equal(`Error: peer URL ${tc.node(1).peer} is already used by node 1`)
    const notCaughtUp = await runCli(['member', 'promote', '6', ...E])
    expect(notCaughtUp.code).to.equal(1)
    expect(errorLine(notCaughtUp)).to.match(/^Error: learner 6 is not caught up: its match index 0 is 0% of the leader's last index \d+/)
    const rm = await runCli(['member', 'remove', '6', ...E])
    expect(rm.code, rm.stderr).to.equal(0)
    expect(rm.stdout.trim()).to.equal('Removed node 6 (was learner). Configuration: voters=(1 2 4)')
  })

  it('adds a new learner through member change and prints how to start it; refuses more learners than allowed', async () => {
    const [p8, p9] = await freePorts(2)
    const two = await runCli(['member', 'change', '--add-learner', `8=127.0.0.1:${p8}`, '--add-learner', `9=127.0.0.1:${p9}`, ...E])
    expect(two.code).to.equal(1)
    expect(errorLine(two)).to.equal('Error: adding 2 learners would make 2 learner(s), but --max-learners is 1; ' +
      'add fewer at once, or promote or remove a learner first')
    const {result, json} = await runCliJson<ListJ & {startCommands: {id: number, startCommand: string}[]}>(
      ['member', 'change', '--add-learner', `8=127.0.0.1:${p8}`, ...E])
    expect(result.code, result.stderr).to.equal(0)
    expect(json.config.text).to.equal('voters=(1 2 4) learners=(8)')
    expect(json.members.find((m) => m.id === 8)).to.include({name: '', role: 'learner'})
    const initial = [1, 2, 4].map((id) => `${id}=${tc.node(id).peer}`).concat(`8=127.0.0.1:${p8}`).join(',')
    expect(json.startCommands).to.deep.equal([{id: 8, startCommand: 'raftctl server start --id 8 --name node8 ' +
      `--data-dir ./raftctl-data-8 --listen-peer 127.0.0.1:${p8} --initial-cluster ${initial} --initial-cluster-state existing`}])
    // The printed line runs as printed (in the cluster's directory, with a client port of its own added).
    const [c8] = await freePorts(1)
    const n8 = startFromLine(tc, json.startCommands[0].startCommand, ['--listen-client', `127.0.0.1:${c8}`], tc.root)
    await waitFor('node 8, started from the printed line, to replicate', async () =>
      (await list()).members.find((m) => m.id === 8)?.progressState === 'replicate', {timeoutMs: 30_000})
    const rm = await runCli(['member', 'change', '--remove', '8', ...E])
    expect(rm.code, rm.stderr).to.equal(0)
    expect(rm.stdout).to.match(/^Applied remove 8\. Configuration: voters=\(1 2 4\)/)
    expect(rm.stdout).to.not.contain('Start node')
    await n8.stop()
  })

  it('adds a voter directly with --yes: warns about the quorum, and the node started from --json startArgs joins', async () => {
    const [cp, pp] = await freePorts(2)
    const {result, json} = await runCliJson<ListJ & {member: MemberJ, startArgs: string[], startCommand: string, promoted: boolean}>(
      ['member', 'add', '7', '--yes', '--peer-url', `127.0.0.1:${pp}`, '--client-url', `127.0.0.1:${cp}`, '--data-dir', join(tc.root, 'n7'), ...E])
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stderr.trim()).to.equal('Warning: adding node 7 directly as a voter makes 4 voters needing 3 for a quorum; until it has ' +
      'started and caught up, the cluster tolerates 0 failure(s) instead of 1 (the safe way is --learner, then promote)')
    expect(json.member).to.include({id: 7, role: 'voter', name: ''})
    expect(json.config.text).to.equal('voters=(1 2 4 7)')
    expect(json.promoted).to.equal(false)
    startFromLine(tc, `raftctl ${json.startArgs.join(' ')}`)
    await waitFor('node 7 to replicate', async () => {
      const m = (await list()).members.find((x) => x.id === 7)
      return m?.progressState === 'replicate' && m.lag === 0
    }, {timeoutMs: 30_000})
    const rm = await runCli(['member', 'remove', '7', '--yes', ...E])
    expect(rm.code, rm.stderr).to.equal(0)
    expect(rm.stdout.trim()).to.equal('Removed node 7 (was voter). Configuration: voters=(1 2 4)')
  })

  it('member change --add-voter ID=PEER_URL adds a new voter directly only when confirmed, and says how to start it', async () => {
    const [pp] = await freePorts(1)
    const refused = await runCli(['member', 'change', '--add-voter', `11=127.0.0.1:${pp}`, ...E])
    expect(refused.code).to.equal(1)
    expect(errorLine(refused)).to.equal('Error: this membership change needs confirmation and no terminal is attached; pass --yes to proceed')
    expect((await list()).config.text).to.equal('voters=(1 2 4)')
    const {result, json} = await runCliJson<ListJ & {changes: unknown[], startCommands: {id: number, startCommand: string}[]}>(
      ['member', 'change', '--add-voter', `11=127.0.0.1:${pp}`, '--yes', ...E])
    expect(result.code, result.stderr).to.equal(0)
    expect(json.changes).to.deep.equal([{kind: 'add-voter', id: 11, peerUrls: [`127.0.0.1:${pp}`]}])
    expect(json.config.text).to.equal('voters=(1 2 4 11)')
    expect(json.members.find((m) => m.id === 11)).to.include({name: '', role: 'voter'})
    expect(json.startCommands.map((s) => s.id)).to.deep.equal([11])
    expect(json.startCommands[0].startCommand).to.match(/^raftctl server start --id 11 --name node11 .*--initial-cluster-state existing$/)
    const rm = await runCli(['member', 'remove', '11', '--yes', ...E])
    expect(rm.code, rm.stderr).to.equal(0)
    expect(rm.stdout.trim()).to.equal('Removed node 11 (was voter). Configuration: voters=(1 2 4)')
  })
})
