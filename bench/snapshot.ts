/**
 * Benchmark: write throughput of a loaded three-node cluster (real `raftctl server start`
 * processes on 127.0.0.1, default Raft timing: 100 ms ticks, 1 s election timeout) across the
 * events that used to stall it, against the same load without them (docs/testing.md,
 * "Snapshots under load"):
 *
 * - snapshot: automatic snapshots every BENCH_SNAPSHOT_COUNT entries while the load runs (at
 *   least BENCH_SECONDS, and until the leader built BENCH_SNAPSHOTS snapshots, at most 5 times
 *   BENCH_SECONDS); the seconds in which any node built a snapshot (from its `snapshot-created`
 *   log line: end time and `ms`) are "during".
 * - learner: a new node joins with --join as a learner and catches up from a snapshot of the
 *   whole data set; the seconds from its start until the leader reports it caught up are
 *   "during". Prints how many snapshots the leader built for it and how soon after the learner
 *   was serving the leader's stream to it was accepted.
 * - restart: a follower is killed (SIGKILL) and restarted BENCH_RESTARTS times under load; prints
 *   how soon after it was serving again the leader's stream to it was accepted, and whether the
 *   leader lost its leadership meanwhile.
 *
 * Each data set is preloaded with BENCH_KEYS keys of BENCH_VALUE bytes (in transactions), and the
 * load overwrites those keys from BENCH_CONCURRENCY closed-loop writers. Every process is stopped
 * by pid at the end (also on failure), and every wait is bounded.
 *
 * Run with `npm run bench:snapshot`. Environment: BENCH_SCENARIOS (default
 * "snapshot,learner,restart"), BENCH_KEYS (30000), BENCH_VALUE (1024), BENCH_CONCURRENCY (16),
 * BENCH_SNAPSHOT_COUNT (10000), BENCH_SNAPSHOTS (2), BENCH_SECONDS (60), BENCH_RESTARTS (3),
 * BENCH_VERBOSE (1 prints every second).
 */
import {RaftctlClient} from '../src/client/index.js'
import {ensureBuilt, NodeProc, type NodeSpec, sleep, stopAll, TestCluster, waitFor} from '../test/integration/harness.js'
import {benchKey, perSecond, printComparison, PutLoad, type Window} from './load.js'
import {eventTime, learnerReach, reconnectDelay, snapshotWindows} from './log_events.js'
import {envCount} from './env.js'

const KEYS = envCount('BENCH_KEYS', 30_000, 1)
const VALUE = envCount('BENCH_VALUE', 1024, 1)
const CONCURRENCY = envCount('BENCH_CONCURRENCY', 16, 1)
const SNAPSHOT_COUNT = envCount('BENCH_SNAPSHOT_COUNT', 10_000, 1)
const SECONDS = envCount('BENCH_SECONDS', 60, 5)
const SNAPSHOTS = envCount('BENCH_SNAPSHOTS', 2, 1)
const RESTARTS = envCount('BENCH_RESTARTS', 3, 1)
const VERBOSE = process.env.BENCH_VERBOSE === '1'
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? 'snapshot,learner,restart').split(',').map((s) => s.trim())
/** Seconds at the start of a load that count neither way (connections warm up). */
const WARMUP_MS = 2000
/** How long after an event's end its seconds still count as "during". */
const TAIL_MS = 1000
const NEVER = '1000000000'

/** Adds a node with the benchmark's flags (the default Raft timing, JSON logs) plus `extra`. */
function addNode(cluster: TestCluster, spec: NodeSpec, extra: readonly string[]): NodeProc {
  const n = new NodeProc(spec, [
    '--id', String(spec.id), '--data-dir', spec.dataDir, '--listen-client', `127.0.0.1:${spec.clientPort}`,
    '--listen-peer', `127.0.0.1:${spec.peerPort}`, '--log-format', 'json', ...extra,
  ])
  cluster.nodes.set(spec.id, n)
  return n
}

async function startCluster(extra: readonly string[]): Promise<{cluster: TestCluster, leader: number}> {
  const cluster = new TestCluster()
  const specs = await Promise.all([1, 2, 3].map((id) => cluster.spec(id)))
  const initial = specs.map((s) => `${s.id}=127.0.0.1:${s.peerPort}`).join(',')
  for (const s of specs) addNode(cluster, s, ['--initial-cluster', initial, ...extra]).start()
  const leader = await cluster.waitLeader([1, 2, 3], 60_000)
  await preload(cluster.client([1, 2, 3], 30_000))
  return {cluster, leader: await cluster.waitLeader([1, 2, 3], 60_000)}
}

/** Writes every bench key once, 200 per transaction. */
async function preload(client: RaftctlClient): Promise<void> {
  const value = Buffer.alloc(VALUE, 'p')
  for (let i = 0; i < KEYS; i += 200) {
    const success = []
    for (let k = i; k < Math.min(KEYS, i + 200); k++) {
      success.push({requestPut: {key: Buffer.from(benchKey(k)), value, lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false}})
    }
    await client.txn({success})
  }
}

function dataSet(): string {
  return `${KEYS} keys x ${VALUE} B (~${((KEYS * (VALUE + 40)) / 1e6).toFixed(0)} MB), ${CONCURRENCY} writers`
}

async function snapshotScenario(): Promise<void> {
  const {cluster, leader} = await startCluster(['--snapshot-count', String(SNAPSHOT_COUNT)])
  const maxMs = 5 * SECONDS * 1000
  const load = new PutLoad(cluster.client([1, 2, 3], 10_000), {keys: KEYS, valueBytes: VALUE, concurrency: CONCURRENCY, maxMs}).start()
  await sleep(SECONDS * 1000)
  const built = (): number => snapshotWindows([cluster.node(leader)], load.startedAt).length
  for (let i = 0; i < maxMs / 1000 && built() < SNAPSHOTS && Date.now() - load.startedAt < maxMs; i++) await sleep(1000)
  await sleep(TAIL_MS + 1000)
  await load.stop()
  const ended = Date.now()
  const nodes = [1, 2, 3].map((id) => cluster.node(id))
  const windows = snapshotWindows(nodes, load.startedAt)
  const stats = perSecond(load.samples, load.startedAt + WARMUP_MS, ended, windows, TAIL_MS)
  printComparison(`snapshot: automatic snapshots every ${SNAPSHOT_COUNT} entries; ${dataSet()}; ` +
    `${windows.length} snapshots built (${windows.map((w) => `${w.end - w.start} ms`).join(', ')})`, stats, VERBOSE)
  cluster.close()
}

async function learnerScenario(): Promise<void> {
  const {cluster, leader} = await startCluster(['--snapshot-count', NEVER, '--snapshot-catch-up-entries', '100'])
  // A snapshot (and the compaction after it) that does not name the learner: it cannot serve it.
  const dl = await cluster.client([leader], 60_000).snapshot(cluster.node(leader).client, {timeoutMs: 60_000})
  for await (const _ of dl.chunks) { /* discarded */ }
  const client = cluster.client([1, 2, 3], 10_000)
  const load = new PutLoad(client, {keys: KEYS, valueBytes: VALUE, concurrency: CONCURRENCY, maxMs: 200_000}).start()
  await sleep(15_000)
  const follower = [1, 2, 3].find((id) => id !== leader)!
  const spec = await cluster.spec(4)
  const joinedAt = Date.now()
  const learner = addNode(cluster, spec, ['--join', cluster.node(follower).client, '--snapshot-count', NEVER]).start()
  const status = cluster.client([leader], 5000)
  const caughtUpAt = await waitFor('the learner to catch up', async () => {
    const m = (await status.memberList({endpoint: cluster.node(leader).client})).members.find((x) => x.member?.id === 4)
    return m !== undefined && m.matchIndex > 0 && m.lag <= 200 ? Date.now() : undefined
  }, {timeoutMs: 150_000, intervalMs: 200})
  await sleep(10_000)
  await load.stop()
  const window: Window = {start: joinedAt, end: caughtUpAt}
  const stats = perSecond(load.samples, load.startedAt + WARMUP_MS, Date.now() - 1000, [window], TAIL_MS)
  const built = cluster.node(leader).events('snapshot-created').filter((e) => eventTime(e) >= joinedAt)
  printComparison(`learner: a learner joins and catches up in ${caughtUpAt - joinedAt} ms; ${dataSet()}; ` +
    `the leader built ${built.length} snapshot(s) for it (${built.map((e) => `${String(e.bytes)} B in ${String(e.ms)} ms`).join(', ')})`,
  stats, VERBOSE)
  const reach = learnerReach(cluster.node(leader), learner)
  console.log(`  leader reached the learner ${reach === undefined ? 'at its first attempt (never unreachable)' : `${reach} ms after it was serving`}`)
  cluster.close()
}

async function restartScenario(): Promise<void> {
  const {cluster, leader} = await startCluster(['--snapshot-count', String(SNAPSHOT_COUNT)])
  const load = new PutLoad(cluster.client([1, 2, 3], 10_000), {keys: KEYS, valueBytes: VALUE, concurrency: CONCURRENCY, maxMs: 60_000 * RESTARTS}).start()
  const follower = cluster.node([1, 2, 3].find((id) => id !== leader)!)
  const delays: string[] = []
  for (let i = 0; i < RESTARTS; i++) {
    await sleep(2000)
    await follower.stop('SIGKILL')
    const killedAt = Date.now()
    await sleep(4000)
    const before = follower.output.length
    follower.start()
    await waitFor('the follower to serve again', () => follower.output.slice(before).includes('"event":"serving"'), {timeoutMs: 30_000})
    await waitFor('the leader to reach the follower', () => reconnectDelay(cluster.node(leader), follower, killedAt), {timeoutMs: 30_000})
    delays.push(`${reconnectDelay(cluster.node(leader), follower, killedAt)} ms`)
  }
  await load.stop()
  const lost = cluster.node(leader).events('lost-leadership').length
  console.log(`restart: a follower killed and restarted ${RESTARTS} times under load; the leader reached it ` +
    `${delays.join(', ')} after it was serving; the leader stepped down ${lost} time(s)`)
  cluster.close()
}

async function main(): Promise<void> {
  ensureBuilt()
  const run: Record<string, () => Promise<void>> = {snapshot: snapshotScenario, learner: learnerScenario, restart: restartScenario}
  for (const name of SCENARIOS) {
    if (run[name] === undefined) throw new Error(`BENCH_SCENARIOS names "${name}"; the scenarios are ${Object.keys(run).join(', ')}`)
  }
  try {
    for (const name of SCENARIOS) {
      await run[name]()
      await stopAll()
    }
  } finally {
    await stopAll()
  }
}

main().catch(async (err) => {
  console.error(`bench:snapshot failed: ${(err as Error).message}`)
  await stopAll()
  process.exit(1)
})
