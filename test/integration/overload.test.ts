/**
 * Issue 11 §3 on a real three-node cluster: admission control under an overload burst. Far more
 * concurrent puts than the node's bounds (--max-queued-proposals, --max-unapplied-entries,
 * --max-uncommitted-bytes, set low here) are sent straight to the leader over raw gRPC (no client
 * retries). The leader answers part of them RESOURCE_EXHAUSTED, marked safe to retry, and writes
 * nothing for those; it keeps its followers' heartbeats going — no node changes term or leader
 * during the burst — and it recovers: later writes succeed. A request larger than
 * --max-request-bytes is answered INVALID_ARGUMENT naming its size and the limit. No timed
 * assertions: terms, counts, states.
 */
import {Metadata, type ServiceError, status} from '@grpc/grpc-js'
import {expect} from 'chai'
import {bytesToString, type RaftctlClient} from '../../src/client/index.js'
import {DETAIL_KEY, RETRY_SAFE_KEY} from '../../src/raftpb/metadata.js'
import {KVClient} from '../../src/generated/etcd/etcdserverpb/kv.js'
import {ensureBuilt, NodeProc, stopAll, TestCluster} from './harness.js'

const BURST = 2000
const VALUE = 'v'.repeat(200)
const MAX_REQUEST_BYTES = 64 * 1024
/**
 * The bounds, low enough for the burst to pass them: at most 64 calls in flight on the test's
 * connection (the rest wait in the client), 32 of them queued as proposals, and 50 committed
 * entries waiting to be applied (one turn admits up to 32 puts, ~7 KiB, but applies only 4 KiB).
 */
const LIMITS = [
  '--max-concurrent-streams', '64', '--max-queued-proposals', '32', '--max-unapplied-entries', '50',
  '--max-uncommitted-bytes', String(4 * MAX_REQUEST_BYTES), '--max-request-bytes', String(MAX_REQUEST_BYTES),
]
/** Default Raft timing (100 ms ticks, 1–2 s election timeout), so only the burst could disturb it. */
const TIMING = ['--tick-ms', '100', '--election-ticks', '10', '--heartbeat-ticks', '1']

/** How each node sees the cluster: term and leader, and how often it logged a change of either. */
interface Seen {
  readonly term: number
  readonly leader: number
  readonly termChanges: number
  readonly leaderChanges: number
}

describe('integration: admission control under an overload burst (issue 11 §3)', function () {
  this.timeout(180_000)
  const cluster = new TestCluster()
  let client: RaftctlClient
  let leader: number

  const seen = async (): Promise<Seen[]> => Promise.all([1, 2, 3].map(async (id) => {
    const n = cluster.node(id)
    const st = await client.status(n.client)
    return {term: st.raftTerm, leader: st.leader, termChanges: n.lines('term-changed').length, leaderChanges: n.lines('leader-changed').length}
  }))

  const rawPut = (raw: KVClient, key: string, value: Uint8Array): Promise<ServiceError | null> => new Promise((resolve) => {
    raw.put({key: Buffer.from(key), value, lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false}, new Metadata(), {deadline: Date.now() + 90_000}, (err) => resolve(err))
  })

  before(async function () {
    this.timeout(240_000)
    ensureBuilt()
    const specs = await Promise.all([1, 2, 3].map((id) => cluster.spec(id)))
    const initial = specs.map((s) => `${s.id}=127.0.0.1:${s.peerPort}`).join(',')
    for (const s of specs) {
      const n = new NodeProc(s, [
        '--id', String(s.id), '--data-dir', s.dataDir, '--listen-client', `127.0.0.1:${s.clientPort}`,
        '--listen-peer', `127.0.0.1:${s.peerPort}`, '--initial-cluster', initial, '--log-format', 'json', ...TIMING, ...LIMITS,
      ])
      cluster.nodes.set(s.id, n)
      n.start()
    }
    client = cluster.client([1, 2, 3], 20_000)
    leader = await cluster.waitLeader()
    await client.put('overload/warm-up', 'x')
  })

  after(async () => {
    cluster.close()
    await stopAll()
  })

  it('refuses part of a burst with RESOURCE_EXHAUSTED, writes nothing for it, keeps its term and leader, and recovers', async () => {
    const before = await seen()
    expect(before.map((s) => s.leader)).to.deep.equal([leader, leader, leader])
    const raw = client.conn.client(KVClient, cluster.node(leader).client)
    const value = Buffer.from(VALUE)
    const results = await Promise.all(Array.from({length: BURST}, (_, i) => rawPut(raw, `overload/burst/${i}`, value)))

    const ok = new Set<number>()
    const refused = new Set<number>()
    const other: string[] = []
    results.forEach((err, i) => {
      if (err === null) ok.add(i)
      else if (err.code === status.RESOURCE_EXHAUSTED && err.metadata.get(RETRY_SAFE_KEY)[0] === '1' &&
        err.details === 'etcdserver: too many requests' && /^.*; retry shortly$/.test(String(err.metadata.get(DETAIL_KEY)[0]))) refused.add(i)
      else other.push(`${status[err.code]}: ${err.details}`)
    })
    expect(other, 'every put was either written or refused as too many requests').to.deep.equal([])
    expect(refused.size, 'the burst passed the bounds').to.be.greaterThan(0)
    expect(ok.size, 'the leader kept writing what it admitted').to.be.greaterThan(0)

    // No election, no leader lost, no term change anywhere during the burst.
    const after = await seen()
    expect(after).to.deep.equal(before)

    // Nothing was written for a refused put; every admitted one was.
    const kvs = (await client.range('overload/burst/', {prefix: true})).kvs
    const written = new Map(kvs.map((kv) => [Number(bytesToString(kv.key).slice('overload/burst/'.length)), bytesToString(kv.value)]))
    expect([...written.keys()].sort((a, b) => a - b)).to.deep.equal([...ok].sort((a, b) => a - b))
    expect([...written.values()].every((v) => v === VALUE)).to.equal(true)

    // It recovers: later writes succeed, on the same leader and term.
    for (let i = 0; i < 20; i++) await client.put(`overload/after/${i}`, 'ok')
    expect((await client.range('overload/after/', {prefix: true, countOnly: true})).count).to.equal(20)
    expect(await seen()).to.deep.equal(before)
  })

  it('answers a request larger than --max-request-bytes INVALID_ARGUMENT naming its size and the limit, writing nothing', async () => {
    const raw = client.conn.client(KVClient, cluster.node(leader).client)
    const big = new Uint8Array(MAX_REQUEST_BYTES + 1)
    const err = await rawPut(raw, 'overload/big', big)
    expect(err?.code).to.equal(status.INVALID_ARGUMENT)
    expect(err?.details).to.equal('etcdserver: request is too large')
    expect(String(err?.metadata.get(DETAIL_KEY)[0])).to.match(new RegExp(`^the request is ${MAX_REQUEST_BYTES + 1 + 'overload/big'.length + 6} bytes, ` +
      `more than the ${MAX_REQUEST_BYTES} bytes --max-request-bytes allows$`))
    expect(await client.get('overload/big')).to.equal(undefined)
    expect(await rawPut(raw, 'overload/big', new Uint8Array(MAX_REQUEST_BYTES - 100))).to.equal(null)
  })
})
