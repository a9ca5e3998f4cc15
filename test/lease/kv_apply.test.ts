/**
 * Leases in the key/value store's apply (real RocksDB): puts with a lease attach their key,
 * ignore_lease keeps it, overwrites and deletes detach, the LEASE compare, and a revoke deleting
 * every attached key in one revision with delete events — all through KvStore.apply of
 * InternalRaftRequest entries, every write of an entry in its one batch.
 */
import {expect} from 'chai'
import {Compare_CompareResult as R, Compare_CompareTarget as T, type Compare} from '../../src/generated/etcd/etcdserverpb/kv.js'
import {Event_EventType, type Event} from '../../src/generated/etcd/mvccpb/kv.js'
import {TempDirs} from '../storage/helpers.js'
import {b, delOp, putOp, putReq, s, TestNode} from '../kv/helpers.js'
import {attachments, checkpoint, grant, leaseRecords, liveKeys, putLease, revoke} from './kv_node.js'

const cmpLease = (key: string, result: R, lease: bigint): Compare =>
  ({key: b(key), rangeEnd: new Uint8Array(0), target: T.LEASE, result, lease})

describe('lease: leases in the key/value apply', () => {
  const tmp = new TempDirs()
  let n: TestNode
  beforeEach(async () => {
    n = await TestNode.create(tmp.make('raftctl-lease-kv-'))
  })
  afterEach(async () => {
    await n.close()
    tmp.cleanup()
  })

  it('grants through the log without a new revision and answers the id and TTL', async () => {
    const g = await grant(n, 7n, 30)
    expect(g.error).to.equal(undefined)
    expect(g.leaseGrant).to.deep.include({ID: 7n, TTL: 30})
    expect(g.revision).to.equal(1)
    expect(n.leases.get(7n)).to.deep.include({ttl: 30, grantedIndex: g.index})
    const again = await grant(n, 7n, 30)
    expect(again.error).to.have.property('code', 'LEASE_EXISTS')
    expect(n.kv.appliedIndex).to.equal(again.index)
  })

  it('attaches a key put with a lease, fills KeyValue.lease, and refuses a missing lease before anything is written', async () => {
    await grant(n, 7n)
    const p = await putLease(n, 'a', '1', 7n)
    expect(p.error).to.equal(undefined)
    expect((await n.get('a'))!.lease).to.equal(7n)
    expect(attachments(n)).to.deep.equal({7: ['a']})
    const missing = await putLease(n, 'b', '1', 8n)
    expect(missing.error).to.have.property('code', 'LEASE_NOT_FOUND')
    expect(missing.error!.message).to.equal('lease 8 does not exist (it was never granted, was revoked or expired)')
    expect(await n.get('b')).to.equal(undefined)
    expect(n.kv.revision).to.equal(p.revision)
    // etcd checks the lease of a put before the key ignore_value needs.
    expect((await n.put('nokey', '', false, {ignoreValue: true, lease: 8n})).error).to.have.property('code', 'LEASE_NOT_FOUND')
  })

  it('moves a key to the lease of its last put and detaches it on a put without lease or a delete', async () => {
    await grant(n, 7n)
    await grant(n, 9n)
    await putLease(n, 'a', '1', 7n)
    await putLease(n, 'b', '1', 7n)
    await putLease(n, 'a', '2', 9n)
    expect(attachments(n)).to.deep.equal({7: ['b'], 9: ['a']})
    await n.put('a', '3')
    expect((await n.get('a'))!.lease).to.equal(0n)
    expect(attachments(n)).to.deep.equal({7: ['b'], 9: []})
    await n.del('b')
    expect(attachments(n)).to.deep.equal({7: [], 9: []})
    await putLease(n, 'c', '1', 9n)
    await n.txn({success: [delOp('c')]})
    expect(attachments(n)).to.deep.equal({7: [], 9: []})
  })

  it('keeps the key\'s lease with ignore_lease, and refuses ignore_lease on a missing key as etcd', async () => {
    await grant(n, 7n)
    await putLease(n, 'a', '1', 7n)
    const p = await n.put('a', '2', false, {ignoreLease: true})
    expect(p.error).to.equal(undefined)
    expect(await n.get('a')).to.deep.include({lease: 7n, version: 2})
    expect(s((await n.get('a'))!.value)).to.equal('2')
    expect(attachments(n)).to.deep.equal({7: ['a']})
    expect((await n.put('missing', 'x', false, {ignoreLease: true})).error).to.have.property('code', 'KEY_NOT_FOUND')
    expect((await n.put('a', 'x', false, {ignoreLease: true, lease: 7n})).error).to.have.property('code', 'LEASE_PROVIDED')
  })

  it('compares LEASE in a txn, over one key or a range, and attaches the puts of the chosen branch', async () => {
    await grant(n, 7n)
    await putLease(n, 'k/1', '1', 7n)
    await n.put('k/2', '1')
    const holds = async (c: Compare): Promise<boolean> => (await n.txn({compare: [c]})).txn!.succeeded
    expect(await holds(cmpLease('k/1', R.EQUAL, 7n))).to.equal(true)
    expect(await holds(cmpLease('k/1', R.GREATER, 6n))).to.equal(true)
    expect(await holds(cmpLease('k/1', R.LESS, 7n))).to.equal(false)
    expect(await holds(cmpLease('k/2', R.EQUAL, 0n))).to.equal(true)
    expect(await holds(cmpLease('k/2', R.NOT_EQUAL, 7n))).to.equal(true)
    expect(await holds(cmpLease('missing', R.EQUAL, 0n)), 'a missing key has lease 0').to.equal(true)
    expect(await holds({...cmpLease('k/', R.EQUAL, 7n), rangeEnd: b('k0')}), 'every key of the range must match').to.equal(false)
    const t = await n.txn({
      compare: [cmpLease('k/1', R.EQUAL, 7n)],
      success: [{requestPut: putReq('k/3', 'v', false, {lease: 7n})}], failure: [],
    })
    expect(t.txn!.succeeded).to.equal(true)
    expect(attachments(n)).to.deep.equal({7: ['k/1', 'k/3']})
    const refused = await n.txn({success: [putOp('k/4', 'v'), {requestPut: putReq('k/5', 'v', false, {lease: 8n})}]})
    expect(refused.error).to.have.property('code', 'LEASE_NOT_FOUND')
    expect(await n.get('k/4'), 'a refused txn writes nothing').to.equal(undefined)
  })

  it('deletes every key of a revoked lease in one revision, with delete events like any delete', async () => {
    const published: Array<{revision: number, events: readonly Event[]}> = []
    n.kv.listen({published: (revision, events) => published.push({revision, events}), replaced: () => {}})
    await grant(n, 7n)
    for (const k of ['c', 'a', 'b']) await putLease(n, k, `v-${k}`, 7n)
    await n.put('other', '1')
    const before = n.kv.revision
    const r = await revoke(n, 7n)
    expect(r.error).to.equal(undefined)
    expect(r.revision).to.equal(before + 1)
    expect(r.leaseRevoke!.header!.revision).to.equal(before + 1)
    expect(await liveKeys(n)).to.deep.equal([['other', '1', 0n]])
    expect(n.kv.keyCount).to.equal(1)
    expect(n.leases.exists(7n)).to.equal(false)
    expect(await leaseRecords(n), 'the lease and its attachments are gone').to.deep.equal([])
    const last = published.at(-1)!
    expect(last.revision).to.equal(before + 1)
    expect(last.events.map((e) => [e.type, s(e.kv!.key), s(e.prevKv!.value)])).to.deep.equal([
      [Event_EventType.DELETE, 'a', 'v-a'], [Event_EventType.DELETE, 'b', 'v-b'], [Event_EventType.DELETE, 'c', 'v-c'],
    ])
    const hist = []
    for await (const h of n.kv.history(before + 1, undefined, {prevKv: true})) hist.push(h)
    expect(hist.map((h) => [h.revision, h.events.map((e) => [e.type, s(e.kv!.key), e.kv!.modRevision])]), 'the history shows the deletes at one revision')
      .to.deep.equal([[before + 1, [[Event_EventType.DELETE, 'a', before + 1], [Event_EventType.DELETE, 'b', before + 1], [Event_EventType.DELETE, 'c', before + 1]]]])
  })

  it('revokes a lease without keys without a new revision, and refuses a missing lease or another grant\'s expiry', async () => {
    const g = await grant(n, 7n)
    const r = await revoke(n, 7n)
    expect(r.error).to.equal(undefined)
    expect(r.revision).to.equal(1)
    expect((await revoke(n, 7n)).error).to.have.property('code', 'LEASE_NOT_FOUND')
    await grant(n, 7n)
    await putLease(n, 'a', '1', 7n)
    const stale = await revoke(n, 7n, g.index)
    expect(stale.error, 'an expiry decided for the earlier grant').to.have.property('code', 'LEASE_NOT_FOUND')
    expect((await n.get('a'))!.lease).to.equal(7n)
  })

  it('applies a checkpoint without a new revision', async () => {
    const g = await grant(n, 7n, 600)
    const c = await checkpoint(n, [{ID: 7n, remainingTTL: 120, grantedIndex: g.index}])
    expect(c.error).to.equal(undefined)
    expect(c.revision).to.equal(1)
    expect(n.leases.get(7n)!.remainingTtl).to.equal(120)
  })

  it('is idempotent on replay and keeps leases, attachments and keys across a reopen', async () => {
    await grant(n, 7n)
    await grant(n, 9n)
    await putLease(n, 'a', '1', 7n)
    await putLease(n, 'b', '1', 9n)
    await revoke(n, 9n)
    const records = await leaseRecords(n)
    const keys = await liveKeys(n)
    const revision = n.kv.revision
    for (const e of n.rs.entries(n.rs.firstIndex(), n.rs.lastIndex() + 1)) {
      expect((await n.kv.apply(e)).applied, `entry ${e.index} is skipped`).to.equal(false)
    }
    await n.reopen()
    expect(await leaseRecords(n)).to.deep.equal(records)
    expect(await liveKeys(n)).to.deep.equal(keys)
    expect(attachments(n)).to.deep.equal({7: ['a']})
    expect(n.kv.revision).to.equal(revision)
  })

  it('changes nothing when the entry\'s lease side is refused in the middle of a txn', async () => {
    await grant(n, 7n)
    await putLease(n, 'a', '1', 7n)
    const records = await leaseRecords(n)
    const r = await n.txn({success: [{requestPut: putReq('a', '2', false, {lease: 0n})}, {requestPut: putReq('b', '1', false, {lease: 99n})}]})
    expect(r.error).to.have.property('code', 'LEASE_NOT_FOUND')
    expect(await leaseRecords(n)).to.deep.equal(records)
    expect(attachments(n)).to.deep.equal({7: ['a']})
  })
})
