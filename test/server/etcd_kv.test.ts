/**
 * etcd's KV service on a real 3-node raftctl cluster, through our generated etcd clients and the
 * etcd3 npm client, sent to a follower's endpoint only (etcd clients do not follow redirects):
 * writes proposed on the follower, linearizable reads by ReadIndex, serializable local reads,
 * read-only txns served without a proposal, compaction, etcd's error codes and texts (with
 * raftctl's explanation in raftctl-detail) and headers as etcd fills them; then a write sent to
 * a follower while the leader is killed is answered, never redirected.
 */
import {expect} from 'chai'
import {credentials, type ServiceError} from '@grpc/grpc-js'
import {Etcd3} from 'etcd3'
import type {ResponseHeader} from '../../src/generated/etcd/etcdserverpb/header.js'
import {
  Compare_CompareResult as Result, Compare_CompareTarget as Target, type RequestOp, type TxnRequest,
} from '../../src/generated/etcd/etcdserverpb/kv.js'
import {RaftctlClient as ExtensionClient} from '../../src/generated/raftctl/v1/raftctl.js'
import {decodeDetail, DETAIL_KEY, LEADER_HINT_KEY} from '../../src/raftpb/metadata.js'
import {call, deleteReq, etcdClients, failureOf, type GrpcFailure, putReq, rangeReq} from '../compat/etcd_grpc.js'
import {ETCD_ERRORS as E} from '../compat/etcd_facts.js'
import {ensureBuilt, stopAll, TestCluster, waitFor} from '../integration/harness.js'

const b = (s: string): Buffer => Buffer.from(s)
const text = (u: Uint8Array | undefined): string => Buffer.from(u ?? []).toString()

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

const putOp = (key: string, value = 'v'): RequestOp => ({requestPut: putReq(key, value)})
const rangeOp = (key: string, serializable = false): RequestOp => ({requestRange: rangeReq(key, {serializable})})
const txn = (success: RequestOp[], compare: TxnRequest['compare'] = [], failure: RequestOp[] = []): TxnRequest => ({compare, success, failure})
const versionIs = (key: string, version: number): TxnRequest['compare'][number] =>
  ({key: b(key), rangeEnd: b(''), target: Target.VERSION, result: Result.EQUAL, version: BigInt(version)})

describe('server: etcd KV on a 3-node cluster, through a follower\'s endpoint', function () {
  this.timeout(120_000)
  const cluster = new TestCluster()
  let leader: number
  let follower: number
  let other: number
  let c: ReturnType<typeof etcdClients>
  let onOther: ReturnType<typeof etcdClients>
  let clusterId: bigint

  /** The header of a KV answer: etcd fills every field; member_id is the member asked. */
  function expectHeader(h: ResponseHeader | undefined, member: number, revision: number): void {
    expect(h, 'header').to.not.equal(undefined)
    expect(h!.clusterId).to.equal(clusterId)
    expect(h!.memberId).to.equal(BigInt(member))
    expect(h!.revision).to.equal(revision)
    expect(h!.raftTerm).to.be.greaterThan(0)
  }

  before(async function () {
    this.timeout(240_000)
    ensureBuilt()
    await cluster.bootstrap(3)
    leader = await cluster.waitLeader()
    ;[follower, other] = [1, 2, 3].filter((id) => id !== leader)
    c = etcdClients(cluster.node(follower).client)
    onOther = etcdClients(cluster.node(other).client)
    clusterId = (await call(c.cluster, c.cluster.memberList, {linearizable: false})).header!.clusterId
  })

  after(async () => {
    c?.close()
    onOther?.close()
    cluster.close()
    await stopAll()
  })

  it('puts on a follower and answers with the revision it created; a linearizable read on another follower sees it at once', async () => {
    const r1 = await call(c.kv, c.kv.put, putReq('a', 'one'))
    const rev = r1.header!.revision
    expectHeader(r1.header, follower, rev)
    const r2 = await call(c.kv, c.kv.put, putReq('a', 'two', {prevKv: true}))
    expectHeader(r2.header, follower, rev + 1)
    expect(text(r2.prevKv?.value)).to.equal('one')
    const got = await call(onOther.kv, onOther.kv.range, rangeReq('a'))
    expectHeader(got.header, other, rev + 1)
    expect(got.kvs.map((kv) => [text(kv.key), text(kv.value), kv.createRevision, kv.modRevision, kv.version]))
      .to.deep.equal([['a', 'two', rev, rev + 1, 2]])
    const past = await call(onOther.kv, onOther.kv.range, rangeReq('a', {revision: rev}))
    expect(text(past.kvs[0].value)).to.equal('one')
    expectHeader(past.header, other, rev + 1)
  })

  it('serves a serializable read from the member\'s own applied state', async () => {
    const put = await call(c.kv, c.kv.put, putReq('s', 'x'))
    const rev = put.header!.revision
    await waitFor(`node ${other} to apply revision ${rev}`, async () =>
      (await call(onOther.kv, onOther.kv.range, rangeReq('s', {serializable: true}))).header!.revision >= rev)
    const got = await call(onOther.kv, onOther.kv.range, rangeReq('s', {serializable: true}))
    expect(text(got.kvs[0].value)).to.equal('x')
    expectHeader(got.header, other, got.header!.revision)
  })

  it('deletes on a follower with prev_kv; a delete of nothing creates no revision', async () => {
    await call(c.kv, c.kv.put, putReq('d/1', '1'))
    const last = await call(c.kv, c.kv.put, putReq('d/2', '2'))
    const del = await call(c.kv, c.kv.deleteRange, {...deleteReq('d/', 'd0'), prevKv: true})
    expect(del.deleted).to.equal(2)
    expect(del.prevKvs.map((kv) => text(kv.value))).to.deep.equal(['1', '2'])
    expectHeader(del.header, follower, last.header!.revision + 1)
    const none = await call(c.kv, c.kv.deleteRange, deleteReq('d/', 'd0'))
    expect(none.deleted).to.equal(0)
    expectHeader(none.header, follower, last.header!.revision + 1)
  })

  it('runs a txn with writes on a follower; its op responses carry only their revision', async () => {
    const before = (await call(c.kv, c.kv.put, putReq('t/a', 'old'))).header!.revision
    const res = await call(c.kv, c.kv.txn, txn([putOp('t/a', 'new'), rangeOp('t/a')], [versionIs('t/a', 1)], [rangeOp('t/a')]))
    expect(res.succeeded).to.equal(true)
    expectHeader(res.header, follower, before + 1)
    const read = res.responses[1].responseRange!
    expect(text(read.kvs[0].value)).to.equal('new')
    expect(read.header).to.deep.equal({clusterId: 0n, memberId: 0n, revision: before + 1, raftTerm: 0})
    const failed = await call(c.kv, c.kv.txn, txn([putOp('t/a', 'never')], [versionIs('t/a', 1)], [rangeOp('t/a')]))
    expect(failed.succeeded).to.equal(false)
    expect(text(failed.responses[0].responseRange!.kvs[0].value)).to.equal('new')
    expectHeader(failed.header, follower, before + 1)
  })

  it('serves a read-only txn without a proposal, linearizably unless every range is serializable', async () => {
    const rev = (await call(c.kv, c.kv.put, putReq('ro', 'v1'))).header!.revision
    const ext = new ExtensionClient(cluster.node(leader).client, credentials.createInsecure())
    try {
      const lastIndex = async (): Promise<number> => (await call(ext, ext.nodeStatus, {})).raftLastIndex
      const before = await lastIndex()
      const res = await call(onOther.kv, onOther.kv.txn, txn([rangeOp('ro')], [versionIs('ro', 1)]))
      expect(res.succeeded).to.equal(true)
      expect(text(res.responses[0].responseRange!.kvs[0].value), 'linearizable: sees the write at once').to.equal('v1')
      expectHeader(res.header, other, rev)
      const serializable = await call(onOther.kv, onOther.kv.txn, txn([rangeOp('ro', true)]))
      expect(serializable.responses).to.have.length(1)
      expect(await lastIndex(), 'no entry was appended for the read-only txns').to.equal(before)
    } finally {
      ext.close()
    }
  })

  it('refuses bad requests with etcd\'s codes and texts before proposing, raftctl\'s explanation in raftctl-detail', async () => {
    const empty = await refusal(call(c.kv, c.kv.put, putReq('')))
    expect([empty.code, empty.details]).to.deep.equal([E.emptyKey.code, E.emptyKey.details])
    expect(empty.detail).to.equal('put: the key is empty')
    expect(await failureOf(call(c.kv, c.kv.range, rangeReq('')))).to.deep.equal(E.emptyKey)
    expect(await failureOf(call(c.kv, c.kv.deleteRange, deleteReq('')))).to.deep.equal(E.emptyKey)
    const many = await refusal(call(c.kv, c.kv.txn, txn(Array.from({length: 129}, (_, i) => putOp(`many/${i}`)))))
    expect([many.code, many.details]).to.deep.equal([E.tooManyOps.code, E.tooManyOps.details])
    expect(many.detail).to.not.equal('')
    expect(await failureOf(call(c.kv, c.kv.txn, txn([putOp('dup'), putOp('dup')])))).to.deep.equal(E.duplicateKey)
    expect(await failureOf(call(c.kv, c.kv.put, putReq('v', 'x', {ignoreValue: true})))).to.deep.equal(E.valueProvided)
    expect(await failureOf(call(c.kv, c.kv.put, putReq('v', '', {ignoreLease: true, lease: 5n})))).to.deep.equal(E.leaseProvided)
    expect((await call(c.kv, c.kv.range, rangeReq('many/0'))).kvs, 'nothing of the refused txn was written').to.deep.equal([])
  })

  it('answers the errors found at apply with etcd\'s codes: key not found, lease not found', async () => {
    const missing = await refusal(call(c.kv, c.kv.put, putReq('nokey', '', {ignoreValue: true})))
    expect([missing.code, missing.details]).to.deep.equal([E.keyNotFound.code, E.keyNotFound.details])
    expect(await failureOf(call(c.kv, c.kv.put, putReq('leased', 'v', {lease: 7n})))).to.deep.equal(E.leaseNotFound)
  })

  it('refuses a request over --max-request-bytes with etcd\'s "request is too large", naming the sizes', async () => {
    const big = await refusal(call(c.kv, c.kv.put, putReq('big', 'x'.repeat(2 * 1024 * 1024))))
    expect([big.code, big.details]).to.deep.equal([E.requestTooLarge.code, E.requestTooLarge.details])
    expect(big.detail).to.match(/^the request is \d+ bytes, more than the 1572864 bytes --max-request-bytes allows$/)
  })

  it('compacts through a follower: physical waits for this member; reads below answer compacted, above future', async () => {
    const first = (await call(c.kv, c.kv.put, putReq('cmp', '1'))).header!.revision
    const second = (await call(c.kv, c.kv.put, putReq('cmp', '2'))).header!.revision
    const res = await call(c.kv, c.kv.compact, {revision: second, physical: true})
    expectHeader(res.header, follower, second)
    const old = await refusal(call(onOther.kv, onOther.kv.range, rangeReq('cmp', {revision: first})))
    expect([old.code, old.details]).to.deep.equal([E.compacted.code, E.compacted.details])
    expect(old.detail).to.include(`the oldest revision kept is ${second}`)
    expect(text((await call(onOther.kv, onOther.kv.range, rangeReq('cmp', {revision: second}))).kvs[0].value)).to.equal('2')
    expect(await failureOf(call(c.kv, c.kv.compact, {revision: second, physical: false}))).to.deep.equal(E.compacted)
    expect(await failureOf(call(c.kv, c.kv.compact, {revision: second + 1000, physical: false}))).to.deep.equal(E.futureRevision)
    expect(await failureOf(call(c.kv, c.kv.range, rangeReq('cmp', {revision: second + 1000})))).to.deep.equal(E.futureRevision)
  })

  it('serves the etcd3 npm client on a follower\'s endpoint only', async () => {
    const client = new Etcd3({hosts: cluster.node(follower).client})
    try {
      await client.put('e3/a').value('1')
      await client.put('e3/b').value('2')
      expect(await client.get('e3/a').string()).to.equal('1')
      expect(await client.getAll().prefix('e3/').strings()).to.deep.equal({'e3/a': '1', 'e3/b': '2'})
      const t = await client.if('e3/a', 'Value', '==', '1').then(client.put('e3/a').value('3')).else(client.get('e3/a')).commit()
      expect(t.succeeded).to.equal(true)
      expect(await client.get('e3/a').string()).to.equal('3')
      await client.delete().prefix('e3/')
      expect(await client.getAll().prefix('e3/').keys()).to.deep.equal([])
    } finally {
      client.close()
    }
  })

  it('answers a write sent to a follower while the leader is killed: applied, or etcd\'s unavailable answer — never a redirect', async () => {
    const n = cluster.node(leader)
    const write = call(c.kv, c.kv.put, putReq('failover', 'v'), {}, 8000).then(() => undefined, (err: ServiceError) => err)
    process.kill(n.proc!.pid!, 'SIGKILL')
    await n.waitExit()
    const more = await Promise.all(Array.from({length: 3}, (_, i) =>
      call(c.kv, c.kv.put, putReq(`failover/${i}`, 'v'), {}, 8000).then(() => undefined, (err: ServiceError) => err)))
    for (const err of [await write, ...more]) {
      if (err === undefined) continue
      const f = await failureOf(Promise.reject(err))
      expect(f.code, f.details).to.be.oneOf(['UNAVAILABLE', 'DEADLINE_EXCEEDED'])
      expect(f.details).to.be.oneOf(['etcdserver: request timed out', 'etcdserver: no leader', 'etcdserver: leader changed',
        'context deadline exceeded', 'Deadline exceeded'])
      expect(err.metadata?.get(LEADER_HINT_KEY) ?? [], 'no redirect').to.deep.equal([])
    }
    // The two remaining members elect a leader and serve writes through the follower again.
    await waitFor('a write through the follower after the leader was killed', async () =>
      call(c.kv, c.kv.put, putReq('failover/after', 'v'), {}, 3000).then(() => true, () => false), {timeoutMs: 30_000})
    n.start()
  })
})
