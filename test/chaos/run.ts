/**
 * One chaos run: a cluster of real nodes behind the fault-injecting proxy, concurrent clients,
 * the chosen nemeses, then healing, final reads, a check that every member holds the same data
 * (etcd's HashKV at the same applied index), and the linearizability check of the history.
 *
 * Bounds: the load and the nemeses stop after `durationMs`; healing, final reads and convergence
 * are each bounded; the check has its own time budget. Every process is stopped by pid at the
 * end, also when the run fails or is aborted (the signal).
 *
 * Output in `out`: history.json, nemesis.json, report.json and logs/node<id>.log.
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {ensureBuilt, stopAll, waitFor} from '../integration/harness.js'
import {check, type CheckResult, type Minimised, minimise, partition} from './checker.js'
import {checkLocks, type LockCheckResult} from './lock_checker.js'
import {LockRecorder, runLockClients} from './lock_workload.js'
import {ChaosCluster} from './cluster.js'
import type {HistoryOp} from './history.js'
import {readConfig, membersLoop, settleMembership, startMembers} from './members.js'
import {FAULTS, faultLoop, type NemesisContext, type NemesisEvent, type NemesisName, record} from './nemesis.js'
import {Rng} from './rng.js'
import {finalReads, Recorder, runClients, type WorkloadOptions} from './workload.js'
import {RaftctlClient} from '../../src/client/index.js'

export interface ChaosOptions {
  readonly nodes: number
  readonly durationMs: number
  readonly clients: number
  readonly keys: number
  readonly nemeses: readonly NemesisName[]
  readonly seed: number
  readonly out: string
  /** Deadline of one client op (default 2 s). */
  readonly opTimeoutMs?: number
  /** Time budget of the linearizability check (default 120 s). */
  readonly checkTimeoutMs?: number
  /** Lock clients beside the KV clients (default 0: none; lock_workload.ts). */
  readonly lockClients?: number
  /** Lock names they contend on (default 2). */
  readonly locks?: number
  /** Their sessions' TTL in seconds (default 2). */
  readonly lockTtlSeconds?: number
}

export interface NodeHash {
  readonly id: number
  readonly appliedIndex: number
  readonly revision: number
  readonly hash: string
}

export interface ChaosReport {
  readonly seed: number
  readonly verdict: CheckResult['verdict']
  readonly check: CheckResult
  /** Every member reported the same kv hash at the same applied index. */
  readonly converged: boolean
  readonly hashes: NodeHash[]
  /** Ops per kind and outcome. */
  readonly counts: Record<string, {ok: number, unknown: number, failed: number}>
  readonly nemesisEvents: number
  /** Smallest failing sub-histories, per key that is not linearizable. */
  readonly minimal: Record<string, Minimised>
  /** What went wrong besides linearizability (no convergence, final reads that never answered). */
  readonly problems: string[]
  /** The lock-safety verdict (lock_checker.ts), when the run had lock clients. */
  readonly locks?: LockCheckResult
}

function counts(ops: readonly HistoryOp[]): ChaosReport['counts'] {
  const out: ChaosReport['counts'] = {}
  for (const o of ops) {
    const c = out[o.op] ??= {ok: 0, unknown: 0, failed: 0}
    if (o.error !== undefined) c.failed += 1
    else if (o.return === null) c.unknown += 1
    else c.ok += 1
  }
  return out
}

/**
 * Waits until every member answers HashKV between two NodeStatus answers at one applied index, then compares
 * the hashes. Returns the last answers and whether they agree.
 */
async function converge(cluster: ChaosCluster, members: readonly number[], timeoutMs: number): Promise<{ok: boolean, hashes: NodeHash[]}> {
  const c = new RaftctlClient({endpoints: cluster.endpoints, timeoutMs: 3000})
  let hashes: NodeHash[] = []
  try {
    await waitFor('every member at the same applied index', async () => {
      hashes = await Promise.all(members.map(async (id) => {
        // etcd's HashKV names the revision it hashed, not the applied index: the hash describes
        // that index only when the member applied nothing between the two NodeStatus calls.
        const endpoint = cluster.node(id).client
        const before = await c.status(endpoint)
        const h = await c.hashKv(endpoint)
        const after = await c.status(endpoint)
        const appliedIndex = before.raftAppliedIndex === after.raftAppliedIndex ? after.raftAppliedIndex : -1
        return {id, appliedIndex, revision: h.header?.revision ?? 0, hash: String(h.hash)}
      }))
      return hashes[0].appliedIndex >= 0 && hashes.every((h) => h.appliedIndex === hashes[0].appliedIndex)
    }, {timeoutMs, intervalMs: 300})
  } catch {
    return {ok: false, hashes}
  } finally {
    c.close()
  }
  return {ok: hashes.every((h) => h.hash === hashes[0].hash && h.revision === hashes[0].revision), hashes}
}

/** Ends every fault, restarts every member and settles the configuration; returns the members. */
async function heal(ctx: NemesisContext): Promise<number[]> {
  const {cluster} = ctx
  cluster.proxy.healAll()
  for (const n of cluster.nodes.values()) {
    if (n.state === 'paused') {
      n.signal('SIGCONT')
      n.state = 'running'
    }
  }
  ctx.locked.clear()
  record(ctx, {nemesis: 'heal', action: 'final heal: all links, every node resumed'})
  const c = new RaftctlClient({endpoints: cluster.endpoints, timeoutMs: 5000})
  try {
    await waitFor('the configuration', async () => {
      const cfg = await readConfig(c)
      if (cfg !== undefined) startMembers(ctx, cfg)
      return cfg
    }, {timeoutMs: 60_000, intervalMs: 500})
  } finally {
    c.close()
  }
  await cluster.waitLeader(60_000)
  return settleMembership(ctx, 60_000)
}

function writeOutput(opts: ChaosOptions, cluster: ChaosCluster, ops: readonly HistoryOp[], timeline: readonly NemesisEvent[],
  locks: LockRecorder): void {
  mkdirSync(join(opts.out, 'logs'), {recursive: true})
  if ((opts.lockClients ?? 0) > 0) {
    const lines = (xs: readonly unknown[]): string => xs.map((x) => `    ${JSON.stringify(x)}`).join(',\n')
    writeFileSync(join(opts.out, 'locks.json'), `{\n  "acquisitions": [\n${lines(locks.acquisitions)}\n  ],\n  "leases": [\n${lines(locks.leases)}\n  ]\n}\n`)
  }
  writeFileSync(join(opts.out, 'history.json'), `[\n${[...ops].sort((a, b) => a.call - b.call).map((o) => JSON.stringify(o)).join(',\n')}\n]\n`)
  writeFileSync(join(opts.out, 'nemesis.json'), `[\n${timeline.map((e) => JSON.stringify(e)).join(',\n')}\n]\n`)
  for (const n of cluster.nodes.values()) writeFileSync(join(opts.out, 'logs', `node${n.id}.log`), n.log)
}

/** Runs the cluster, load and nemeses for the duration, then heals and checks (see module doc). */
export async function runChaos(opts: ChaosOptions, signal?: AbortSignal): Promise<ChaosReport> {
  ensureBuilt()
  mkdirSync(opts.out, {recursive: true})
  const cluster = new ChaosCluster()
  const rng = new Rng(opts.seed)
  const t0 = process.hrtime.bigint()
  const rec = new Recorder(t0)
  const lockRec = new LockRecorder(t0)
  const timeline: NemesisEvent[] = []
  const withMembers = opts.nemeses.includes('members')
  const aborted = (): boolean => signal?.aborted === true
  const ctx: NemesisContext = {cluster, t0, timeline, locked: new Set(), members: new Set(), stop: aborted}
  // An abort must not wait for a membership command in flight (each may take up to 40 s).
  signal?.addEventListener('abort', () => void cluster.killClis(), {once: true})
  try {
    await cluster.bootstrap(opts.nodes, withMembers ? 1 : 0)
    ctx.members = new Set(Array.from({length: opts.nodes}, (_, i) => i + 1))
    await cluster.waitLeader(60_000)
    const load: WorkloadOptions = {endpoints: cluster.endpoints, clients: opts.clients, keys: opts.keys, opTimeoutMs: opts.opTimeoutMs ?? 2000}
    const endAt = Date.now() + opts.durationMs
    ctx.stop = () => aborted() || Date.now() >= endAt
    const faults = FAULTS.filter((f) => opts.nemeses.includes(f))
    const ttlSeconds = opts.lockTtlSeconds ?? 2
    const lockLoad = {endpoints: cluster.endpoints, clients: opts.lockClients ?? 0, locks: opts.locks ?? 2, ttlSeconds,
      lockTimeoutMs: Math.max(5000, 2 * ttlSeconds * 1000), holdMs: [20, 300] as const, longHoldMs: [500, 2 * ttlSeconds * 1000] as const}
    // The lock clients draw from a generator of their own, so adding them leaves the rest of a seed's run as it was.
    await Promise.all([
      runClients(load, rng.fork(), rec, ctx.stop), faultLoop(ctx, faults, rng.fork()),
      withMembers ? membersLoop(ctx, rng.fork()) : Promise.resolve(),
      runLockClients(lockLoad, 0, new Rng(opts.seed ^ 0x10c4), lockRec, ctx.stop),
    ])
    if (aborted()) throw new Error('the chaos run was interrupted')
    ctx.stop = aborted
    const members = await heal(ctx)
    const problems: string[] = []
    const answered = await finalReads(load, rec, opts.clients, 60_000)
    if (answered < opts.keys) problems.push(`only ${answered} of ${opts.keys} final reads answered`)
    const conv = await converge(cluster, members, 60_000)
    if (!conv.ok) problems.push(`the members did not converge to one state: ${JSON.stringify(conv.hashes)}`)
    const result = check(rec.ops, {timeoutMs: opts.checkTimeoutMs ?? 120_000})
    const minimal: Record<string, Minimised> = {}
    const byKey = partition(rec.ops)
    for (const k of result.keys) if (k.verdict === 'not-linearizable') minimal[k.key] = minimise(byKey.get(k.key)!)
    const report: ChaosReport = {
      seed: opts.seed, verdict: result.verdict, check: result, converged: conv.ok, hashes: conv.hashes, counts: counts(rec.ops),
      nemesisEvents: timeline.length, minimal, problems, locks: lockLoad.clients > 0 ? checkLocks(lockRec) : undefined,
    }
    writeFileSync(join(opts.out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`)
    return report
  } finally {
    writeOutput(opts, cluster, rec.ops, timeline, lockRec)
    await cluster.shutdown()
    await stopAll()
  }
}
