/**
 * The membership commands on a terminal (a pseudo-terminal from util-linux `script`): risky
 * operations ask with an inquirer confirm and honour the answer, and `member add --learner --wait`
 * shows its progress and offers to promote the learner once it is ready.
 */
import {expect} from 'chai'
import {join} from 'node:path'
import {ensureBuilt, freePorts, NodeProc, stopAll, TestCluster, TICK_ARGS} from '../integration/harness.js'
import {hasScript, runCliJson, runCliTty, splitShellLine} from './cli_harness.js'

describe('raftctl member on a terminal: confirmations and the promotion offer', function () {
  this.timeout(120_000)
  let tc: TestCluster
  let E: string[]
  const configText = async (): Promise<string> => (await runCliJson<{config: {text: string}}>(['member', 'list', ...E])).json.config.text

  before(async function () {
    this.timeout(240_000)
    if (!hasScript()) this.skip()
    ensureBuilt()
    tc = new TestCluster()
    await tc.bootstrap(1)
    await tc.waitLeader()
    E = ['--endpoints', tc.node(1).client]
  })

  after(async () => {
    tc?.close()
    await stopAll()
  })

  it('asks before adding a voter directly and does nothing when the answer is no', async () => {
    const r = await runCliTty(['member', 'add', '2', '--peer-url', '127.0.0.1:5', ...E], [{when: /Add it as a voter anyway\? \(y\/N\)/, send: 'n\r'}])
    expect(r.code).to.equal(1)
    expect(r.stdout).to.contain('adding node 2 directly as a voter makes 2 voters needing 2 for a quorum')
    expect(r.stdout).to.contain('Error: adding voter 2 directly cancelled')
    expect(await configText()).to.equal('voters=(1)')
  })

  it('adds a learner, shows the catch-up, offers to promote it, and promotes on yes', async () => {
    const [cp, pp] = await freePorts(2)
    let started: NodeProc | undefined
    const startFrom = (out: string): void => {
      const m = /^ {2}(raftctl server start [^\r\n]*)\r?$/m.exec(out)
      if (m === null || started !== undefined) return
      const args = splitShellLine(m[1]).slice(3)
      started = new NodeProc({id: 2, clientPort: cp, peerPort: pp, dataDir: join(tc.root, 'n2')}, [...args, ...TICK_ARGS, '--log-format', 'json']).start()
      tc.nodes.set(2, started)
    }
    const r = await runCliTty(['member', 'add', '2', '--learner', '--wait', '--peer-url', `127.0.0.1:${pp}`, '--client-url', `127.0.0.1:${cp}`,
      '--data-dir', join(tc.root, 'n2'), '--wait-timeout', '40s', ...E],
    [{when: /Promote node 2 to voter now\? \(y\/N\)/, send: 'y\r'}], {onOutput: startFrom, timeoutMs: 60_000})
    expect(r.code, r.stdout).to.equal(0)
    expect(started).to.not.equal(undefined)
    expect(r.stdout).to.match(/node 2 catching up \[[^\]]*\] \d+% \| \d+\/\d+ entries/)
    expect(r.stdout).to.match(/Node 2 is ready to promote: match index \d+ of \d+ \((9\d|100)%\)\./)
    expect(r.stdout).to.contain('Promoted node 2 to voter. Configuration: voters=(1 2)')
    expect(await configText()).to.equal('voters=(1 2)')
  })

  it('asks before removing a voter and removes it on yes', async () => {
    const r = await runCliTty(['member', 'remove', '2', ...E], [{when: /Remove voter 2\?.*\(y\/N\)/, send: 'y\r'}])
    expect(r.code, r.stdout).to.equal(0)
    expect(r.stdout).to.contain('The cluster will have 1 voter(s).')
    expect(r.stdout).to.contain('Removed node 2 (was voter). Configuration: voters=(1)')
    expect(await configText()).to.equal('voters=(1)')
  })
})
