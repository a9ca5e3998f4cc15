/**
 * A real etcd 3.4 (Debian's etcd-server) for the compatibility tests, and etcdctl (Debian's
 * etcd-client) to drive it or raftctl.
 *
 * - startEtcd() starts a new cluster of one member (or more) on free 127.0.0.1 ports with its
 *   data in a temporary directory and waits, bounded, until every member reports healthy.
 *   EtcdCluster.stop() (and stopAllEtcd(), for after hooks) stops each member by pid (SIGTERM,
 *   then SIGKILL after a bounded wait) and removes the directory.
 * - etcdctl() runs `etcdctl` (ETCDCTL_API=3) against a list of endpoints with an optional stdin,
 *   kills it by pid when it overruns its timeout, and can stop a streaming command (watch) once it
 *   printed a number of lines. runProcess (test/harness/process.ts) cannot feed stdin or stop
 *   early, which `etcdctl txn` and `etcdctl watch` need.
 * - requireEtcd() skips a suite with a clear message when the binaries are missing locally; under
 *   CI (CI=true) it fails instead, since .ci/run installs them.
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {freePorts, sleep, waitFor} from '../integration/harness.js'

const ETCD = 'etcd'
const ETCDCTL = 'etcdctl'
/** Output kept per member, from the end (enough for the last minutes of logs). */
const OUTPUT_LIMIT = 256 * 1024

/** etcd 3.4 refuses to start on a platform other than amd64 unless told its Go name. */
const GO_ARCH: Partial<Record<string, string>> = {arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x', arm: 'arm', ia32: '386'}

function etcdEnv(): NodeJS.ProcessEnv {
  const arch = GO_ARCH[process.arch]
  return {...process.env, ...(process.arch !== 'x64' && arch !== undefined ? {ETCD_UNSUPPORTED_ARCH: arch} : {})}
}

/**
 * Names the etcd binaries missing from PATH (of `env`), with the packages that provide them, or
 * returns undefined when both are there.
 */
export function etcdBinariesMissing(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const missing = [ETCD, ETCDCTL].filter((bin) => spawnSync(bin, ['--version'], {env, stdio: 'ignore', timeout: 10_000}).error !== undefined)
  if (missing.length === 0) return undefined
  return `${missing.join(' and ')} not found on PATH (apt-get install etcd-server etcd-client; .ci/run installs them)`
}

/**
 * Call in a suite's before hook: skips the suite, saying why, when etcd or etcdctl is missing;
 * under CI a missing binary fails the hook instead of hiding the suite.
 */
export function requireEtcd(ctx: Mocha.Context): void {
  const missing = etcdBinariesMissing()
  if (missing === undefined) return
  if (process.env.CI === 'true') throw new Error(`the etcd compatibility tests need etcd: ${missing}`)
  console.warn(`      skipped "${ctx.test?.parent?.fullTitle() ?? 'etcd tests'}": ${missing}`)
  ctx.skip()
}

/** One etcd process of a test cluster. */
export class EtcdMember {
  output = ''
  exitCode: number | null | undefined
  private proc: ChildProcess | undefined
  private exited: Promise<void> = Promise.resolve()

  constructor(readonly name: string, readonly clientPort: number, readonly peerPort: number, readonly dataDir: string) {}

  /** host:port, as etcdctl's --endpoints takes it. */
  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`
  }

  get clientUrl(): string {
    return `http://${this.endpoint}`
  }

  get peerUrl(): string {
    return `http://127.0.0.1:${this.peerPort}`
  }

  get pid(): number | undefined {
    return this.proc?.pid
  }

  get running(): boolean {
    return this.proc !== undefined && this.exitCode === undefined
  }

  /** Starts the process as a member of `initialCluster` ("name=peerURL,..."). */
  start(initialCluster: string, token: string, extraArgs: readonly string[]): void {
    this.exitCode = undefined
    this.output = ''
    const child = spawn(ETCD, [
      '--name', this.name, '--data-dir', this.dataDir,
      '--listen-client-urls', this.clientUrl, '--advertise-client-urls', this.clientUrl,
      '--listen-peer-urls', this.peerUrl, '--initial-advertise-peer-urls', this.peerUrl,
      '--initial-cluster', initialCluster, '--initial-cluster-state', 'new', '--initial-cluster-token', token,
      '--logger', 'zap', '--log-outputs', 'stderr', ...extraArgs,
    ], {env: etcdEnv(), stdio: ['ignore', 'pipe', 'pipe']})
    this.proc = child
    live.add(this)
    const keep = (d: Buffer): void => { this.output = (this.output + d.toString()).slice(-OUTPUT_LIMIT) }
    child.stdout!.on('data', keep)
    child.stderr!.on('data', keep)
    this.exited = new Promise((resolve) => {
      child.on('error', (err) => { this.output += `\nspawn failed: ${err.message}`; this.exitCode = null; live.delete(this); resolve() })
      child.on('exit', (code) => { this.exitCode = code; live.delete(this); resolve() })
    })
  }

  /** Asks /health (bounded by 1 s); true when the member says it is healthy. */
  async healthy(): Promise<boolean> {
    const res = await fetch(`${this.clientUrl}/health`, {signal: AbortSignal.timeout(1000)})
    return res.ok && ((await res.json()) as {health?: string}).health === 'true'
  }

  /**
   * Stops the process by pid: `signal` first, SIGKILL when it has not exited within
   * `timeoutMs`. Resolves once it has exited.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
    if (!this.running || this.pid === undefined) return
    signalPid(this.pid, signal)
    let timer: NodeJS.Timeout | undefined
    const overrun = new Promise<'overrun'>((resolve) => { timer = setTimeout(() => resolve('overrun'), timeoutMs) })
    const r = await Promise.race([this.exited, overrun]).finally(() => clearTimeout(timer))
    if (r === 'overrun' && this.pid !== undefined) {
      signalPid(this.pid, 'SIGKILL')
      await this.exited
    }
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch {
    // already gone
  }
}

const live = new Set<EtcdMember>()
const clusters = new Set<EtcdCluster>()

/** A test cluster of etcd members sharing one temporary directory. */
export class EtcdCluster {
  constructor(readonly members: readonly EtcdMember[], readonly dir: string) {
    clusters.add(this)
  }

  endpoints(): string[] {
    return this.members.map((m) => m.endpoint)
  }

  /** Waits (bounded) until every running member reports healthy. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    for (const m of this.members.filter((x) => x.running)) {
      await waitFor(`etcd member ${m.name} healthy at ${m.clientUrl}`, async () => {
        if (!m.running) throw new Error(`etcd ${m.name} exited with ${m.exitCode}: ${m.output.slice(-2000)}`)
        return m.healthy()
      }, {timeoutMs, intervalMs: 100})
    }
  }

  /** Stops every member by pid and removes the data directory. */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()))
    rmSync(this.dir, {recursive: true, force: true})
    clusters.delete(this)
  }
}

export interface StartEtcdOptions {
  /** Founding members (default 1). */
  readonly members?: number
  /** Added to every member's command line (e.g. ['--max-txn-ops', '4']). */
  readonly extraArgs?: readonly string[]
}

let token = 0

/**
 * Starts a new etcd cluster and waits until it is healthy. A member that dies at start (another
 * process took a port between the choice and the bind) makes the whole cluster start again on
 * new ports, at most three times.
 */
export async function startEtcd(opts: StartEtcdOptions = {}): Promise<EtcdCluster> {
  let last: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'raftctl-etcd-'))
    const ports = await freePorts(2 * (opts.members ?? 1))
    const members = Array.from({length: opts.members ?? 1}, (_, i) =>
      new EtcdMember(`e${i + 1}`, ports[2 * i], ports[2 * i + 1], join(dir, `e${i + 1}`)))
    const initial = members.map((m) => `${m.name}=${m.peerUrl}`).join(',')
    const cluster = new EtcdCluster(members, dir)
    const clusterToken = `raftctl-test-${process.pid}-${++token}`
    for (const m of members) m.start(initial, clusterToken, opts.extraArgs ?? [])
    try {
      await cluster.waitHealthy()
      return cluster
    } catch (err) {
      last = err
      await cluster.stop()
      if (!members.some((m) => /address already in use/.test(m.output))) break
      await sleep(200)
    }
  }
  throw last
}

/** Stops every etcd member still running and removes their directories (for after hooks). */
export async function stopAllEtcd(): Promise<void> {
  await Promise.all([...clusters].map((c) => c.stop()))
  await Promise.all([...live].map((m) => m.stop('SIGKILL')))
}

/** The outcome of an etcdctl run. `code` is null when it was killed (timeout or line limit). */
export interface EtcdctlResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  /** True when the run overran its timeout and was killed. */
  readonly timedOut: boolean
}

export interface EtcdctlOptions {
  /** Written to stdin, which is then closed (etcdctl txn reads its operations from stdin). */
  readonly input?: string
  /** Killed (SIGKILL, by pid) after this long. Default 15 s. */
  readonly timeoutMs?: number
  /** Killed once stdout holds this many lines (for commands that stream, like watch). */
  readonly stopAfterLines?: number
}

/** Runs `etcdctl --endpoints <endpoints> ...args` with ETCDCTL_API=3. */
export function etcdctl(endpoints: readonly string[], args: readonly string[], opts: EtcdctlOptions = {}): Promise<EtcdctlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(ETCDCTL, ['--endpoints', endpoints.join(','), ...args],
      {env: {...process.env, ETCDCTL_API: '3'}, stdio: ['pipe', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    let timedOut = false
    const kill = (): void => { if (child.pid !== undefined && child.exitCode === null) signalPid(child.pid, 'SIGKILL') }
    const timer = setTimeout(() => { timedOut = true; kill() }, opts.timeoutMs ?? 15_000)
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
      if (opts.stopAfterLines !== undefined && stdout.split('\n').length > opts.stopAfterLines) kill()
    })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('error', (err) => { clearTimeout(timer); reject(err) })
    child.on('close', (code) => { clearTimeout(timer); resolve({code, stdout, stderr, timedOut}) })
    child.stdin.on('error', () => {})
    child.stdin.end(opts.input ?? '')
  })
}
