/**
 * Command lines the CLI prints run exactly as printed, named the way the CLI was invoked: through
 * npx (as the README runs it) the start line of `snapshot restore` says `npx raftctl ...`, from the
 * sources it says `bin/dev.js ...`; there is no placeholder such as `<host:port>` (a shell reads
 * it as a redirect). Each printed line is started and must serve the restored key. (The start
 * lines of `member add` and `member change`, the promote and leave-joint lines are run in
 * member.test.ts; those of a restore onto three nodes in snapshot.test.ts.)
 */
import {expect} from 'chai'
import {join} from 'node:path'
import {RaftctlClient} from '../../src/client/index.js'
import {freePorts, NodeProc, REPO_ROOT, TestCluster, waitFor} from '../integration/harness.js'
import {runProcess} from '../harness/process.js'
import {type CliProcess, DEV_ENTRY, runCli, spawnCli, splitShellLine, stopNodes} from './cli_harness.js'

/** The line after "start it with: " in a restore's output. */
function startLine(stdout: string): string {
  const m = /^start it with: (.*)$/m.exec(stdout)
  expect(m, stdout).to.not.equal(null)
  expect(m![1]).to.not.match(/[<>|;&]/)
  return m![1]
}

describe('printed command lines run as printed, through npx and from the sources', function () {
  this.timeout(180_000)
  let tc: TestCluster
  let backup: string
  const running: CliProcess[] = []

  before(async function () {
    this.timeout(120_000)
    tc = new TestCluster()
    await tc.bootstrap(1)
    await tc.waitLeader()
    await tc.client().put('printed/key', 'restored value')
    backup = join(tc.root, 'backup.snap')
    const save = await runCli(['snapshot', 'save', backup, '--endpoints', tc.node(1).client])
    expect(save.code, save.stderr).to.equal(0)
  })

  after(async () => {
    for (const p of running) p.kill()
    await stopNodes(tc)
  })

  /** Restores the backup as node 1 of a new one-node cluster on fresh ports; returns the ports and data dir. */
  async function restoreArgs(name: string): Promise<{args: string[], client: string, dataDir: string}> {
    const [cp, pp] = await freePorts(2)
    const dataDir = join(tc.root, name)
    return {
      args: ['snapshot', 'restore', backup, '--data-dir', dataDir, '--id', '1', '--initial-cluster', `1=127.0.0.1:${pp}`,
        '--client-url', `127.0.0.1:${cp}`, '--yes'],
      client: `127.0.0.1:${cp}`, dataDir,
    }
  }

  async function expectServes(client: string): Promise<void> {
    const c = new RaftctlClient({endpoints: [client], timeoutMs: 2000})
    try {
      const v = await waitFor(`the node started from the printed line to serve at ${client}`,
        async () => (await c.get('printed/key')) ?? undefined, {timeoutMs: 60_000, intervalMs: 300})
      expect(new TextDecoder().decode(v.value)).to.equal('restored value')
    } finally {
      c.close()
    }
  }

  it('through npx: `npx raftctl server start ...`, whose arguments start the restored node', async () => {
    const r = await restoreArgs('via-npx')
    const out = await runProcess('npx', ['--no-install', 'raftctl', ...r.args], {cwd: REPO_ROOT, timeoutMs: 90_000})
    expect(out.code, out.stderr).to.equal(0)
    const words = splitShellLine(startLine(out.stdout))
    expect(words.slice(0, 4)).to.deep.equal(['npx', 'raftctl', 'server', 'start'])
    expect(words).to.include.members(['--data-dir', r.dataDir, '--listen-client', r.client])
    // `npx raftctl` runs this package's CLI (test/docs/readme.test.ts); run the printed arguments with it (tracked by stopAll).
    const spec = {id: 1, clientPort: Number(r.client.split(':')[1]), peerPort: 0, dataDir: r.dataDir}
    new NodeProc(spec, words.slice(4)).start()
    await expectServes(r.client)
  })

  it('from the sources: `bin/dev.js server start ...`, run exactly as printed', async () => {
    const r = await restoreArgs('via-dev')
    const restore = spawnCli(r.args, {...DEV_ENTRY, timeoutMs: 120_000})
    running.push(restore)
    const out = await restore.done
    expect(out.code, out.stderr).to.equal(0)
    const words = splitShellLine(startLine(out.stdout))
    expect(words.slice(0, 3)).to.deep.equal(['bin/dev.js', 'server', 'start'])
    // bin/dev.js is an executable script: its shebang runs node with tsx, as DEV_ENTRY does.
    const node = spawnCli(words.slice(1), {...DEV_ENTRY, timeoutMs: 150_000})
    running.push(node)
    await expectServes(r.client)
    expect((await node.stop('SIGTERM', 30_000)).code).to.equal(0)
  })
})
