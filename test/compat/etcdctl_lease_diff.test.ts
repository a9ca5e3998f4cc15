/**
 * Differential run of etcdctl's lease commands: the same sequence (lease grant / revoke /
 * timetolive [--keys] / list / keep-alive --once, put --lease and --ignore-lease, and the
 * refusals) in every output format, against a fresh single-member etcd 3.4 and a fresh
 * single-node raftctl; the outputs must be equal once normalized: cluster id, member id and Raft
 * term (as in the KV diff), the ids of leases granted without an id (random on both), the
 * remaining TTL (checked to be within 5 s of the granted TTL on both), and the order of
 * `lease list` (etcd lists its leases in map order). Revisions are not normalized. Two leases are
 * granted first with fixed ids through the gRPC API (etcdctl 3.4 cannot choose an id). etcdctl
 * 3.4's txn cannot compare a lease (it panics parsing `lease("k") = "id"`), so the LEASE compare
 * is compared through the gRPC API at the end.
 */
import {expect} from 'chai'
import {Compare_CompareResult as Result, Compare_CompareTarget as Target} from '../../src/generated/etcd/etcdserverpb/kv.js'
import {call, etcdClients} from './etcd_grpc.js'
import {etcdctl, requireEtcd, stopAllEtcd} from './etcd_harness.js'
import {etcdThenRaftctl} from './etcdctl_cases.js'
import {ensureBuilt, stopAll, TestCluster} from '../integration/harness.js'

const GRANTED_TTL = 600

/** Each case: etcdctl's arguments, and stdin for txn. */
const CASES: ReadonlyArray<{args: string[], input?: string}> = [
  {args: ['put', 'svc/a', '1', '--lease=1234']},
  {args: ['put', 'svc/b', '2', '--lease=1234']},
  {args: ['-w', 'json', 'put', 'svc/c', '3', '--lease=5678']},
  {args: ['-w', 'json', 'get', 'svc/a']},
  {args: ['-w', 'fields', 'get', 'svc/c']},
  {args: ['put', 'svc/c', '33', '--ignore-lease']},
  {args: ['get', 'svc/c', '-w', 'json']},
  {args: ['put', 'svc/c', '33', '--lease=5678']},
  {args: ['lease', 'timetolive', '1234']},
  {args: ['lease', 'timetolive', '1234', '--keys']},
  {args: ['-w', 'json', 'lease', 'timetolive', '1234', '--keys']},
  {args: ['-w', 'fields', 'lease', 'timetolive', '5678', '--keys']},
  {args: ['lease', 'list']},
  {args: ['-w', 'json', 'lease', 'list']},
  {args: ['lease', 'keep-alive', '--once', '1234']},
  {args: ['-w', 'json', 'lease', 'keep-alive', '--once', '5678']},
  {args: ['put', 'svc/a', '11']},
  {args: ['lease', 'timetolive', '1234', '--keys']},
  {args: ['lease', 'revoke', '1234']},
  {args: ['get', 'svc/', '--prefix']},
  {args: ['-w', 'json', 'lease', 'revoke', '5678']},
  {args: ['get', 'svc/', '--prefix', '--keys-only']},
  {args: ['lease', 'timetolive', '1234']},
  {args: ['-w', 'json', 'lease', 'timetolive', '5678']},
  {args: ['lease', 'revoke', '1234']},
  {args: ['lease', 'keep-alive', '--once', '1234']},
  {args: ['put', 'k', 'v', '--lease=1234']},
  {args: ['put', 'k', 'v', '--lease=1234', '--ignore-lease']},
  {args: ['lease', 'grant', '9000000001']},
  {args: ['-w', 'table', 'lease', 'grant', '60']},
  {args: ['lease', 'grant', '60']},
  {args: ['-w', 'json', 'lease', 'grant', '60']},
  {args: ['-w', 'fields', 'lease', 'grant', '60']},
  {args: ['lease', 'list']},
]

/** The remaining TTLs seen, to check separately. */
const remaining: number[] = []

/** See the file comment. clientv3's JSON log lines on stderr are dropped. */
function normalized(args: readonly string[], out: string): string {
  let s = out
    .replace(/"raft_term":\d+/g, '"raft_term":<TERM>').replace(/"RaftTerm" : \d+/g, '"RaftTerm" : <TERM>')
    .replace(/"member_id":\d+/g, '"member_id":<MEMBER>').replace(/"MemberID" : \d+/g, '"MemberID" : <MEMBER>')
    .replace(/"cluster_id":\d+/g, '"cluster_id":<CLUSTER>').replace(/"ClusterID" : \d+/g, '"ClusterID" : <CLUSTER>')
    .replace(/remaining\((\d+)s\)/g, (_m, n: string) => { remaining.push(Number(n)); return 'remaining(<R>s)' })
  if (args.includes('timetolive')) {
    // etcd lists a lease's keys in Go map order, which varies from run to run: sorted here.
    s = s.replace(/attached keys\(\[(.*)\]\)/g, (_m, inner: string) => `attached keys([${inner.split(' ').sort().join(' ')}])`)
      .replace(/"keys":\[(.*?)\]/g, (_m, inner: string) => `"keys":[${inner.split(',').sort().join(',')}]`)
    const keyLines = s.split('\n').filter((l) => l.startsWith('"Key" : ')).sort()
    let k = 0
    s = s.split('\n').map((l) => (l.startsWith('"Key" : ') ? keyLines[k++] : l)).join('\n')
    s = s.replace(/"ttl":(\d+)/g, (_m, n: string) => { remaining.push(Number(n)); return '"ttl":<R>' })
      .replace(/"TTL" : (\d+)/g, (_m, n: string) => { remaining.push(Number(n)); return '"TTL" : <R>' })
  }
  if (args.includes('grant')) {
    s = s.replace(/lease [0-9a-f]+ granted/g, 'lease <NEW> granted').replace(/"ID":\d+/g, '"ID":<NEW>').replace(/"ID" : \d+/g, '"ID" : <NEW>')
  }
  if (args.includes('list')) {
    const lines = s.split('\n')
    const fixed = (l: string): string => ['1234', '5678'].includes(l.replace(/^0+/, '')) ? l : '<NEW>'
    s = [lines[0], ...lines.slice(1).filter((l) => l !== '').map(fixed).sort(), ''].join('\n')
      .replace(/"leases":\[(.*)\]/, (_m, inner: string) => `"leases":[${inner.split(',').sort().join(',')}]`)
  }
  return s
}

/** The outcome of txns comparing keys' leases (Compare.target LEASE, EQUAL), through the gRPC API. */
async function leaseCompares(endpoint: string): Promise<string[]> {
  const c = etcdClients(endpoint)
  const out: string[] = []
  try {
    for (const [key, lease] of [['svc/c', 0x5678n], ['svc/a', 0x5678n], ['svc/a', 0x1234n], ['nokey', 0n]] as const) {
      const compare = [{key: Buffer.from(key), rangeEnd: Buffer.alloc(0), target: Target.LEASE, result: Result.EQUAL, lease}]
      const t = await call(c.kv, c.kv.txn, {compare, success: [], failure: []})
      out.push(`txn compare lease(${key}) = ${lease}: ${t.succeeded}`)
    }
  } finally {
    c.close()
  }
  return out
}

async function outputs(endpoint: string): Promise<string[]> {
  const c = etcdClients(endpoint)
  try {
    for (const ID of [0x1234n, 0x5678n]) await call(c.lease, c.lease.leaseGrant, {ID, TTL: GRANTED_TTL})
  } finally {
    c.close()
  }
  const out: string[] = []
  for (const {args, input} of CASES) {
    if (args[0] === 'put' && args[1] === 'svc/a' && args[2] === '11') out.push(...(await leaseCompares(endpoint)))
    const r = await etcdctl([endpoint], args, {input: input === undefined ? undefined : `${input}\n\n\n`})
    if (r.timedOut) throw new Error(`etcdctl ${args.join(' ')} did not finish in time`)
    const err = r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{')).map((l) => `stderr: ${l}\n`).join('')
    out.push(`$ etcdctl ${args.join(' ')}\n${normalized(args, r.stdout)}${err}${r.code === 0 ? '' : `exit: ${r.code}\n`}`)
  }
  return out
}

describe('compat: etcdctl lease commands, etcd 3.4 and raftctl side by side', function () {
  this.timeout(180_000)
  const cluster = new TestCluster()
  before(function () {
    requireEtcd(this)
    this.timeout(240_000)
    ensureBuilt()
  })
  after(async () => {
    cluster.close()
    await stopAll()
    await stopAllEtcd()
  })

  it('prints the same output for every lease case', async () => {
    const {expected, actual} = await etcdThenRaftctl(cluster, outputs)
    expect(actual.length).to.equal(expected.length).and.to.equal(CASES.length + 4)
    for (let i = 0; i < expected.length; i++) expect(actual[i], `case ${i + 1}`).to.equal(expected[i])
    expect(remaining.length).to.be.greaterThan(8)
    for (const r of remaining) expect(r, 'a remaining TTL').to.be.within(GRANTED_TTL - 5, GRANTED_TTL)
  })
})
