/**
 * Replays the README quick start (README.md, between the quickstart markers) through the built
 * CLI, so the README cannot drift from what raftctl does:
 *
 * - every command of every `sh` block is run, in order, or the test fails naming it; no shell
 *   block may live outside the quick start;
 * - `npx raftctl <args>` runs as `node bin/run.js <args>` (a separate test checks that `npx
 *   raftctl` resolves to this package's CLI); `raftctl server start` lines start in the
 *   background (one terminal each in the README), are tracked by pid and stopped in the after hook;
 * - the README's 127.0.0.1 ports are mapped to free ports, the defaults (2379/2380) through the
 *   environment (RAFTCTL_LISTEN_CLIENT, RAFTCTL_LISTEN_PEER, RAFTCTL_ENDPOINTS), and everything
 *   runs in a temporary working directory, so ./raftctl-data and data/n1... are temporary;
 * - `export NAME=value` lines set the environment of the following commands;
 * - the README's reader runs the commands on a terminal, where read commands print tables: the
 *   replay asks for that format with RAFTCTL_WRITE_OUT=table (its own --json queries are not
 *   affected: --json wins over the variable);
 * - `npm install` / `npm ci` is not re-run (CI's `npm ci` ran it before the tests): the test checks
 *   what it leaves behind — the built CLI that package.json's `bin` and `prepare` promise;
 * - every command must exit 0; outputs are checked for the key facts: `kv get` prints what `kv put`
 *   wrote, `member add` prints exactly the start line the README gives next, `member list --json`
 *   shows every member with the role the README's steps gave it, and every sentence of the
 *   form "`<command>` prints|shows ... `<text>`" holds for that command's output;
 * - "Stop the node with Ctrl-C" is done with SIGINT (exit 0 expected) and "starting it again
 *   resumes" is checked by a restart that still reads the keys written before;
 * - what the quick start leaves in the clone (data dirs, the backup) is ignored by .gitignore, and
 *   the commands the README shows after the quick start do not reuse a node id, port or data dir
 *   the quick start already used (they run on the cluster it leaves behind).
 */
import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {RaftctlClient} from '../../src/client/index.js'
import {ensureBuilt, freePorts, NodeProc, REPO_ROOT, stopAll, tempDir, waitFor} from '../integration/harness.js'
import {type RunResult, runProcess} from '../harness/process.js'
import {
  flagValue, mapPorts, outputClaims, parseQuickstart, portsIn, type ReadmeBlock, type ReadmeSection, shellWords, unmapPorts,
} from './readme_script.js'

const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
const QUICKSTART = parseQuickstart(README)
const RUN_BIN = join(REPO_ROOT, 'bin', 'run.js')
const DEFAULT_CLIENT = 2379
const DEFAULT_PEER = 2380

/** Runs a one-shot command to completion (killed by pid after timeoutMs), without a terminal. */
function run(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<RunResult> {
  return runProcess(cmd, args, {cwd, env, timeoutMs})
}

interface Server {
  readonly node: NodeProc
  readonly line: string
  readonly section: string
}

/** The state of one replay: environment, port mapping, servers, and what the README's steps did. */
class Replay {
  readonly cwd = tempDir('raftctl-readme-')
  readonly env: Record<string, string> = {}
  readonly servers: Server[] = []
  readonly kv = new Map<string, {value: string, section: string}>()
  readonly roles = new Map<number, 'voter' | 'learner'>()
  /** The start line `member add` printed for a node, with README ports restored. */
  readonly printedStart = new Map<number, string[]>()
  /** Keys written to the cluster that runs now (reset when a server starts while none runs). */
  private clusterKeys = new Set<string>()
  private readonly clients: RaftctlClient[] = []
  private section = ''

  constructor(readonly ports: ReadonlyMap<number, number>) {
    this.env.RAFTCTL_ENDPOINTS = `127.0.0.1:${this.port(DEFAULT_CLIENT)}`
    this.env.RAFTCTL_WRITE_OUT = 'table'
  }

  port(readmePort: number): number {
    return this.ports.get(readmePort)!
  }

  async runBlock(section: ReadmeSection, block: ReadmeBlock): Promise<void> {
    this.section = section.title
    const started: Server[] = []
    const outputs: Array<{args: string[], out: RunResult}> = []
    for (const line of block.commands) {
      const words = shellWords(line)
      if (words[0] === 'npm' && (words[1] === 'install' || words[1] === 'ci') && words.length === 2) {
        checkInstalled()
      } else if (words[0] === 'export' && words.length === 2 && /^[A-Z_][A-Z0-9_]*=/.test(words[1])) {
        const eq = words[1].indexOf('=')
        this.env[words[1].slice(0, eq)] = mapPorts(words[1].slice(eq + 1), this.ports)
      } else if (words[0] === 'npx' && words[1] === 'raftctl' && words[2] === 'server' && words[3] === 'start') {
        started.push(this.startServer(section.title, line, words.slice(4)))
      } else if (words[0] === 'npx' && words[1] === 'raftctl') {
        const args = words.slice(2)
        outputs.push({args, out: await this.runCli(line, args)})
      } else {
        throw new Error(`the README quick start has a command this test does not know how to run: ${line}`)
      }
    }
    if (started.length > 0) await this.waitLeader()
    this.checkClaims(block, outputs)
  }

  private startServer(section: string, line: string, readmeArgs: readonly string[]): Server {
    const args = readmeArgs.map((a) => mapPorts(a, this.ports))
    if (!this.servers.some((s) => s.node.running)) this.clusterKeys = new Set()
    const id = Number(flagValue(args, '--id') ?? '1')
    const printed = this.printedStart.get(id)
    if (printed !== undefined) expectSameStart(printed, readmeArgs, id)
    const client = flagValue(args, '--listen-client') ?? `127.0.0.1:${this.port(DEFAULT_CLIENT)}`
    const env = {
      RAFTCTL_LISTEN_CLIENT: `127.0.0.1:${this.port(DEFAULT_CLIENT)}`,
      RAFTCTL_LISTEN_PEER: `127.0.0.1:${this.port(DEFAULT_PEER)}`,
      ...this.env,
    }
    const spec = {id, clientPort: Number(client.split(':')[1]), peerPort: 0, dataDir: flagValue(args, '--data-dir') ?? 'raftctl-data'}
    const server = {node: new NodeProc(spec, args, env, this.cwd).start(), line, section}
    this.servers.push(server)
    return server
  }

  /** Waits until every running server knows the same leader (as an operator waits for the logs to settle). */
  async waitLeader(): Promise<number> {
    const running = this.servers.filter((s) => s.node.running)
    const c = new RaftctlClient({endpoints: running.map((s) => s.node.client), timeoutMs: 2000})
    this.clients.push(c)
    return waitFor(`a leader known to the nodes started by the README (${running.map((s) => s.node.spec.id).join(', ')})`, async () => {
      for (const s of running) {
        if (!s.node.running) throw new Error(`"${s.line}" exited with ${s.node.exitCode}:\n${s.node.output.slice(-2000)}`)
      }
      const st = await Promise.all(running.map((s) => c.status(s.node.client)))
      const leader = st[0].leader
      return leader !== 0 && st.every((x) => x.leader === leader) ? leader : undefined
    }, {timeoutMs: 30_000, intervalMs: 200})
  }

  /** Runs `raftctl <args>` like the README's `npx raftctl <args>`, expects exit 0, and checks its key facts. */
  async runCli(line: string, readmeArgs: readonly string[]): Promise<RunResult> {
    const args = readmeArgs.map((a) => mapPorts(a, this.ports))
    const out = await run(process.execPath, [RUN_BIN, ...args], this.cwd, this.env)
    expect(out.code, `"${line}" exited with ${out.code}\nstdout: ${out.stdout}\nstderr: ${out.stderr}`).to.equal(0)
    const restored = {...out, stdout: unmapPorts(out.stdout, this.ports)}
    await this.checkFacts(readmeArgs, restored)
    return restored
  }

  private async checkFacts(args: readonly string[], out: RunResult): Promise<void> {
    const [topic, cmd, first, second] = args
    const positional = args.slice(2).filter((a) => !a.startsWith('-'))
    if (topic === 'kv' && cmd === 'put') {
      this.kv.set(first, {value: second, section: this.section})
      this.clusterKeys.add(first)
    }
    if (topic === 'snapshot' && cmd === 'save') expect(existsSync(join(this.cwd, first)), `snapshot save wrote ${first}`).to.equal(true)
    if (topic === 'snapshot' && cmd === 'inspect') await this.checkBackup(first)
    if (topic === 'kv' && cmd === 'get' && !args.includes('--prefix') && this.kv.has(first)) {
      expect(out.stdout, `kv get ${first}`).to.include(this.kv.get(first)!.value)
    }
    if (topic === 'member' && cmd === 'add') {
      const id = Number(positional[0])
      this.roles.set(id, args.includes('--learner') && !args.includes('--promote') ? 'learner' : 'voter')
      const startLine = out.stdout.split('\n').find((l) => /raftctl server start/.test(l))
      expect(startLine, `member add ${id} prints a "raftctl server start" line:\n${out.stdout}`).to.be.a('string')
      const words = shellWords(startLine!.slice(startLine!.indexOf('server start') + 'server start'.length))
      expect(flagValue(words, '--initial-cluster-state'), startLine).to.equal('existing')
      expect(flagValue(words, '--id'), startLine).to.equal(String(id))
      this.printedStart.set(id, words)
    }
    if (topic === 'member' && cmd === 'promote') this.roles.set(Number(positional[0]), 'voter')
    if (topic === 'member' && cmd === 'list') await this.checkRoles()
    if (topic === 'cluster' && cmd === 'status') {
      for (const s of this.servers.filter((x) => x.node.running)) {
        expect(out.stdout, `cluster status lists node ${s.node.spec.id}`).to.match(new RegExp(`(^|\\s|│)${s.node.spec.id}(\\s|│)`, 'm'))
      }
    }
  }

  /** The backup's checksum holds and it holds every key written to the running cluster. */
  private async checkBackup(file: string): Promise<void> {
    const out = await run(process.execPath, [RUN_BIN, 'snapshot', 'inspect', file, '--json', '--keys', '1000'], this.cwd, this.env)
    expect(out.code, `snapshot inspect ${file} --json: ${out.stderr}`).to.equal(0)
    const info = JSON.parse(out.stdout) as {checksumOk: boolean, keys: string[]}
    expect(info.checksumOk, `checksum of ${file}`).to.equal(true)
    expect(info.keys, `keys in ${file}`).to.include.members([...this.clusterKeys])
  }

  /** `member list --json` shows every running node and every member the README added, with its role. */
  private async checkRoles(): Promise<void> {
    const out = await run(process.execPath, [RUN_BIN, 'member', 'list', '--json'], this.cwd, this.env)
    expect(out.code, `member list --json: ${out.stderr}`).to.equal(0)
    const roles = memberRoles(JSON.parse(out.stdout))
    const want = new Map(this.roles)
    for (const s of this.servers) if (s.node.running && !want.has(s.node.spec.id)) want.set(s.node.spec.id, 'voter')
    for (const [id, role] of want) expect(roles.get(id), `role of node ${id} in member list --json: ${out.stdout}`).to.equal(role)
  }

  /** Every "`<command>` prints|shows ... `<text>`" sentence after the block holds for that command's output. */
  private checkClaims(block: ReadmeBlock, outputs: ReadonlyArray<{args: string[], out: RunResult}>): void {
    for (const claim of outputClaims(block.proseAfter)) {
      const ran = outputs.filter((o) => o.args.join(' ').startsWith(claim.command)).at(-1)
      if (ran === undefined) continue
      for (const text of claim.expected) {
        expect(ran.out.stdout, `the README says: ${claim.sentence}`).to.include(text)
      }
    }
  }

  /** "Stop the node with Ctrl-C" (SIGINT, exit 0); "starting it again resumes" (restart, keys still there). */
  async endSection(section: ReadmeSection): Promise<void> {
    const mine = this.servers.filter((s) => s.section === section.title && s.node.running)
    if (!/Stop the node with Ctrl-C/i.test(section.prose) || mine.length === 0) return
    for (const s of mine) expect(await s.node.stop('SIGINT'), `"${s.line}" after Ctrl-C:\n${s.node.output.slice(-2000)}`).to.equal(0)
    if (!/starting it again resumes/i.test(section.prose)) return
    for (const s of mine) s.node.start()
    await this.waitLeader()
    for (const [key, {value}] of [...this.kv].filter(([, v]) => v.section === section.title)) {
      const out = await this.runCli(`npx raftctl kv get ${key}`, ['kv', 'get', key])
      expect(out.stdout, `kv get ${key} after the restart`).to.include(value)
    }
    for (const s of mine) expect(await s.node.stop('SIGINT'), `"${s.line}" after the second Ctrl-C`).to.equal(0)
  }

  close(): void {
    for (const c of this.clients) c.close()
  }
}

/** Reads member roles from `member list --json` (id → voter/learner), whatever nesting the JSON uses. */
function memberRoles(json: unknown): Map<number, string> {
  const roles = new Map<number, string>()
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit)
    if (v === null || typeof v !== 'object') return
    const o = v as Record<string, unknown>
    if (typeof o.id === 'number' && typeof o.role === 'string') roles.set(o.id, o.role)
    Object.values(o).forEach(visit)
  }
  visit(json)
  return roles
}

/** The README's start line for a node added with `member add` is exactly the line `member add` printed. */
function expectSameStart(printed: readonly string[], readme: readonly string[], id: number): void {
  expect(['raftctl', 'server', 'start', ...readme].join(' '), `the README's start line of node ${id} is the one member add prints`)
    .to.equal(['raftctl', 'server', 'start', ...printed].join(' '))
}

/** Inline code spans of the README after the quick start that run `member add` (e.g. the one-shot add and promote). */
function laterMemberAdds(markdown: string): string[][] {
  const after = markdown.slice(markdown.indexOf('<!-- quickstart end -->'))
  return [...after.matchAll(/`((?:npx )?raftctl member add [^`]+)`/g)].map((m) => shellWords(m[1]).filter((w, i) => i > 0 || w !== 'npx'))
}

/** What `npm install` leaves behind: the built CLI that package.json's bin and prepare promise. */
function checkInstalled(): void {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {bin: Record<string, string>, scripts: Record<string, string>}
  expect(pkg.bin.raftctl).to.equal('./bin/run.js')
  expect(pkg.scripts.prepare, 'npm install builds the CLI through the prepare script').to.match(/build|tsc/)
  ensureBuilt()
  expect(existsSync(join(REPO_ROOT, 'dist', 'commands', 'server', 'start.js'))).to.equal(true)
}

describe('README quick start', function () {
  this.timeout(120_000)
  const quickstartText = QUICKSTART.sections.flatMap((s) => s.blocks.flatMap((b) => b.commands)).join('\n')
  let replay: Replay

  before(async () => {
    ensureBuilt()
    const readmePorts = [...new Set([DEFAULT_CLIENT, DEFAULT_PEER, ...portsIn(quickstartText)])]
    const free = await freePorts(readmePorts.length)
    replay = new Replay(new Map(readmePorts.map((p, i) => [p, free[i]])))
  })

  after(async () => {
    replay?.close()
    await stopAll()
  })

  it('gives a newcomer the two commands: npm install, then npx raftctl server start', () => {
    const commands = quickstartText.split('\n')
    expect(commands).to.include('npm install')
    expect(commands).to.include('npx raftctl server start')
    expect(commands.indexOf('npm install')).to.be.lessThan(commands.indexOf('npx raftctl server start'))
  })

  it('keeps every shell block inside the replayed quick start', () => {
    expect(QUICKSTART.shellBlocksOutside, 'shell blocks outside <!-- quickstart --> ... <!-- quickstart end -->').to.equal(0)
    expect(QUICKSTART.sections.length).to.be.greaterThan(0)
  })

  it('runs `npx raftctl` as this package\'s CLI', async () => {
    const out = await run('npx', ['--no-install', 'raftctl', 'version'], REPO_ROOT, {}, 90_000)
    expect(out.code, out.stderr).to.equal(0)
    expect(out.stdout).to.match(/^raftctl\/\d+\.\d+\.\d+ /m)
  })

  for (const section of QUICKSTART.sections) {
    it(`replays "${section.title}"`, async () => {
      for (const block of section.blocks) await replay.runBlock(section, block)
      await replay.endSection(section)
    })
  }

  it('leaves nothing in the clone that .gitignore does not ignore', () => {
    const left = readdirSync(replay.cwd).map((name) => statSync(join(replay.cwd, name)).isDirectory() ? `${name}/` : name)
    expect(left, 'what the quick start created').to.include.members(['data/', 'raftctl-data/', 'backup.snap'])
    const out = execFileSync('git', ['check-ignore', '--no-index', '--verbose', '--non-matching', '--', ...left], {cwd: REPO_ROOT, encoding: 'utf8'})
    const notIgnored = out.split('\n').filter((l) => l.startsWith('::')).map((l) => l.split('\t')[1])
    expect(notIgnored, 'files the quick start leaves in the clone that git would show as untracked').to.deep.equal([])
  })

  it('shows later member adds with a node id, ports and a data dir of their own', () => {
    const adds = laterMemberAdds(README)
    expect(adds.length, 'the one-shot add and promote after the quick start').to.be.greaterThan(0)
    const used = {
      ids: new Set([...replay.servers.map((s) => s.node.spec.id), ...replay.roles.keys()]),
      ports: new Set(portsIn(quickstartText)),
      dirs: new Set(replay.servers.map((s) => s.node.spec.dataDir)),
    }
    for (const words of adds) {
      const line = words.join(' ')
      const id = Number(words[3])
      expect(used.ids.has(id), `${line}: node ${id} is already a member after the quick start`).to.equal(false)
      for (const p of portsIn(line)) expect(used.ports.has(p), `${line}: port ${p} is already used by the quick start`).to.equal(false)
      const dir = flagValue(words, '--data-dir')
      expect(dir, `${line} names its data dir`).to.be.a('string')
      expect(used.dirs.has(dir!), `${line}: ${dir} is already a node's data dir`).to.equal(false)
    }
  })
})
