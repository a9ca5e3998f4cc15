/**
 * Differential test of the Watch protocol: the same requests, with the same writes in between,
 * go to a real etcd 3.4 and to raftctl's Watch service (over an in-memory store that makes the
 * same revisions). raftctl's service is given etcd's header values (cluster and member id, term),
 * so answers must be equal field for field, byte for byte — including how a large answer is split
 * into fragments. Answers are compared per watch id in order (etcd's catch-up runs on its own
 * 100 ms loop, so answers of different watches may interleave differently), and the answers that
 * belong to no watch (watch_id -1) in order.
 */
import {expect} from 'chai'
import type {ResponseHeader} from '../../src/generated/etcd/etcdserverpb/header.js'
import type {RequestOp} from '../../src/generated/etcd/etcdserverpb/kv.js'
import {type WatchRequest, type WatchResponse, WatchCreateRequest_FilterType} from '../../src/generated/etcd/etcdserverpb/watch.js'
import {call, deleteReq, etcdClients, putReq, rangeReq} from '../compat/etcd_grpc.js'
import {type EtcdCluster, requireEtcd, startEtcd, stopAllEtcd} from '../compat/etcd_harness.js'
import {sleep} from '../integration/harness.js'
import type {Op} from '../kv/watch/fake_source.js'
import {cancelReq, createReq, progressReq, summarize, WatchProbe, WatchTestServer} from './etcd_watch_helpers.js'

type Step = {send: WatchRequest[]} | {write: Op[]} | {compact: number} | 'settle'

/** etcd's max request bytes for this test: small, so fragmenting shows with 400 small puts. */
const MAX_REQUEST_BYTES = 2000
const PROGRESS_MS = 300

describe('server/services/etcd/watch against etcd 3.4 (differential)', function () {
  this.timeout(120_000)
  let etcd: EtcdCluster
  let kv: ReturnType<typeof etcdClients>
  let ours: WatchTestServer
  let header: Omit<ResponseHeader, 'revision'>

  before(async function () {
    requireEtcd(this)
    etcd = await startEtcd({extraArgs: ['--max-request-bytes', String(MAX_REQUEST_BYTES),
      '--experimental-watch-progress-notify-interval', `${PROGRESS_MS}ms`]})
    kv = etcdClients(etcd.endpoints()[0])
    const h = (await call(kv.kv, kv.kv.range, rangeReq('none'))).header!
    header = {clusterId: h.clusterId, memberId: h.memberId, raftTerm: h.raftTerm}
    ours = await WatchTestServer.start({maxRequestBytes: MAX_REQUEST_BYTES, progressIntervalMs: PROGRESS_MS}, {}, header)
  })
  after(async () => {
    kv?.close()
    ours?.close()
    await stopAllEtcd()
  })

  /** Applies one revision's writes to etcd (one put, one delete, or a txn) and to our store. */
  async function write(ops: Op[]): Promise<void> {
    const reqOp = (o: Op): RequestOp => ('put' in o ? {requestPut: putReq(o.put, o.value)} : {requestDeleteRange: deleteReq(o.del, o.end ?? '')})
    if (ops.length === 1 && 'put' in ops[0]) await call(kv.kv, kv.kv.put, putReq(ops[0].put, ops[0].value))
    else if (ops.length === 1) await call(kv.kv, kv.kv.deleteRange, reqOp(ops[0]).requestDeleteRange!)
    else await call(kv.kv, kv.kv.txn, {compare: [], success: ops.map(reqOp), failure: []})
    ours.src.txn(ops)
    const etcdRev = (await call(kv.kv, kv.kv.range, rangeReq('none'))).header!.revision
    expect(ours.src.revision, 'the two stores make the same revisions').to.equal(etcdRev)
  }

  /** Waits until neither side has answered anything new for a while (bounded). */
  async function settle(a: WatchProbe, b: WatchProbe): Promise<void> {
    let last = ''
    let stable = 0
    for (let i = 0; i < 100 && stable < 3; i++) {
      await sleep(150)
      const now = `${a.responses.length}/${b.responses.length}`
      stable = now === last && a.responses.length === b.responses.length ? stable + 1 : 0
      last = now
    }
  }

  /** Runs the steps against both and returns each side's answers. */
  async function run(steps: Step[]): Promise<{etcd: WatchResponse[], ours: WatchResponse[]}> {
    const pe = new WatchProbe(etcd.endpoints()[0])
    const po = new WatchProbe(ours.endpoint)
    try {
      for (const step of [...steps, 'settle' as const]) {
        if (step === 'settle') await settle(pe, po)
        else if ('send' in step) {
          pe.send(...step.send)
          po.send(...step.send)
        } else if ('write' in step) await write(step.write)
        else {
          await call(kv.kv, kv.kv.compact, {revision: step.compact, physical: true})
          ours.src.compact(step.compact)
        }
      }
      return {etcd: [...pe.responses], ours: [...po.responses]}
    } finally {
      pe.close()
      po.close()
    }
  }

  /** The answers of each watch id, in order. */
  function perWatch(rs: readonly WatchResponse[]): Map<string, WatchResponse[]> {
    const m = new Map<string, WatchResponse[]>()
    for (const r of rs) {
      const k = String(r.watchId)
      m.set(k, [...(m.get(k) ?? []), r])
    }
    return m
  }

  function expectSame(got: {etcd: WatchResponse[], ours: WatchResponse[]}): void {
    const e = perWatch(got.etcd)
    const o = perWatch(got.ours)
    expect([...o.keys()].sort()).to.deep.equal([...e.keys()].sort())
    for (const [id, list] of e) {
      expect(o.get(id)!.map(summarize), `watch ${id}`).to.deep.equal(list.map(summarize))
      expect(o.get(id), `watch ${id}, every field`).to.deep.equal(list)
    }
  }

  const puts = (...kvs: Array<[string, string]>): Step[] => kvs.map(([k, v]) => ({write: [{put: k, value: v}]}))

  it('watches from past revisions, on a key and on a range with prev_kv', async () => {
    const setup = [...puts(['k0', 'v0'], ['k1', 'v1'], ['k2', 'v2'], ['k0', 'v3'], ['k1', 'v4'], ['k2', 'v5']),
      {write: [{put: 'k0', value: 'x'}, {put: 'k1', value: 'y'}]}, {write: [{del: 'k2'}]}] satisfies Step[]
    expectSame(await run([...setup, {send: [createReq('k0', {startRevision: 2}), createReq('k', {rangeEnd: 'l', startRevision: 1, prevKv: true})]}]))
  })

  it('client-chosen ids, a duplicate id, and ids the server counts around them', async () => {
    expectSame(await run([{send: [createReq('a', {watchId: 5n}), createReq('a', {watchId: 5n}), createReq('a'),
      createReq('a', {watchId: 1n}), createReq('b'), createReq('c')]}]))
  })

  it('cancel of an unknown id, progress requests, a double cancel, an empty range, an empty key, a negative start', async () => {
    expectSame(await run([{send: [createReq('a'), cancelReq(7n), progressReq(), cancelReq(0n), cancelReq(0n), progressReq(),
      createReq('b', {rangeEnd: 'a'}), createReq(''), createReq('', {rangeEnd: '\0'}), createReq('n', {startRevision: -3})]}]))
  })

  it('live events with NOPUT and NODELETE filters, a future start, and a cancel in between', async () => {
    expectSame(await run([
      {send: [createReq('f', {rangeEnd: 'g', filters: [WatchCreateRequest_FilterType.NOPUT]}),
        createReq('f', {rangeEnd: 'g', filters: [WatchCreateRequest_FilterType.NODELETE], prevKv: true}),
        createReq('f1', {startRevision: 1000})]},
      'settle',
      ...puts(['f1', 'a'], ['f2', 'b']),
      {write: [{del: 'f', end: 'g'}]},
      {send: [cancelReq(1n)]},
      'settle',
      ...puts(['f1', 'c']),
      {write: [{put: 'f2', value: 'd'}, {del: 'f1'}]},
    ]))
  })

  it('a watch below the compacted revision is canceled with compact_revision; at it, it is served', async () => {
    const rev = ours.src.revision
    expectSame(await run([
      ...puts(['c1', '1'], ['c2', '2'], ['c1', '3']),
      {compact: rev + 2},
      {send: [createReq('c', {rangeEnd: 'd', startRevision: rev + 1}), createReq('c', {rangeEnd: 'd', startRevision: rev + 2}), createReq('c1')]},
      'settle',
      ...puts(['c1', '4']),
    ]))
  })

  it('splits a large answer into the same fragments', async () => {
    const start = ours.src.revision + 1
    const value = 'x'.repeat(1900)
    const setup = Array.from({length: 400}, (_, i): Step => ({write: [{put: `g${String(i).padStart(3, '0')}`, value}]}))
    const got = await run([...setup, {send: [createReq('g', {rangeEnd: 'h', startRevision: start, fragment: true}),
      createReq('g', {rangeEnd: 'h', startRevision: start})]}])
    expect(got.ours.filter((r) => r.fragment).length).to.be.greaterThan(0)
    expectSame(got)
  })

  it('progress_notify: the first notification of an idle watch is the same', async () => {
    const pe = new WatchProbe(etcd.endpoints()[0])
    const po = new WatchProbe(ours.endpoint)
    try {
      for (const p of [pe, po]) p.send(createReq('idle', {progressNotify: true}))
      for (const p of [pe, po]) await p.count(2, 5000)
      expect(po.responses.slice(0, 2)).to.deep.equal(pe.responses.slice(0, 2))
      expect(po.responses[1].events).to.deep.equal([])
    } finally {
      pe.close()
      po.close()
    }
  })
})
