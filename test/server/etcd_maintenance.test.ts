/**
 * etcd's Maintenance service on a real 3-node raftctl cluster, through our generated clients and
 * the etcd3 npm client, mostly on a follower's endpoint: Status on every member, Hash and HashKV
 * equal across members at one revision (also after a compaction), a snapshot streamed as
 * raftctl's snapshot file in the size etcdctl accepts, MoveLeader sent to a follower (forwarded
 * to the leader, answered once leadership moved; etcd's refusals with raftctl's reason), Alarm
 * and Defragment with etcd's empty headers, Downgrade and alarm activation UNIMPLEMENTED,
 * --max-txn-ops bounding a txn end to end, and Status and hasleader calls without a leader.
 */
import {expect} from 'chai'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Metadata, type ServiceError, status} from '@grpc/grpc-js'
import {Etcd3} from 'etcd3'
import {AlarmRequest_AlarmAction as Action, AlarmType, type SnapshotResponse} from '../../src/generated/etcd/etcdserverpb/maintenance.js'
import {inspectSnapshotFile} from '../../src/kv/index.js'
import {decodeDetail, DETAIL_KEY} from '../../src/raftpb/metadata.js'
import {ALARMS_UNSUPPORTED, DOWNGRADE_UNSUPPORTED} from '../../src/server/services/etcd/maintenance.js'
import {call, etcdClients, failureOf, type GrpcFailure, putReq, rangeReq} from '../compat/etcd_grpc.js'
import {ETCD_ERRORS as E} from '../compat/etcd_facts.js'
import {ensureBuilt, stopAll, TestCluster, waitFor} from '../integration/harness.js'

type Clients = ReturnType<typeof etcdClients>

/** Every message of a Snapshot stream. */
function snapshotStream(c: Clients): Promise<SnapshotResponse[]> {
  return new Promise((resolve, reject) => {
    const out: SnapshotResponse[] = []
    const s = c.maintenance.snapshot({}, new Metadata(), {deadline: new Date(Date.now() + 30_000)})
    s.on('data', (m: SnapshotResponse) => out.push(m))
    s.on('error', reject)
    s.on('end', () => resolve(out))
  })
}

/** A failed call's status and raftctl's explanation. */
async function refusal(p: Promise<unknown>): Promise<GrpcFailure & {detail: string}> {
  let detail = ''
  const f = await failureOf(p.catch((err: ServiceError) => {
    const d = err.metadata?.get(DETAIL_KEY)[0]
    detail = typeof d === 'string' ? decodeDetail(d) : ''
    throw err
  }))
  return {...f, detail}
}

describe('server: etcd Maintenance on a 3-node cluster', function () {
  this.timeout(120_000)
  const cluster = new TestCluster()
  let leader: number
  let followers: number[]
  const clients = new Map<number, Clients>()
  const c = (id: number): Clients => clients.get(id)!

  before(async function () {
    this.timeout(240_000)
    ensureBuilt()
    await cluster.bootstrap(3, ['--max-txn-ops', '16'])
    leader = await cluster.waitLeader()
    followers = [1, 2, 3].filter((id) => id !== leader)
    for (const id of [1, 2, 3]) clients.set(id, etcdClients(cluster.node(id).client))
    for (let i = 0; i < 20; i++) await call(c(followers[0]).kv, c(followers[0]).kv.put, putReq(`m/${i % 7}`, `v${i}`))
  })

  after(async () => {
    for (const x of clients.values()) x.close()
    cluster.close()
    await stopAll()
  })

  /** Waits until every member applied revision `rev`. */
  async function applied(rev: number): Promise<void> {
    await waitFor(`every member at revision ${rev}`, async () => {
      const st = await Promise.all([1, 2, 3].map((id) => call(c(id).maintenance, c(id).maintenance.status, {})))
      return st.every((s) => s.header!.revision >= rev)
    })
  }

  it('Status: each member tells its own Raft state, as etcd 3.4\'s fields', async () => {
    for (const id of [1, 2, 3]) {
      const s = await call(c(id).maintenance, c(id).maintenance.status, {})
      expect([s.header!.memberId, s.leader, s.isLearner, s.errors]).to.deep.equal([BigInt(id), BigInt(leader), false, []])
      expect(s.raftIndex).to.be.greaterThan(0)
      expect(s.raftAppliedIndex).to.be.greaterThan(0).and.at.most(s.raftIndex)
      expect(s.dbSize).to.be.greaterThan(0)
      expect(s.dbSizeInUse).to.equal(s.dbSize)
      expect(s.version).to.match(/^\d+\.\d+\.\d+/)
      expect([s.header!.clusterId !== 0n, s.header!.revision > 0, s.header!.raftTerm]).to.deep.equal([true, true, s.raftTerm])
    }
  })

  it('Hash and HashKV agree across the members at one revision, also after a compaction; HashKV refuses a future revision', async () => {
    const w = await call(c(leader).kv, c(leader).kv.put, putReq('m/last', 'x'))
    const rev = w.header!.revision
    await applied(rev)
    const hashes = await Promise.all([1, 2, 3].map((id) => call(c(id).maintenance, c(id).maintenance.hash, {})))
    expect(new Set(hashes.map((h) => h.hash)).size, 'one Hash').to.equal(1)
    expect(hashes.map((h) => h.header!.revision)).to.deep.equal([rev, rev, rev])
    const kv = await Promise.all([1, 2, 3].map((id) => call(c(id).maintenance, c(id).maintenance.hashKv, {revision: rev - 1})))
    expect(new Set(kv.map((h) => h.hash)).size, 'one HashKV').to.equal(1)
    expect(kv.map((h) => h.compactRevision), 'never compacted, as etcd answers').to.deep.equal([-1, -1, -1])
    expect(kv.map((h) => h.header!.revision), 'the header carries the current revision').to.deep.equal([rev, rev, rev])
    const now = await call(c(leader).maintenance, c(leader).maintenance.hashKv, {revision: 0})
    expect(now.hash, 'the last write is in the hash of the current revision').to.not.equal(kv[0].hash)
    expect(await failureOf(call(c(leader).maintenance, c(leader).maintenance.hashKv, {revision: rev + 100}))).to.deep.equal(E.futureRevision)
    const before = hashes[0].hash
    const y = await call(c(leader).kv, c(leader).kv.put, putReq('m/last', 'y'))
    expect((await call(c(leader).maintenance, c(leader).maintenance.hash, {})).hash, 'Hash follows the data').to.not.equal(before)

    await call(c(followers[0]).kv, c(followers[0]).kv.compact, {revision: rev - 1, physical: true})
    await applied(y.header!.revision)
    const compacted = await Promise.all([1, 2, 3].map((id) => call(c(id).maintenance, c(id).maintenance.hashKv, {revision: 0})))
    expect(compacted.map((h) => h.compactRevision)).to.deep.equal([rev - 1, rev - 1, rev - 1])
    expect(new Set(compacted.map((h) => h.hash)).size, 'one HashKV after the compaction').to.equal(1)
    expect(await failureOf(call(c(leader).maintenance, c(leader).maintenance.hashKv, {revision: rev - 2}))).to.deep.equal(E.compacted)
  })

  it('Snapshot streams raftctl\'s snapshot file in the size etcdctl accepts, which snapshot inspect reads', async () => {
    const count = await call(c(followers[1]).kv, c(followers[1]).kv.range, rangeReq('\0', {rangeEnd: Buffer.from('\0'), countOnly: true}))
    const parts = await snapshotStream(c(followers[1]))
    expect(parts.length).to.be.greaterThan(0)
    expect(parts.at(-1)!.remainingBytes).to.equal(0)
    const total = parts.reduce((n, p) => n + p.blob.length, 0)
    expect(parts[0].remainingBytes).to.equal(total - parts[0].blob.length)
    expect(parts[0].header!.memberId).to.equal(BigInt(followers[1]))
    expect(total % 512, 'the size etcdctl snapshot save accepts').to.equal(32)
    const dir = mkdtempSync(join(tmpdir(), 'raftctl-snap-'))
    try {
      const file = join(dir, 'snap.db')
      writeFileSync(file, Buffer.concat(parts.map((p) => Buffer.from(p.blob))))
      const info = await inspectSnapshotFile(file)
      expect(info.keyCount).to.equal(count.count)
      expect(info.revision).to.equal(count.header!.revision)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('Alarm lists no alarms and deactivates nothing, refuses to raise one; Defragment compacts; both with etcd\'s empty header', async () => {
    const m = c(followers[0]).maintenance
    const got = await call(m, m.alarm, {action: Action.GET, memberID: 0n, alarm: AlarmType.NONE})
    expect([got.header, got.alarms]).to.deep.equal([undefined, []])
    const off = await call(m, m.alarm, {action: Action.DEACTIVATE, memberID: BigInt(followers[0]), alarm: AlarmType.NOSPACE})
    expect([off.header, off.alarms]).to.deep.equal([undefined, []])
    const on = await failureOf(call(m, m.alarm, {action: Action.ACTIVATE, memberID: BigInt(followers[0]), alarm: AlarmType.NOSPACE}))
    expect(on).to.deep.equal({code: 'UNIMPLEMENTED', details: `${ALARMS_UNSUPPORTED} (asked to activate alarm NOSPACE)`})
    const d = await call(m, m.defragment, {})
    expect(d.header).to.equal(undefined)
    const r = await call(c(followers[0]).kv, c(followers[0]).kv.range, rangeReq('m/0'))
    expect(r.kvs.length, 'the data is still there').to.equal(1)
    expect(await failureOf(call(m, m.downgrade, {action: 0, version: '3.4.0'}))).to.deep.equal({code: 'UNIMPLEMENTED', details: DOWNGRADE_UNSUPPORTED})
  })

  it('--max-txn-ops bounds a txn on every member, as etcd\'s flag', async () => {
    const id = followers[0]
    const ops = (n: number) => Array.from({length: n}, (_, i) => ({requestPut: putReq(`t/${i}`)}))
    expect(await failureOf(call(c(id).kv, c(id).kv.txn, {compare: [], success: ops(17), failure: []}))).to.deep.equal(E.tooManyOps)
    const ok = await call(c(id).kv, c(id).kv.txn, {compare: [], success: ops(16), failure: []})
    expect(ok.responses).to.have.length(16)
  })

  it('the etcd3 client reads status, the hash and alarms, defragments and moves the leader through a follower only', async () => {
    const client = new Etcd3({hosts: cluster.node(followers[1]).client})
    try {
      const st = await client.maintenance.status()
      expect([st.header.member_id, st.leader, st.isLearner]).to.deep.equal([String(followers[1]), String(leader), false])
      // (The etcd3 client's hashKV() cannot be called: it asks its gRPC stub for a method named
      // hashKV, which the stub calls HashKV — against etcd too.)
      const h = await client.maintenance.hash()
      const ours = await call(c(followers[1]).maintenance, c(followers[1]).maintenance.hash, {})
      expect([h.hash, h.header.revision]).to.deep.equal([ours.hash, String(ours.header!.revision)])
      expect((await client.maintenance.alarm({action: 'Get'})).alarms).to.deep.equal([])
      await client.maintenance.defragment()
      await client.maintenance.moveLeader({targetID: leader}) // to the leader itself: done at once
    } finally {
      client.close()
    }
  })

  it('MoveLeader sent to a follower moves leadership and answers once it moved; a non-voter is etcd\'s bad transferee', async () => {
    const from = followers[0]
    const to = followers[1]
    const res = await call(c(from).maintenance, c(from).maintenance.moveLeader, {targetID: BigInt(to)}, {}, 15_000)
    expect(res.header, 'etcd 3.4 answers MoveLeader with an empty header').to.equal(undefined)
    const s = await call(c(to).maintenance, c(to).maintenance.status, {})
    expect(s.leader).to.equal(BigInt(to))
    leader = await cluster.waitLeader()
    expect(leader).to.equal(to)
    followers = [1, 2, 3].filter((id) => id !== leader)

    const self = await call(c(leader).maintenance, c(leader).maintenance.moveLeader, {targetID: BigInt(leader)})
    expect(self.header, 'moving to the leader itself is done at once').to.equal(undefined)
    const bad = await refusal(call(c(from).maintenance, c(from).maintenance.moveLeader, {targetID: 77n}))
    expect(bad).to.deep.equal({...E.badLeaderTransferee, detail: 'node 77 is not a member of the cluster'})
    const added = await call(c(from).cluster, c(from).cluster.memberAdd, {peerURLs: ['http://127.0.0.1:1'], isLearner: true})
    const learner = added.member!.ID
    try {
      const l = await refusal(call(c(from).maintenance, c(from).maintenance.moveLeader, {targetID: learner}))
      expect(l).to.deep.equal({...E.badLeaderTransferee, detail: `node ${learner} is not a voter, so it cannot lead`})
    } finally {
      await call(c(from).cluster, c(from).cluster.memberRemove, {ID: learner}, {}, 15_000)
    }
  })

  it('MoveLeader to a voter that does not answer ends before the caller\'s deadline with etcd\'s transfer timeout and the reason', async () => {
    const target = followers[0]
    const via = followers[1]
    process.kill(cluster.node(target).proc!.pid!, 'SIGSTOP')
    try {
      const err = await refusal(call(c(via).maintenance, c(via).maintenance.moveLeader, {targetID: BigInt(target)}, {}, 6000))
      expect([err.code, err.details]).to.deep.equal(['UNAVAILABLE', 'etcdserver: request timed out, leader transfer took too long'])
      expect(err.detail).to.match(new RegExp(`^leadership did not move to node ${target} within \\d+ ms: .+; node ${leader} still leads$`))
    } finally {
      // The paused node may still hold the leader's MsgTimeoutNow; it is stopped, not resumed.
      await cluster.node(target).stop('SIGKILL')
    }
  })

  it('without a leader: Status says so in etcd\'s errors field, and hasleader calls, the Snapshot stream included, are refused', async () => {
    const alone = leader
    await cluster.node(followers[1]).stop('SIGTERM')
    const m = c(alone).maintenance
    const st = await waitFor('the last member to lose its leader', async () => {
      const s = await call(m, m.status, {})
      return s.leader === 0n ? s : undefined
    })
    expect(st.errors).to.deep.equal(['etcdserver: no leader'])
    expect(await failureOf(call(m, m.status, {}, {hasleader: 'true'}))).to.deep.equal(E.noLeader)
    const md = new Metadata()
    md.set('hasleader', 'true')
    const err = await new Promise<ServiceError>((resolve, reject) => {
      const s = m.snapshot({}, md, {deadline: new Date(Date.now() + 10_000)})
      s.on('data', () => reject(new Error('a snapshot was streamed without a leader')))
      s.on('error', resolve)
    })
    expect([status[err.code], err.details]).to.deep.equal([E.noLeader.code, E.noLeader.details])
  })
})
