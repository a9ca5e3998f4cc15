/**
 * The same KV requests, in the same order, sent to a real etcd 3.4 and to raftctl's MVCC store:
 * every answer (responses with their revisions, or the gRPC status code of an error) must match.
 * This is where the doubtful semantics were settled (docs/etcd-compatibility.md, 4.5): the first
 * revision, nested txn compares, the duplicate-key rule's literal delete intervals, op headers,
 * the sort-with-limit quirk, compaction bounds. Error texts differ on purpose here (the services
 * map KvError codes to etcd's texts), so errors are compared by status code.
 */
import {expect} from 'chai'
import {status} from '@grpc/grpc-js'
import {
  Compare_CompareResult as R, Compare_CompareTarget as T, RangeRequest_SortOrder as SO, RangeRequest_SortTarget as ST,
} from '../../src/generated/etcd/etcdserverpb/kv.js'
import {toServiceError} from '../../src/server/errors.js'
import {call, etcdClients, failureOf} from '../compat/etcd_grpc.js'
import {type EtcdCluster, requireEtcd, startEtcd} from '../compat/etcd_harness.js'
import {TempDirs} from '../storage/helpers.js'
import {b, putReq, rangeReq, TestNode} from './helpers.js'

interface Step {
  readonly name: string
  readonly kind: 'put' | 'range' | 'del' | 'txn' | 'compact'
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly req: any
}

const STEPS: Step[] = [
  {name: 'range empty', kind: 'range', req: rangeReq('a')},
  {name: 'put a', kind: 'put', req: putReq('a', '1')},
  {name: 'put b', kind: 'put', req: putReq('b', '1')},
  {name: 'put a2', kind: 'put', req: putReq('a', '2')},
  {name: 'put c', kind: 'put', req: putReq('c', '3')},
  {name: 'nested txn sees pre state', kind: 'txn', req: {compare: [], success: [{requestPut: putReq('n', '1')}, {requestTxn: {compare: [{key: b('n'), rangeEnd: new Uint8Array(), target: T.VERSION, result: R.GREATER, version: 0n}], success: [{requestPut: putReq('yes', '1')}], failure: [{requestPut: putReq('no', '1')}]}}], failure: []}},
  {name: 'del from-key + put in range', kind: 'txn', req: {compare: [], success: [{requestDeleteRange: {key: b('x'), rangeEnd: Uint8Array.of(0), prevKv: false}}, {requestPut: putReq('y', '1')}], failure: []}},
  {name: 'del inverted + put', kind: 'txn', req: {compare: [], success: [{requestDeleteRange: {key: b('z'), rangeEnd: b('a'), prevKv: false}}, {requestPut: putReq('zz', '1')}], failure: []}},
  {name: 'del range + put in it', kind: 'txn', req: {compare: [], success: [{requestDeleteRange: {key: b('p'), rangeEnd: b('r'), prevKv: false}}, {requestPut: putReq('q', '1')}], failure: []}},
  {name: 'txn headers', kind: 'txn', req: {compare: [], success: [{requestRange: rangeReq('a')}, {requestPut: putReq('h', '1')}, {requestDeleteRange: {key: b('nothing'), rangeEnd: new Uint8Array(), prevKv: false}}, {requestRange: rangeReq('h')}, {requestTxn: {compare: [], success: [{requestRange: rangeReq('a')}], failure: []}}], failure: []}},
  {name: 'txn range future in write', kind: 'txn', req: {compare: [], success: [{requestPut: putReq('f', '1')}, {requestRange: {...rangeReq('f'), revision: 100}}], failure: []}},
  {name: 'txn empty op', kind: 'txn', req: {compare: [], success: [{}], failure: []}},
  {name: 'ignore_value missing', kind: 'put', req: putReq('missing', '', false, {ignoreValue: true})},
  {name: 'ignore_value ok', kind: 'put', req: putReq('a', '', true, {ignoreValue: true})},
  {name: 'lease', kind: 'put', req: putReq('a', 'x', false, {lease: 5n})},
  {name: 'delete nothing', kind: 'del', req: {key: b('nope'), rangeEnd: new Uint8Array(), prevKv: true}},
  {name: 'sort version desc', kind: 'range', req: rangeReq('a', '\0', {sortOrder: SO.DESCEND, sortTarget: ST.VERSION})},
  {name: 'sort mod none', kind: 'range', req: rangeReq('a', '\0', {sortTarget: ST.MOD, limit: 3})},
  {name: 'filters count', kind: 'range', req: rangeReq('a', '\0', {minModRevision: 5, limit: 1})},
  {name: 'count only limit', kind: 'range', req: rangeReq('a', '\0', {countOnly: true, limit: 1})},
  {name: 'range at 3', kind: 'range', req: rangeReq('a', '\0', {revision: 3})},
  {name: 'compact 0', kind: 'compact', req: {revision: 0, physical: false}},
  {name: 'compact 4', kind: 'compact', req: {revision: 4, physical: false}},
  {name: 'compact 4 again', kind: 'compact', req: {revision: 4, physical: false}},
  {name: 'compact future', kind: 'compact', req: {revision: 1000, physical: false}},
  {name: 'range at 4', kind: 'range', req: rangeReq('a', '\0', {revision: 4})},
  {name: 'range at 3 compacted', kind: 'range', req: rangeReq('a', '\0', {revision: 3})},
  {name: 'txn range compacted', kind: 'txn', req: {compare: [], success: [{requestRange: {...rangeReq('a'), revision: 2}}], failure: []}},
  {name: 'key 0 all', kind: 'range', req: rangeReq('\0', '\0', {keysOnly: true})},
  {name: 'dup nested', kind: 'txn', req: {compare: [], success: [{requestPut: putReq('d', '1')}, {requestTxn: {compare: [], success: [{requestPut: putReq('d', '2')}], failure: []}}], failure: []}},
  {name: 'dup branches ok', kind: 'txn', req: {compare: [], success: [{requestTxn: {compare: [], success: [{requestPut: putReq('d', '2')}], failure: [{requestPut: putReq('d', '3')}]}}], failure: []}},
  {name: 'compare lease', kind: 'txn', req: {compare: [{key: b('a'), rangeEnd: new Uint8Array(), target: T.LEASE, result: R.EQUAL, lease: 0n}], success: [], failure: []}},
  {name: 'compare range value', kind: 'txn', req: {compare: [{key: b('a'), rangeEnd: b('c'), target: T.VALUE, result: R.EQUAL, value: b('1')}], success: [], failure: []}},
]

/** JSON with bigints and bytes readable, and the ids etcd fills (random) left out. */
const norm = (x: unknown): string => JSON.stringify(x, (k, v: unknown) => {
  if (k === 'clusterId' || k === 'memberId' || k === 'raftTerm') return undefined
  if (typeof v === 'bigint') return `${v}n`
  if (v instanceof Uint8Array) return Buffer.from(v).toString()
  if (v !== null && typeof v === 'object' && (v as {type?: string}).type === 'Buffer') return Buffer.from((v as {data: number[]}).data).toString()
  return v
})

describe('kv/MVCC store against a real etcd 3.4 (same requests, same answers)', function () {
  this.timeout(120_000)
  const tmp = new TempDirs()
  let etcd: EtcdCluster | undefined
  let node: TestNode | undefined

  before(async function () {
    requireEtcd(this)
    etcd = await startEtcd()
  })
  after(async () => {
    await node?.close()
    await etcd?.stop()
    tmp.cleanup()
  })

  it('answers every step as etcd does', async () => {
    node = await TestNode.create(tmp.make('raftctl-etcd-diff-'))
    const c = etcdClients(etcd!.endpoints()[0])
    try {
      for (const step of STEPS) {
        let theirs: unknown
        try {
          const m = {put: c.kv.put, range: c.kv.range, del: c.kv.deleteRange, txn: c.kv.txn, compact: c.kv.compact}[step.kind]
          theirs = await call(c.kv, m as never, step.req)
        } catch (err) {
          theirs = {error: (await failureOf(Promise.reject(err))).code}
        }
        let ours: unknown
        try {
          if (step.kind === 'range') ours = await node.kv.range(step.req)
          else {
            const k = {put: 'put', del: 'deleteRange', txn: 'txn', compact: 'compaction'}[step.kind]
            const r = await node.request({[k]: step.req})
            if (r.error !== undefined) throw r.error
            ours = r.put ?? r.deleteRange ?? r.txn ?? r.compaction
          }
        } catch (err) {
          ours = {error: status[toServiceError(err).code as number]}
        }
        expect(norm(ours), step.name).to.equal(norm(theirs))
      }
    } finally {
      c.close()
    }
  })
})
