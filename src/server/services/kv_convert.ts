/**
 * Conversion between raftctl's first KV API (raftctl.v1, still served by kv.ts until the etcd
 * KV service replaces it) and etcd's types, which the MVCC store speaks. Only this edge knows
 * both; it goes away with the raftctl.v1 KV service.
 *
 * raftctl.v1's Compare target EXISTS (which etcd lacks) becomes etcd's VERSION compare: a key
 * exists exactly when its version is above 0 (EXISTS = true: VERSION GREATER 0; EXISTS = false:
 * VERSION EQUAL 0; NOT_EQUAL negates). A compare over a range holds when it holds for every key
 * and an empty range compares as one missing key, in both APIs.
 */
import * as etcd from '../../generated/etcd/etcdserverpb/kv.js'
import type * as mvcc from '../../generated/etcd/mvccpb/kv.js'
import * as v1 from '../../generated/raftctl/v1/kv.js'

const big = (n: number | undefined): bigint | undefined => (n === undefined ? undefined : BigInt(n))

export function rangeToEtcd(r: v1.RangeRequest): etcd.RangeRequest {
  return {
    ...r, sortOrder: etcd.RangeRequest_SortOrder.NONE, sortTarget: etcd.RangeRequest_SortTarget.KEY,
    minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0,
  }
}

export const putToEtcd = (r: v1.PutRequest): etcd.PutRequest => ({...r, lease: 0n, ignoreValue: false, ignoreLease: false})

export const deleteToEtcd = (r: v1.DeleteRangeRequest): etcd.DeleteRangeRequest => ({...r})

function compareToEtcd(c: v1.Compare): etcd.Compare {
  const base = {key: c.key, rangeEnd: c.rangeEnd}
  if (c.target === v1.Compare_CompareTarget.EXISTS) {
    const wantExists = (c.exists ?? false) === (c.result === v1.Compare_CompareResult.EQUAL)
    return {...base, target: etcd.Compare_CompareTarget.VERSION, version: 0n,
      result: wantExists ? etcd.Compare_CompareResult.GREATER : etcd.Compare_CompareResult.EQUAL}
  }
  return {
    ...base, target: c.target as number as etcd.Compare_CompareTarget, result: c.result as number as etcd.Compare_CompareResult,
    version: big(c.version), createRevision: big(c.createRevision), modRevision: big(c.modRevision), value: c.value,
  }
}

function opToEtcd(op: v1.RequestOp): etcd.RequestOp {
  return {
    requestRange: op.requestRange && rangeToEtcd(op.requestRange),
    requestPut: op.requestPut && putToEtcd(op.requestPut),
    requestDeleteRange: op.requestDeleteRange && deleteToEtcd(op.requestDeleteRange),
    requestTxn: op.requestTxn && txnToEtcd(op.requestTxn),
  }
}

export function txnToEtcd(t: v1.TxnRequest): etcd.TxnRequest {
  return {compare: t.compare.map(compareToEtcd), success: t.success.map(opToEtcd), failure: t.failure.map(opToEtcd)}
}

export function kvFromEtcd(kv: mvcc.KeyValue): v1.KeyValue
export function kvFromEtcd(kv: mvcc.KeyValue | undefined): v1.KeyValue | undefined
export function kvFromEtcd(kv: mvcc.KeyValue | undefined): v1.KeyValue | undefined {
  if (kv === undefined) return undefined
  return {key: kv.key, createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version, value: kv.value}
}

/** The responses keep their store revision in the header; the service fills the rest. */
type Header = v1.ResponseHeader
const header = (h: {revision: number} | undefined): Header => ({clusterId: 0, memberId: 0, revision: h?.revision ?? 0, raftTerm: 0})

export function rangeFromEtcd(r: etcd.RangeResponse): v1.RangeResponse {
  return {header: header(r.header), kvs: r.kvs.map((kv) => kvFromEtcd(kv)), more: r.more, count: r.count}
}

export const putFromEtcd = (r: etcd.PutResponse): v1.PutResponse => ({header: header(r.header), prevKv: kvFromEtcd(r.prevKv)})

export const deleteFromEtcd = (r: etcd.DeleteRangeResponse): v1.DeleteRangeResponse =>
  ({header: header(r.header), deleted: r.deleted, prevKvs: r.prevKvs.map((kv) => kvFromEtcd(kv))})

export function txnFromEtcd(r: etcd.TxnResponse): v1.TxnResponse {
  return {
    header: header(r.header), succeeded: r.succeeded,
    responses: r.responses.map((op) => ({
      responseRange: op.responseRange && rangeFromEtcd(op.responseRange),
      responsePut: op.responsePut && putFromEtcd(op.responsePut),
      responseDeleteRange: op.responseDeleteRange && deleteFromEtcd(op.responseDeleteRange),
      responseTxn: op.responseTxn && txnFromEtcd(op.responseTxn),
    })),
  }
}
