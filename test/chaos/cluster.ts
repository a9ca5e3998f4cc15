/**
 * The processes of a chaos run: real `raftctl server start` nodes (the built CLI, via the
 * integration harness's NodeProc) whose outgoing gRPC connections go through the ChaosProxy, and
 * the membership commands run through the CLI.
 *
 * Every process is tracked by pid: nodes by the harness (its stopAll() kills what is left), CLI
 * runs here (killAll()). A node id keeps its ports and data dir for the whole run; a node removed
 * from the cluster has its data dir wiped before it is added again, and then starts with
 * `--initial-cluster-state existing` (docs/operations.md).
 */
import {rmSync} from 'node:fs'
import {RaftctlClient} from '../../src/client/index.js'
import {type CliProcess, type CliResult, spawnCli} from '../commands/cli_harness.js'
import {type NodeSpec, NodeProc, TestCluster, waitFor} from '../integration/harness.js'
import {ChaosProxy} from './proxy.js'

/** Raft timing of chaos nodes: 50 ms ticks, elections after 0.5–1 s (robust on a loaded machine). */
const TIMING = ['--tick-ms', '50', '--election-ticks', '10', '--heartbeat-ticks', '1']
/** Frequent snapshots, so restarts and new learners catch up from snapshots too. */
const SNAPSHOTS = ['--snapshot-count', '300', '--snapshot-catch-up-entries', '100']

export type NodeState = 'running' | 'paused' | 'stopped'

/** One node id of the run, across its incarnations. */
export class ChaosNode {
  proc: NodeProc | undefined
  state: NodeState = 'stopped'
  /** The data dir was wiped since the last start: the node must start as a new member. */
  wiped = false
  /** Output of earlier incarnations (the current one is in proc.output). */
  private past = ''

  constructor(readonly spec: NodeSpec, readonly proxyPort: number) {}

  get id(): number {
    return this.spec.id
  }

  get client(): string {
    return `127.0.0.1:${this.spec.clientPort}`
  }

  get peer(): string {
    return `127.0.0.1:${this.spec.peerPort}`
  }

  /** Everything the node printed in every incarnation. */
  get log(): string {
    return this.past + (this.proc?.output ?? '')
  }

  /** Starts a new incarnation with `clusterArgs` (--initial-cluster ...) after the common flags. */
  start(clusterArgs: readonly string[]): void {
    if (this.proc !== undefined) this.past += this.proc.output + `\n--- node ${this.id} restarted ---\n`
    const s = this.spec
    this.proc = new NodeProc(s, [
      '--id', String(s.id), '--data-dir', s.dataDir, '--listen-client', this.client, '--listen-peer', this.peer,
      ...TIMING, ...SNAPSHOTS, '--log-format', 'json', ...clusterArgs,
    ], ChaosProxy.env(this.proxyPort)).start()
    this.state = 'running'
    this.wiped = false
  }

  /** Starts the current incarnation again with the same arguments (after a kill). */
  restart(): void {
    this.proc!.start()
    this.state = 'running'
  }

  signal(sig: NodeJS.Signals): void {
    const pid = this.proc?.proc?.pid
    if (pid !== undefined && this.proc!.running) process.kill(pid, sig)
  }

  /** SIGKILLs the node (resuming it first if paused, so the kill is not delayed) and waits. */
  async kill(): Promise<void> {
    if (this.proc === undefined || !this.proc.running) {
      this.state = 'stopped'
      return
    }
    this.proc.proc!.kill('SIGKILL')
    await this.proc.waitExit(10_000).catch(() => undefined)
    this.state = 'stopped'
  }

  /** Wipes the data dir (a removed node must not come back with its old state). */
  wipe(): void {
    rmSync(this.spec.dataDir, {recursive: true, force: true})
    this.wiped = true
  }
}

/** The nodes, the proxy and the CLI runs of one chaos run. */
export class ChaosCluster {
  readonly proxy = new ChaosProxy()
  readonly nodes = new Map<number, ChaosNode>()
  private readonly tc = new TestCluster()
  private readonly clis = new Set<CliProcess>()
  private statusClient: RaftctlClient | undefined

  /**
   * Reserves ports and a data dir for node `id`, whose proxy already listens on `proxyPort`. (The
   * proxies listen first: a port the harness reserved and released could otherwise be handed to
   * a proxy before the node binds it.)
   */
  private async define(id: number, proxyPort: number): Promise<ChaosNode> {
    const node = new ChaosNode(await this.tc.spec(id), proxyPort)
    this.proxy.setPeerAddress(id, node.peer)
    this.nodes.set(id, node)
    return node
  }

  node(id: number): ChaosNode {
    const n = this.nodes.get(id)
    if (n === undefined) throw new Error(`no node ${id} in this chaos cluster`)
    return n
  }

  /** Client endpoints of every node id of the run (clients skip the ones that are down). */
  get endpoints(): string[] {
    return [...this.nodes.values()].map((n) => n.client)
  }

  /** Defines nodes 1..n plus `spares` more ids, and starts 1..n as a new cluster. */
  async bootstrap(n: number, spares: number): Promise<void> {
    const ids = Array.from({length: n + spares}, (_, i) => i + 1)
    const proxyPorts = []
    for (const id of ids) proxyPorts.push(await this.proxy.listen(id))
    for (const id of ids) await this.define(id, proxyPorts[id - 1])
    const initial = Array.from({length: n}, (_, i) => `${i + 1}=${this.node(i + 1).peer}`).join(',')
    for (let id = 1; id <= n; id++) this.node(id).start(['--initial-cluster', initial])
  }

  /** A client for status calls to single members (short deadline, no redirects). */
  get status(): RaftctlClient {
    this.statusClient ??= new RaftctlClient({endpoints: this.endpoints, timeoutMs: 1500})
    return this.statusClient
  }

  /** The leader most running nodes agree on (0 when none answers with one). */
  async leader(): Promise<number> {
    const running = [...this.nodes.values()].filter((n) => n.state === 'running')
    const answers = await Promise.all(running.map((n) => this.status.status(n.client).catch(() => undefined)))
    const votes = new Map<number, number>()
    for (const a of answers) if (a !== undefined && a.leader !== 0) votes.set(a.leader, (votes.get(a.leader) ?? 0) + 1)
    return [...votes].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0
  }

  /** Waits (bounded) until a leader is known to the running nodes; returns it. */
  waitLeader(timeoutMs = 30_000): Promise<number> {
    return waitFor('a leader', async () => (await this.leader()) || undefined, {timeoutMs, intervalMs: 200})
  }

  /**
   * Runs `raftctl <args>` against every node's client endpoint, bounded by `timeoutMs` (killed
   * by pid when it overruns or when the run is torn down).
   */
  async cli(args: readonly string[], timeoutMs = 30_000): Promise<CliResult> {
    const p = spawnCli([...args, '--endpoints', this.endpoints.join(','), '--timeout', '5s'], {timeoutMs,
      env: {grpc_proxy: '', http_proxy: '', https_proxy: ''}})
    this.clis.add(p)
    try {
      return await p.done
    } finally {
      this.clis.delete(p)
    }
  }

  /** Kills (SIGKILL, by pid) every CLI run still going; resolves when they exited (at most 5 s). */
  async killClis(): Promise<void> {
    const running = [...this.clis]
    for (const p of running) p.kill()
    this.clis.clear()
    await Promise.race([Promise.all(running.map((p) => p.done.catch(() => undefined))), new Promise((r) => setTimeout(r, 5000))])
  }

  /** Kills every CLI run still going, resumes paused nodes, closes the proxy and clients. */
  async shutdown(): Promise<void> {
    await this.killClis()
    for (const n of this.nodes.values()) if (n.state === 'paused') n.signal('SIGCONT')
    this.statusClient?.close()
    this.tc.close()
    await this.proxy.close()
  }
}
