/**
 * Integration harness: real `raftctl server start` processes (the built CLI, bin/run.js) on
 * 127.0.0.1 with free ports and temporary data dirs, and the typed client to drive them.
 *
 * - ensureBuilt() compiles src/ to dist/ and regenerates oclif.manifest.json (what `npm run build`
 *   does) when dist is missing or older than src (CI builds right before the tests, so there it
 *   does nothing).
 * - Every process is tracked by pid; stopAll() (call it in after hooks) kills what is left with
 *   SIGKILL and removes the temporary directories.
 * - Every wait is bounded in time and attempts (waitFor).
 */
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {RaftctlClient} from '../../src/client/index.js'

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const RUN_BIN = join(REPO_ROOT, 'bin', 'run.js')
const BUILT_START = join(REPO_ROOT, 'dist', 'commands', 'server', 'start.js')

/** Raft timing for tests: 30 ms ticks, elections after 300–600 ms. */
export const TICK_ARGS = ['--tick-ms', '30', '--election-ticks', '10', '--heartbeat-ticks', '1']

function newestMtime(dir: string): number {
  let newest = 0
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    const st = statSync(p)
    newest = Math.max(newest, st.isDirectory() ? newestMtime(p) : st.mtimeMs)
  }
  return newest
}

/** Builds dist/ when it is missing or older than src/ (see the module comment). */
export function ensureBuilt(): void {
  if (existsSync(BUILT_START) && statSync(BUILT_START).mtimeMs >= newestMtime(join(REPO_ROOT, 'src'))) return
  try {
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
      {cwd: REPO_ROOT, stdio: 'pipe', timeout: 180_000})
    // The command manifest lists every command and flag; a stale one would hide new ones.
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'oclif', 'bin', 'run.js'), 'manifest'],
      {cwd: REPO_ROOT, stdio: 'pipe', timeout: 120_000})
  } catch (err) {
    if (!existsSync(BUILT_START)) throw new Error(`building dist/ failed: ${(err as {stdout?: Buffer}).stdout?.toString() ?? err}`)
  }
}

/** Returns `n` distinct free TCP ports on 127.0.0.1. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({length: n}, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => resolve(s))
  })))
  const ports = servers.map((s) => (s.address() as {port: number}).port)
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
  return ports
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Polls `check` until it returns a value other than undefined/false, at most every `intervalMs`,
 * for at most `timeoutMs`; then throws naming `what` and the last error seen.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: {timeoutMs?: number, intervalMs?: number} = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 20_000
  const intervalMs = opts.intervalMs ?? 100
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (let attempt = 0; attempt < Math.ceil(timeoutMs / intervalMs) + 1; attempt++) {
    try {
      const v = await check()
      if (v !== undefined && v !== false) return v as T
    } catch (err) {
      last = err
    }
    if (Date.now() >= deadline) break
    await sleep(intervalMs)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`)
}

const tracked = new Set<ChildProcess>()
const tempDirs = new Set<string>()
const allNodes: NodeProc[] = []
let dumpSeq = 0

/** A temporary directory removed by stopAll(). */
export function tempDir(prefix = 'raftctl-it-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  tempDirs.add(d)
  return d
}

export interface NodeSpec {
  readonly id: number
  readonly clientPort: number
  readonly peerPort: number
  readonly dataDir: string
}

/** One `raftctl server start` process. */
export class NodeProc {
  proc: ChildProcess | undefined
  output = ''
  exitCode: number | null | undefined
  private exited: Promise<number | null> | undefined

  constructor(readonly spec: NodeSpec, readonly args: readonly string[], readonly env: NodeJS.ProcessEnv = {}, readonly cwd = REPO_ROOT) {
    allNodes.push(this)
  }

  get client(): string {
    return `127.0.0.1:${this.spec.clientPort}`
  }

  get peer(): string {
    return `127.0.0.1:${this.spec.peerPort}`
  }

  get running(): boolean {
    return this.proc !== undefined && this.exitCode === undefined
  }

  /** Starts the process with its args (again after a stop). */
  start(extraArgs: readonly string[] = []): this {
    this.exitCode = undefined
    const child = spawn(process.execPath, [RUN_BIN, 'server', 'start', ...this.args, ...extraArgs], {
      cwd: this.cwd, env: {...process.env, NO_COLOR: '1', ...this.env}, stdio: ['ignore', 'pipe', 'pipe'],
    })
    tracked.add(child)
    this.proc = child
    child.stdout!.on('data', (d: Buffer) => { this.output += d.toString() })
    child.stderr!.on('data', (d: Buffer) => { this.output += d.toString() })
    this.exited = new Promise((resolve) => child.on('exit', (code) => {
      tracked.delete(child)
      this.exitCode = code
      resolve(code)
    }))
    return this
  }

  /** Sends `signal` and waits (bounded) for the exit; returns the exit code (null when killed). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number | null> {
    const child = this.proc
    if (child === undefined || this.exitCode !== undefined) return this.exitCode ?? null
    child.kill(signal)
    return this.waitExit(timeoutMs)
  }

  /** Waits for the process to exit; kills it with SIGKILL and throws after timeoutMs. */
  async waitExit(timeoutMs = 15_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), timeoutMs) })
    const r = await Promise.race([this.exited!, timeout])
    clearTimeout(timer)
    if (r === 'timeout') {
      this.proc?.kill('SIGKILL')
      throw new Error(`node ${this.spec.id} did not exit within ${timeoutMs} ms; output:\n${this.output.slice(-3000)}`)
    }
    return r
  }

  /** Log lines containing `event` (text format: `"event":"<event>"`). */
  lines(event: string): string[] {
    return this.output.split('\n').filter((l) => l.includes(`"event":"${event}"`))
  }

  /** The structured fields of every JSON log line of `event` (needs --log-format json). */
  events(event: string): Array<Record<string, unknown>> {
    return this.lines(event).flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>]
      } catch {
        return []
      }
    })
  }
}

/**
 * Kills every process still running (SIGKILL, by pid) and removes the temporary directories.
 * With RAFTCTL_IT_LOGS=<dir> set, each node's output is saved there first (for debugging).
 */
export async function stopAll(): Promise<void> {
  const logs = process.env.RAFTCTL_IT_LOGS
  if (logs !== undefined && logs !== '') {
    mkdirSync(logs, {recursive: true})
    for (const n of allNodes.splice(0)) writeFileSync(join(logs, `${++dumpSeq}-node${n.spec.id}.log`), n.output)
  }
  allNodes.length = 0
  for (const child of [...tracked]) {
    if (child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
  for (let i = 0; i < 50 && tracked.size > 0; i++) await sleep(100)
  for (const d of tempDirs) rmSync(d, {recursive: true, force: true})
  tempDirs.clear()
}

/** A cluster of node processes sharing one test's temporary directory. */
export class TestCluster {
  readonly nodes = new Map<number, NodeProc>()
  readonly clients: RaftctlClient[] = []

  constructor(readonly root = tempDir()) {}

  /**
   * Reserves ports and a data dir for node `id`. The root is (re)registered for removal here: a
   * cluster built in a describe body gets its root when mocha loads the files, and an earlier
   * file's stopAll() removes it before this cluster's nodes ever start; they would then recreate
   * it unregistered and leave it behind.
   */
  async spec(id: number): Promise<NodeSpec> {
    mkdirSync(this.root, {recursive: true})
    tempDirs.add(this.root)
    const [clientPort, peerPort] = await freePorts(2)
    return {id, clientPort, peerPort, dataDir: join(this.root, `n${id}`)}
  }

  /** Adds (does not start) a node with the common flags plus `extra`. */
  add(spec: NodeSpec, extra: readonly string[]): NodeProc {
    const n = new NodeProc(spec, [
      '--id', String(spec.id), '--data-dir', spec.dataDir,
      '--listen-client', `127.0.0.1:${spec.clientPort}`, '--listen-peer', `127.0.0.1:${spec.peerPort}`,
      ...TICK_ARGS, '--log-format', 'json', ...extra,
    ])
    this.nodes.set(spec.id, n)
    return n
  }

  /** Starts `n` founding members of a new cluster; returns them. */
  async bootstrap(n: number, extra: readonly string[] = []): Promise<NodeProc[]> {
    const specs = await Promise.all(Array.from({length: n}, (_, i) => this.spec(i + 1)))
    const initial = specs.map((s) => `${s.id}=127.0.0.1:${s.peerPort}`).join(',')
    return specs.map((s) => this.add(s, ['--initial-cluster', initial, ...extra]).start())
  }

  node(id: number): NodeProc {
    const n = this.nodes.get(id)
    if (n === undefined) throw new Error(`no node ${id} in this test cluster`)
    return n
  }

  /** A client of the given nodes (all by default), closed by close(). */
  client(ids: readonly number[] = [...this.nodes.keys()], timeoutMs = 5000): RaftctlClient {
    const c = new RaftctlClient({endpoints: ids.map((id) => this.node(id).client), timeoutMs})
    this.clients.push(c)
    return c
  }

  /**
   * Waits until every running node among `ids` names the same leader and that leader published
   * its client URL (so follower redirects work). Returns the leader id.
   */
  async waitLeader(ids: readonly number[] = [...this.nodes.keys()].filter((id) => this.node(id).running), timeoutMs = 30_000): Promise<number> {
    const c = this.client(ids, 2000)
    return waitFor(`a leader known to nodes ${ids.join(', ')}`, async () => {
      const st = await Promise.all(ids.map((id) => c.status(this.node(id).client)))
      const leader = st[0].leader
      if (leader === 0 || !st.every((s) => s.leader === leader)) return undefined
      const list = await c.memberList({endpoint: this.node(leader).client})
      const l = list.members.find((m) => m.member?.id === leader)
      return l !== undefined && (l.member?.clientUrls.length ?? 0) > 0 ? leader : undefined
    }, {timeoutMs, intervalMs: 150})
  }

  close(): void {
    for (const c of this.clients) c.close()
  }
}
