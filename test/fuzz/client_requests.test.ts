// Fuzzing every request a node serves besides Raft traffic (etcd's KV, Watch, Cluster, Lease and
// Maintenance, and the raftctl extension on the client address, PeerInfo on the peer address
// (the legacy TransferLeader and Maintenance seeds live on as etcd's MoveLeader, Status and
// Snapshot below), decoded by the
// server and validated by src/server/services, membership.ts and src/kv/validate): random bytes,
// protobuf-shaped bytes and mutations of valid requests are sent as raw bytes to a real
// single-node `raftctl server start` process. Each call is answered in
// bounded time with success or a status naming what was wrong (never INTERNAL or UNKNOWN, which
// mean an untyped exception inside), the node keeps serving, and a refused request changes
// neither the keys nor the membership.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {Client, credentials, Metadata, type ServiceError, status} from '@grpc/grpc-js'
import {expect} from 'chai'
import fc from 'fast-check'
import {PeerInfoService} from '../../src/generated/raftctl/v1/internal.js'
import {ClusterService as EtcdClusterService} from '../../src/generated/etcd/etcdserverpb/cluster.js'
import {
  Compare_CompareResult as EtcdResult, Compare_CompareTarget as EtcdTarget, KVService as EtcdKVService,
} from '../../src/generated/etcd/etcdserverpb/kv.js'
import {LeaseService} from '../../src/generated/etcd/etcdserverpb/lease.js'
import {
  AlarmRequest_AlarmAction as AlarmAction, AlarmType, MaintenanceService as EtcdMaintenanceService,
} from '../../src/generated/etcd/etcdserverpb/maintenance.js'
import {ElectionService} from '../../src/generated/etcd/v3electionpb/v3election.js'
import {LockService} from '../../src/generated/etcd/v3lockpb/v3lock.js'
import {AuthService} from '../../src/generated/etcd/etcdserverpb/auth.js'
import {WatchCreateRequest, WatchRequest, WatchService} from '../../src/generated/etcd/etcdserverpb/watch.js'
import {MemberChangeRequest_Change_Kind as ExtKind, RaftctlService} from '../../src/generated/raftctl/v1/raftctl.js'
import {deleteReq, putReq, rangeReq} from '../compat/etcd_grpc.js'
import {ensureBuilt, REPO_ROOT, stopAll, TestCluster, waitFor} from '../integration/harness.js'
import {FUZZ_TITLE, fuzzParams, fuzzTimeout, hostile, settlesWithin} from './fuzz.js'

const RUNS = 8
const CALL_MS = 4000
const b = (s: string): Buffer => Buffer.from(s)

type Method = {path: string, responseStream: boolean, requestSerialize: (v: never) => Buffer,
  requestDeserialize: (b: Buffer) => unknown, responseDeserialize: (b: Buffer) => unknown}

/** A valid request of `m`: its defaults (decoded from no bytes) with `fields` set. */
function valid(m: Method, fields: object = {}): Uint8Array {
  return m.requestSerialize({...(m.requestDeserialize(Buffer.alloc(0)) as object), ...fields} as never)
}

const op = (o: Record<string, unknown>) => ({requestRange: undefined, requestPut: undefined, requestDeleteRange: undefined, requestTxn: undefined, ...o})

/** For each method, valid requests to mutate: mostly ones the node refuses, so most mutants are. */
const SEEDS: Array<[string, Method, Array<object>]> = [
  ['Watch.Watch', WatchService.watch, [
    {createRequest: {...WatchCreateRequest.decode(new Uint8Array()), key: b('fuzz/'), rangeEnd: b('fuzz0'), startRevision: 1, prevKv: true}},
    {createRequest: {...WatchCreateRequest.decode(new Uint8Array()), key: b('fuzz/k'), watchId: 3n, filters: [1], fragment: true}},
  ]],
  ['PeerInfo.Identify', PeerInfoService.identify, [{nodeId: 9}]],
  ['etcd KV.Range', EtcdKVService.range, [rangeReq('k'), rangeReq('a', {rangeEnd: b('z'), limit: 2, revision: 1, sortOrder: 1, sortTarget: 4})]],
  ['etcd KV.Put', EtcdKVService.put, [putReq('fuzz/e', 'v', {prevKv: true}), putReq('fuzz/e', '', {ignoreValue: true})]],
  ['etcd KV.DeleteRange', EtcdKVService.deleteRange, [{...deleteReq('fuzz/', 'fuzz0'), prevKv: true}]],
  ['etcd KV.Txn', EtcdKVService.txn, [{
    compare: [{result: EtcdResult.EQUAL, target: EtcdTarget.VERSION, key: b('fuzz/e'), rangeEnd: new Uint8Array(), version: 1n}],
    success: [{requestPut: putReq('fuzz/t', '1')}, {requestDeleteRange: deleteReq('fuzz/x')}],
    failure: [{requestRange: rangeReq('fuzz/e')}, {requestTxn: {compare: [], success: [{requestPut: putReq('fuzz/n')}], failure: []}}],
  }]],
  ['etcd KV.Compact', EtcdKVService.compact, [{revision: 1, physical: true}, {revision: 100_000, physical: false}]],
  ['etcd Cluster.MemberAdd', EtcdClusterService.memberAdd, [{peerURLs: ['http://127.0.0.1:1'], isLearner: true}]],
  ['etcd Cluster.MemberRemove', EtcdClusterService.memberRemove, [{ID: 1n}, {ID: 7n}]],
  ['etcd Cluster.MemberUpdate', EtcdClusterService.memberUpdate, [{ID: 7n, peerURLs: ['127.0.0.1:2']}]],
  ['etcd Cluster.MemberList', EtcdClusterService.memberList, [{linearizable: true}]],
  ['etcd Cluster.MemberPromote', EtcdClusterService.memberPromote, [{ID: 1n}]],
  ['etcd Maintenance.Status', EtcdMaintenanceService.status, [{}]],
  ['etcd Maintenance.Hash', EtcdMaintenanceService.hash, [{}]],
  ['etcd Maintenance.HashKV', EtcdMaintenanceService.hashKv, [{revision: 1}, {revision: 100_000}]],
  ['etcd Maintenance.MoveLeader', EtcdMaintenanceService.moveLeader, [{targetID: 1n}, {targetID: 7n}]],
  ['etcd Maintenance.Alarm', EtcdMaintenanceService.alarm, [
    {action: AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE}, {action: AlarmAction.ACTIVATE, memberID: 1n, alarm: AlarmType.NOSPACE},
  ]],
  ['etcd Maintenance.Defragment', EtcdMaintenanceService.defragment, [{}]],
  ['etcd Maintenance.Downgrade', EtcdMaintenanceService.downgrade, [{action: 0, version: '3.4.0'}]],
  ['Raftctl.MemberDemote', RaftctlService.memberDemote, [{id: 1}]],
  ['Raftctl.MemberChange', RaftctlService.memberChange, [{changes: [{kind: ExtKind.REMOVE, id: 1, peerUrls: []}]}]],
  ['Raftctl.LeaveJoint', RaftctlService.leaveJoint, [{}]],
  ['Raftctl.MemberProgress', RaftctlService.memberProgress, [{}]],
  ['Raftctl.NodeStatus', RaftctlService.nodeStatus, [{}]],
  ['etcd Lease.LeaseGrant', LeaseService.leaseGrant, [{TTL: 60, ID: 0n}, {TTL: 0, ID: 5n}, {TTL: 9_000_000_001, ID: 0n}]],
  ['etcd Lease.LeaseRevoke', LeaseService.leaseRevoke, [{ID: 5n}, {ID: 0n}]],
  ['etcd Lease.LeaseKeepAlive', LeaseService.leaseKeepAlive, [{ID: 5n}]],
  ['etcd Lease.LeaseTimeToLive', LeaseService.leaseTimeToLive, [{ID: 5n, keys: true}]],
  ['etcd Lease.LeaseLeases', LeaseService.leaseLeases, [{}]],
]

/** Methods served but not fuzzed here, and why. */
const NOT_FUZZED: Record<string, string> = {
  '/etcdserverpb.Maintenance/Snapshot': 'every accepted call writes and streams a snapshot file; its decoding is checked below',
  ...Object.fromEntries([...Object.values(LockService), ...Object.values(ElectionService)].map((m) =>
    [m.path, 'answers etcd\'s errors as UNKNOWN, as etcd\'s v3lock/v3election servers do, and a Lock or Campaign waits its ' +
      'deadline by design; its undecodable requests are refused INVALID_ARGUMENT (test/server/etcd_lock.test.ts, etcd_election.test.ts)'])),
  ...Object.fromEntries(Object.values(AuthService).map((m) =>
    [m.path, 'answers UNIMPLEMENTED whatever the bytes (unimplementedService), checked below with undecodable bytes'])),
}

/** The services the server registers (src/server/server.ts), each with checkedDecoding. */
const SERVED = [
  PeerInfoService, EtcdKVService, WatchService, EtcdClusterService, EtcdMaintenanceService,
  LeaseService, AuthService, RaftctlService, LockService, ElectionService,
]

/**
 * What follows the bytes sent to Watch: a progress request, which etcd's Watch answers at once on
 * a stream that is still open (the stream stays open after the client's half-close, as etcd's).
 */
const PROGRESS = WatchRequest.encode({createRequest: undefined, cancelRequest: undefined, progressRequest: {}}).finish()

interface Outcome {
  readonly code: status
  readonly details: string
}

/**
 * Sends raw request bytes to `m` and returns the status (OK once a stream's first message came).
 * On Watch a progress request follows the bytes, so a message that is rightly not answered (a
 * cancel of an unknown watch) still gets the stream an answer.
 */
function rawCall(client: Client, m: Method, bytes: Uint8Array): Promise<Outcome> {
  const pass = (x: Buffer): Buffer => x
  const deadline = new Date(Date.now() + CALL_MS)
  return new Promise((resolve) => {
    if (!m.responseStream) {
      client.makeUnaryRequest(m.path, pass, pass, Buffer.from(bytes), new Metadata(), {deadline},
        (err: ServiceError | null) => resolve(err === null ? {code: status.OK, details: ''} : {code: err.code, details: err.details}))
      return
    }
    const watch = m.path === WatchService.watch.path
    const call = watch
      ? client.makeBidiStreamRequest(m.path, pass, pass, new Metadata(), {deadline})
      : client.makeServerStreamRequest(m.path, pass, pass, Buffer.from(bytes), new Metadata(), {deadline})
    if (watch) {
      const bidi = call as ReturnType<Client['makeBidiStreamRequest']>
      bidi.write(Buffer.from(bytes))
      bidi.write(Buffer.from(PROGRESS))
    }
    let settled = false
    const settle = (o: Outcome): void => {
      if (settled) return
      settled = true
      resolve(o)
      call.cancel()
    }
    call.on('data', () => settle({code: status.OK, details: ''}))
    call.on('error', (err: ServiceError) => settle({code: err.code, details: err.details}))
    call.on('end', () => settle({code: status.OK, details: ''}))
  })
}

/** What a refused request must not change: the keys and revision, and the membership. */
async function state(client: Client): Promise<string> {
  const count = await unary(client, EtcdKVService.range, valid(EtcdKVService.range, {key: b('\0'), rangeEnd: b('\0'), countOnly: true, serializable: true})) as {count: number, header: {revision: number}}
  const members = await unary(client, EtcdClusterService.memberList, valid(EtcdClusterService.memberList)) as {members: Array<{ID: bigint}>}
  const st = await unary(client, RaftctlService.nodeStatus, valid(RaftctlService.nodeStatus)) as {confState: unknown}
  return JSON.stringify({revision: count.header.revision, keys: count.count, members: members.members.map((x) => ({...x, ID: String(x.ID)})), cs: st.confState})
}

function unary(client: Client, m: Method, bytes: Uint8Array): Promise<unknown> {
  const pass = (x: Buffer): Buffer => x
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(m.path, pass, m.responseDeserialize as (x: Buffer) => unknown, Buffer.from(bytes), new Metadata(),
      {deadline: new Date(Date.now() + CALL_MS)}, (err: ServiceError | null, res?: unknown) => (err === null ? resolve(res) : reject(err)))
  })
}

describe(`fuzz: client requests to a real node ${FUZZ_TITLE}`, function () {
  this.timeout(60_000 + SEEDS.length * fuzzTimeout(RUNS, 200))
  let cluster: TestCluster | undefined
  let client: Client | undefined
  let peerClient: Client | undefined

  /** A fresh single node (again after a request legitimately changed the membership). */
  async function node(): Promise<Client> {
    if (client !== undefined) return client
    cluster = new TestCluster()
    await cluster.bootstrap(1)
    await cluster.waitLeader([1])
    client = new Client(cluster.node(1).client, credentials.createInsecure())
    peerClient = new Client(cluster.node(1).peer, credentials.createInsecure())
    return client
  }

  async function discard(): Promise<void> {
    client?.close()
    peerClient?.close()
    cluster?.close()
    client = undefined
    cluster = undefined
    await stopAll()
  }

  before(function () {
    this.timeout(240_000)
    ensureBuilt()
  })
  after(discard)

  // Found by this fuzzer: every undecodable request was answered INTERNAL "Error deserializing
  // request" by grpc-js, which says neither what was wrong nor that the client is at fault.
  const undecodable: Array<[string, Method]> = [['etcdserverpb.Watch/Watch', WatchService.watch],
    ['etcdserverpb.KV/Txn', EtcdKVService.txn], ['etcdserverpb.Cluster/MemberAdd', EtcdClusterService.memberAdd], ['raftctl.v1.Raftctl/MemberChange', RaftctlService.memberChange],
    ['etcdserverpb.Lease/LeaseGrant', LeaseService.leaseGrant], ['etcdserverpb.Lease/LeaseKeepAlive', LeaseService.leaseKeepAlive],
    ['etcdserverpb.Maintenance/Snapshot', EtcdMaintenanceService.snapshot], ['etcdserverpb.Maintenance/MoveLeader', EtcdMaintenanceService.moveLeader]]
  for (const [name, m] of undecodable) {
    it(`answers undecodable bytes to ${name} with INVALID_ARGUMENT naming the method and the problem`, async () => {
      const c = await node()
      const r = await rawCall(c, m, Uint8Array.of(0x0a, 0xff, 0x01))
      expect(status[r.code]).to.equal('INVALID_ARGUMENT')
      expect(r.details).to.equal(`the request to ${name} does not decode: premature EOF`)
    })
  }

  it('answers any bytes to the Auth service, served by no handler yet, with UNIMPLEMENTED', async () => {
    const c = await node()
    for (const m of [AuthService.authenticate, AuthService.userAdd]) {
      const r = await rawCall(c, m, Uint8Array.of(0x0a, 0xff, 0x01))
      expect(status[r.code], m.path).to.equal('UNIMPLEMENTED')
    }
  })

  it('fuzzes every method of every service the server registers, each registered with checkedDecoding', () => {
    const fuzzed = new Set(SEEDS.map(([, m]) => m.path))
    for (const service of SERVED) {
      for (const m of Object.values(service)) expect(fuzzed.has(m.path) || m.path in NOT_FUZZED, `${m.path} is fuzzed`).to.equal(true)
    }
    const server = readFileSync(join(REPO_ROOT, 'src', 'server', 'server.ts'), 'utf8')
    const registered = [...server.matchAll(/\.addService\(([^,]+),/g)].map((x) => x[1].trim())
    expect(registered.length).to.be.greaterThan(0)
    for (const r of registered) expect(r, 'a service registered without checkedDecoding answers undecodable requests INTERNAL').to.match(/^checkedDecoding\(/)
    expect(registered.map((r) => r.replace(/^checkedDecoding\((\w+)\)$/, '$1')).sort())
      .to.deep.equal(['AuthService', 'EtcdClusterService', 'EtcdKVService', 'EtcdMaintenanceService', 'LeaseService',
        'PeerInfoService', 'RaftctlService', 'WatchService'])
  })

  for (const [name, m, seeds] of SEEDS) {
    it(`${name}: hostile bytes get success or a named status, and a refusal changes nothing`, async () => {
      const seedBytes = fc.constantFrom(...seeds.map((s) => valid(m, s)))
      await fc.assert(fc.asyncProperty(hostile(seedBytes), async (bytes) => {
        const c = await node()
        const before = await state(c)
        const target = name.startsWith('PeerInfo.') ? peerClient! : c
        const r = await settlesWithin(rawCall(target, m, bytes), CALL_MS + 2000, `${name} with hostile bytes`)
        expect(r.code, `${status[r.code]}: ${r.details}`).to.not.be.oneOf([status.INTERNAL, status.UNKNOWN, status.DEADLINE_EXCEEDED])
        if (r.code !== status.OK) expect(r.details, 'a refusal names what was wrong in one line').to.match(/^\S[^\n]*$/)
        const after = await waitFor(`node 1 to answer after ${name}`, () => state(c), {timeoutMs: 10_000})
        if (r.code !== status.OK) expect(after, `the refused ${name} changed the node`).to.equal(before)
        else if (name.startsWith('Cluster.') && after !== before) await discard()
      }), fuzzParams(RUNS))
    })
  }
})
