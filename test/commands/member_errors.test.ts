/**
 * The membership commands' refusals through the real CLI against a real single-node cluster:
 * one error line on stderr (or {error} with --json), exit code 1, and nothing changed — for bad
 * ids, unknown members, malformed peer URLs, unreachable endpoints, operations the server refuses,
 * and risky operations without a terminal and without --yes.
 */
import {expect} from 'chai'
import {ensureBuilt, freePorts, stopAll, TestCluster} from '../integration/harness.js'
import {type CliResult, errorLine, runCli, runCliJson} from './cli_harness.js'

describe('raftctl member: errors and refusals', function () {
  this.timeout(120_000)
  let tc: TestCluster
  let E: string[]
  let freePort: number

  /** Runs the command and expects exit code 1 with exactly `line` on stderr and nothing on stdout. */
  async function fails(args: string[], line: string | RegExp, code = 1): Promise<CliResult> {
    const r = await runCli(args)
    expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).to.equal(code)
    if (typeof line === 'string') expect(errorLine(r)).to.equal(`Error: ${line}`)
    else expect(errorLine(r)).to.match(line)
    expect(r.stdout).to.equal('')
    return r
  }

  /** Runs independent failing cases a few at a time (each CLI start costs ~0.5 s of CPU). */
  async function allFail(cases: Array<[string[], string | RegExp, number?]>): Promise<void> {
    for (let i = 0; i < cases.length; i += 3) await Promise.all(cases.slice(i, i + 3).map(([a, l, c]) => fails(a, l, c)))
  }

  const config = async (): Promise<string> => (await runCliJson<{config: {text: string}}>(['member', 'list', ...E])).json.config.text

  before(async function () {
    this.timeout(240_000)
    ensureBuilt()
    tc = new TestCluster()
    await tc.bootstrap(1)
    await tc.waitLeader()
    E = ['--endpoints', tc.node(1).client]
    ;[freePort] = await freePorts(1)
  })

  after(async () => {
    tc?.close()
    await stopAll()
  })

  it('refuses ids that are not positive safe integers, naming the argument', async () => {
    const idError = (what: string, bad: string): string => `${what} "${bad}" is not a node id; give a positive integer (1 to 2^53-1)`
    await allFail([
      ...['0', 'abc', '1.5', '9007199254740993', '1e3'].map((bad): [string[], string] => [['member', 'promote', bad, ...E], idError('member id', bad)]),
      [['member', 'remove', 'x', ...E], idError('member id', 'x')],
      [['leader', 'transfer', '0', ...E], idError('target id', '0')],
      [['member', 'change', '--remove', 'two', ...E], idError('--remove', 'two')],
      // oclif's usage errors exit with 2, the convention for a command line that could not be parsed.
      [['member', 'promote', ...E], /^Error: Missing 1 required arg/, 2],
    ])
  })

  it('names unknown members', async () => {
    await allFail([...['promote', 'demote', 'remove'].map((cmd): [string[], string] => [['member', cmd, '42', ...E], 'node 42 is not a member of the cluster']),
      [['leader', 'transfer', '42', ...E], 'node 42 is not a member of the cluster']])
    const {result, json} = await runCliJson(['member', 'update', '42', '--peer-url', '127.0.0.1:9', ...E])
    expect(result.code).to.equal(1)
    expect(json).to.deep.equal({error: {message: 'node 42 is not a member of the cluster', code: 'NOT_FOUND'}})
  })

  it('refuses malformed peer URLs before calling the cluster', async () => {
    await allFail([
      [['member', 'add', '7', '--learner', '--peer-url', 'nope', ...E], '--peer-url "nope" is not host:port (for example 127.0.0.1:2380)'],
      [['member', 'add', '7', '--learner', '--peer-url', '127.0.0.1:70000', ...E], '--peer-url "127.0.0.1:70000" has port 70000; use 1..65535'],
      [['member', 'add', '7', '--learner', '--peer-url', '127.0.0.1:1', '--client-url', 'x:y', ...E], '--client-url "x:y" is not host:port (for example 127.0.0.1:2380)'],
      [['member', 'update', '1', '--peer-url', 'a b:1', ...E], /^Error: --peer-url "a b:1" (is not host:port|has an invalid host)/],
      [['member', 'change', '--add-learner', '7=bad', ...E], '--add-learner 7: peer URL "bad" is not host:port (for example 127.0.0.1:2380)'],
      [['member', 'add', '7', '--peer-url', '127.0.0.1:1', ...E.slice(0, 1), '127.0.0.1'], '--endpoints "127.0.0.1" is not host:port (for example 127.0.0.1:2380)'],
    ])
    expect(await config()).to.equal('voters=(1)')
  })

  it('says when no endpoint answers, in human and --json form', async () => {
    const dead = ['--endpoints', `127.0.0.1:${freePort}`, '--timeout', '2s']
    await fails(['member', 'list', ...dead], `cannot reach 127.0.0.1:${freePort}: no raftctl server answers there`)
    await fails(['leader', 'transfer', '1', ...dead], `cannot reach 127.0.0.1:${freePort}: no raftctl server answers there`)
    const {result, json} = await runCliJson(['member', 'add', '7', '--learner', '--peer-url', '127.0.0.1:1', ...dead])
    expect(result.code).to.equal(1)
    expect(json).to.deep.equal({error: {message: `cannot reach 127.0.0.1:${freePort}: no raftctl server answers there`, code: 'UNAVAILABLE'}})
  })

  it('refuses risky operations without a terminal unless --yes is given, and changes nothing', async () => {
    const msg = (what: string): string => `${what} needs confirmation and no terminal is attached; pass --yes to proceed`
    await allFail([
      [['member', 'add', '7', '--peer-url', '127.0.0.1:1', ...E], msg('adding voter 7 directly')],
      [['member', 'demote', '1', ...E], msg('demoting voter 1')],
      [['member', 'remove', '1', ...E], msg('removing voter 1')],
      [['member', 'change', '--remove', '1', ...E], msg('this membership change')],
      [['member', 'change', '--add-voter', '7=127.0.0.1:1', ...E], msg('this membership change')],
    ])
    const {result, json} = await runCliJson(['member', 'demote', '1', ...E])
    expect(result.code).to.equal(1)
    expect(json).to.deep.equal({error: {message: msg('demoting voter 1'), code: 'NOT_CONFIRMED'}})
    expect(await config()).to.equal('voters=(1)')
  })

  it('reports operations the cluster refuses in one line', async () => {
    const add = await runCli(['member', 'add', '7', '--peer-url', '127.0.0.1:1', '--yes', ...E])
    expect(add.code).to.equal(1)
    expect(add.stderr).to.match(/^Warning: adding node 7 directly as a voter makes 2 voters needing 2 for a quorum; the cluster cannot commit anything/)
    expect(add.stderr.trim().split('\n').at(-1)).to.equal('Error: adding voter 7 would leave 2 voters, which need 2 for a quorum, ' +
      'but only 1 of them are reachable now; add it as a learner first (member add --learner), or force it (member add --force)')
    await allFail([
      [['member', 'remove', '1', '--yes', ...E], 'node 1 is the only voter; the cluster cannot remove its last voter'],
      [['member', 'demote', '1', '--yes', ...E], 'node 1 is the only voter; add another voter before demoting it'],
      [['member', 'leave-joint', ...E], 'the configuration is not joint (voters=(1)); there is nothing to leave'],
      [['member', 'add', '1', '--learner', '--peer-url', '127.0.0.1:1', ...E], 'node 1 is already a member of the cluster'],
      [['member', 'add', '7', '--learner', '--peer-url', tc.node(1).peer, ...E], `peer URL ${tc.node(1).peer} is already used by node 1`],
    ])
    expect(await config()).to.equal('voters=(1)')
  })

  it('refuses a learner that cannot lead or has not caught up, and --force without --yes', async () => {
    const add = await runCli(['member', 'add', '7', '--learner', '--peer-url', '127.0.0.1:1', ...E])
    expect(add.code, add.stderr).to.equal(0)
    await fails(['leader', 'transfer', '7', ...E], 'node 7 is not a voter, so it cannot lead')
    await fails(['member', 'promote', '7', ...E], /^Error: learner 7 is not caught up: its match index 0 is 0% of the leader's last index \d+ \(\d+ entries behind\); promotion needs at least 90%; wait for it \(member promote --wait\), or force it \(member promote --force\)$/)
    await fails(['member', 'promote', '7', '--force', ...E], 'force-promoting node 7 needs confirmation and no terminal is attached; pass --yes to proceed')
    const wait = await runCli(['member', 'promote', '7', '--wait', '--wait-timeout', '1s', ...E])
    expect(wait.code).to.equal(1)
    expect(wait.stdout).to.equal('')
    const lines = wait.stderr.trim().split('\n')
    expect(lines[0]).to.match(/^node 7 catching up: 0% \(0\/\d+ entries\)$/)
    expect(lines.at(-1)).to.match(/^Error: node 7 did not catch up within 1s: it reached match index 0 of \d+ \(0%\); is it running\?$/)
    await fails(['member', 'add', '8', '--learner', '--peer-url', '127.0.0.1:2', ...E], /^Error: the cluster already has 1 learner\(s\) and --max-learners is 1/)
    const rm = await runCli(['member', 'remove', '7', ...E])
    expect(rm.code, rm.stderr).to.equal(0)
    expect(await config()).to.equal('voters=(1)')
  })

  it('leaves a joint configuration whose only voter is the leader (no ReadIndex round that nobody can confirm)', async () => {
    const enter = await runCliJson<{config: {text: string, joint: boolean}}>(['member', 'change', '--add-learner', '7=127.0.0.1:1', '--explicit', ...E])
    expect(enter.result.code, enter.result.stdout + enter.result.stderr).to.equal(0)
    expect(enter.json.config).to.include({text: 'voters=(1)&&(1) learners=(7)', joint: true})
    const left = await runCli(['member', 'leave-joint', ...E])
    expect(left.code, left.stderr).to.equal(0)
    expect(left.stdout.trim()).to.equal('Left the joint configuration voters=(1)&&(1) learners=(7). Configuration: voters=(1) learners=(7)')
    const rm = await runCli(['member', 'remove', '7', ...E])
    expect(rm.code, rm.stderr).to.equal(0)
    expect(await config()).to.equal('voters=(1)')
  })

  it('member add --learner --wait: prints the start line, then names how far the learner got when it never catches up', async () => {
    const r = await runCli(['member', 'add', '7', '--learner', '--wait', '--wait-timeout', '1s', '--peer-url', '127.0.0.1:1', ...E])
    expect(r.code).to.equal(1)
    expect(r.stdout).to.contain('Added node 7 (node7) as a learner with peer URL 127.0.0.1:1.')
    expect(r.stdout).to.match(/^ {2}raftctl server start --id 7 .*--initial-cluster-state existing$/m)
    expect(r.stderr.trim().split('\n').at(-1)).to.match(/^Error: node 7 did not catch up within 1s: it reached match index 0 of \d+ \(0%\); is it running\?$/)
    // The member stays added (the start line was printed for it); removing the learner is not asked about.
    expect(await config()).to.equal('voters=(1) learners=(7)')
    const rm = await runCli(['member', 'remove', '7', ...E])
    expect(rm.code, rm.stderr).to.equal(0)
    expect(await config()).to.equal('voters=(1)')
  })

  it('checks flag combinations before calling the cluster', async () => {
    await allFail([
      [['member', 'add', '7', '--peer-url', '127.0.0.1:1', '--wait', ...E], '--wait and --promote apply to a learner; add --learner'],
      [['member', 'add', '7', '--learner', '--peer-url', '127.0.0.1:1', '--wait', '--wait-timeout', 'soon', ...E],
        '--wait-timeout "soon" is not a duration such as 500ms, 5s or 2m'],
      [['member', 'update', '1', ...E], 'nothing to update; give --peer-url (a node publishes its client URL itself when it starts, from server start --advertise-client)'],
      [['member', 'change', ...E], 'no change given; use --add-voter, --add-learner, --demote or --remove (each may repeat)'],
      [['member', 'change', '--add-learner', '7=127.0.0.1:1', '--remove', '7', ...E], 'node 7 appears more than once; give each node at most one change'],
      [['member', 'change', '--add-voter', '9', ...E], '--add-voter 9: node 9 is not a member; give its peer URL as 9=host:port'],
    ])
  })
})
