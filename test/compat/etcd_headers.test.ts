/**
 * Which ResponseHeader fields etcd 3.4 fills in the response of each RPC, observed on a real
 * single-member etcd through our generated clients: the table ETCD_HEADER_FIELDS (etcd_facts.ts),
 * which docs/etcd-compatibility.md records and raftctl must match. A field left 0 is not filled.
 */
import {expect} from 'chai'
import type {ResponseHeader} from '../../src/generated/etcd/etcdserverpb/header.js'
import {AlarmRequest_AlarmAction, AlarmType} from '../../src/generated/etcd/etcdserverpb/maintenance.js'
import {ALL_HEADER_FIELDS as ALL, ETCD_HEADER_FIELDS, type HeaderField as Field} from './etcd_facts.js'
import {call, deleteReq, etcdClients, failureOf, putReq, rangeReq, watchCreate, watchFor} from './etcd_grpc.js'
import {type EtcdCluster, requireEtcd, startEtcd, stopAllEtcd} from './etcd_harness.js'

function filled(h: ResponseHeader | undefined): Field[] {
  if (h === undefined) return []
  const values: Record<Field, bigint | number> = {cluster_id: h.clusterId, member_id: h.memberId, revision: h.revision, raft_term: h.raftTerm}
  return ALL.filter((f) => values[f] !== 0 && values[f] !== 0n)
}

describe('compat: etcd 3.4 response headers, observed', function () {
  this.timeout(60_000)
  let etcd: EtcdCluster
  let c: ReturnType<typeof etcdClients>
  before(async function () {
    requireEtcd(this)
    etcd = await startEtcd()
    c = etcdClients(etcd.endpoints()[0])
  })
  after(async () => {
    c?.close()
    await stopAllEtcd()
  })

  it('fills the fields of the table for every unary RPC and every kind of watch response', async () => {
    const seen: Record<string, Field[]> = {}
    seen['KV.Put'] = filled((await call(c.kv, c.kv.put, putReq('a'))).header)
    seen['KV.Range'] = filled((await call(c.kv, c.kv.range, rangeReq('a'))).header)
    const txn = await call(c.kv, c.kv.txn, {compare: [], success: [{requestPut: putReq('b')}, {requestRange: rangeReq('a')}], failure: []})
    seen['KV.Txn'] = filled(txn.header)
    const inner = txn.responses.map((r) => filled(r.responsePut?.header ?? r.responseRange?.header))
    expect(inner[0]).to.deep.equal(inner[1])
    seen['KV.Txn, each op response inside'] = inner[0]
    seen['KV.DeleteRange'] = filled((await call(c.kv, c.kv.deleteRange, deleteReq('b'))).header)
    seen['KV.Compact'] = filled((await call(c.kv, c.kv.compact, {revision: 3, physical: true})).header)

    const watch = await watchFor(c.watch, watchCreate('b', 3), 500)
    seen['Watch, created'] = filled(watch.responses[0].header)
    seen['Watch, events'] = filled(watch.responses.find((r) => r.events.length > 0)?.header)
    const compacted = await watchFor(c.watch, watchCreate('a', 1), 500)
    seen['Watch, canceled as compacted'] = filled(compacted.responses.find((r) => r.canceled)?.header)
    const progress = await watchFor(c.watch, {progressRequest: {}}, 500)
    seen['Watch, progress'] = filled(progress.responses[0]?.header)
    const cancel = await watchFor(c.watch, [watchCreate('a'), {cancelRequest: {watchId: 0n}}], 500)
    seen['Watch, canceled by the client'] = filled(cancel.responses.find((r) => r.canceled)?.header)

    const lease = await call(c.lease, c.lease.leaseGrant, {TTL: 60, ID: 0n})
    seen['Lease.LeaseGrant'] = filled(lease.header)
    seen['Lease.LeaseTimeToLive'] = filled((await call(c.lease, c.lease.leaseTimeToLive, {ID: lease.ID, keys: false})).header)
    seen['Lease.LeaseLeases'] = filled((await call(c.lease, c.lease.leaseLeases, {})).header)
    seen['Lease.LeaseRevoke'] = filled((await call(c.lease, c.lease.leaseRevoke, {ID: lease.ID})).header)

    seen['Cluster.MemberList'] = filled((await call(c.cluster, c.cluster.memberList, {linearizable: false})).header)
    const added = await call(c.cluster, c.cluster.memberAdd, {peerURLs: ['http://127.0.0.1:1'], isLearner: true})
    seen['Cluster.MemberAdd'] = filled(added.header)
    seen['Cluster.MemberUpdate'] = filled((await call(c.cluster, c.cluster.memberUpdate, {ID: added.member!.ID, peerURLs: ['http://127.0.0.1:2']})).header)
    seen['Cluster.MemberRemove'] = filled((await call(c.cluster, c.cluster.memberRemove, {ID: added.member!.ID})).header)

    seen['Maintenance.Status'] = filled((await call(c.maintenance, c.maintenance.status, {})).header)
    seen['Maintenance.Hash'] = filled((await call(c.maintenance, c.maintenance.hash, {})).header)
    seen['Maintenance.HashKV'] = filled((await call(c.maintenance, c.maintenance.hashKv, {revision: 0})).header)
    seen['Maintenance.Alarm'] = filled((await call(c.maintenance, c.maintenance.alarm, {action: AlarmRequest_AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE})).header)
    seen['Maintenance.Defragment'] = filled((await call(c.maintenance, c.maintenance.defragment, {})).header)
    const me = (await call(c.maintenance, c.maintenance.status, {})).header!.memberId
    seen['Maintenance.MoveLeader'] = filled((await call(c.maintenance, c.maintenance.moveLeader, {targetID: me})).header)
    expect(seen).to.deep.equal(ETCD_HEADER_FIELDS)
  })

  it('answers the RPCs etcd 3.5 added with UNIMPLEMENTED', async () => {
    expect((await failureOf(call(c.auth, c.auth.authStatus, {}))).code).to.equal('UNIMPLEMENTED')
    expect((await failureOf(call(c.maintenance, c.maintenance.downgrade, {action: 0, version: '3.4'}))).code).to.equal('UNIMPLEMENTED')
  })
})
