import {expect} from 'chai'
import {KV_META_KEY, userKey} from '../../src/storage/keys.js'
import {Db} from '../../src/storage/db.js'
import {KvError, KvStore, prefixEnd} from '../../src/kv/index.js'
import {RaftStorage} from '../../src/storage/index.js'
import {TempDirs, rejects} from '../storage/helpers.js'
import {b, putReq, rangeReq, rangeOp, s, TestNode} from './helpers.js'

describe('kv/KvStore', () => {
  const tmp = new TempDirs()
  let n: TestNode
  beforeEach(async () => {
    n = await TestNode.create(tmp.make('raftctl-kv-'))
  })
  afterEach(async () => {
    await n.close()
    tmp.cleanup()
  })

  describe('revisions', () => {
    it('starts at revision 1 as etcd, bumps the revision per write and keeps create/mod revision and version per key', async () => {
      expect(n.kv.revision).to.equal(1)
      const r1 = await n.put('a', '1')
      expect(r1.revision).to.equal(2)
      expect(r1.put!.header!.revision).to.equal(2)
      await n.put('b', '1')
      const r3 = await n.put('a', '2', true)
      expect(r3.put!.prevKv).to.deep.include({createRevision: 2, modRevision: 2, version: 1})
      expect(s(r3.put!.prevKv!.value)).to.equal('1')
      expect(await n.get('a')).to.deep.include({createRevision: 2, modRevision: 4, version: 2})
      await n.del('a')
      await n.put('a', '3')
      expect(await n.get('a')).to.deep.include({createRevision: 6, modRevision: 6, version: 1})
      expect(n.kv.revision).to.equal(6)
      expect(n.kv.keyCount).to.equal(2)
    })

    it('does not bump the revision for a delete that deletes nothing or a read-only txn', async () => {
      await n.put('a', '1')
      const d = await n.del('zzz')
      expect(d.deleteRange!.deleted).to.equal(0)
      expect(d.revision).to.equal(2)
      expect(d.deleteRange!.header!.revision).to.equal(2)
      const t = await n.txn({success: [rangeOp('a')]})
      expect(t.revision).to.equal(2)
      expect(n.kv.revision).to.equal(2)
      expect(n.kv.appliedIndex).to.equal(3)
    })

    it('persists revision, key count and data across reopen', async () => {
      await n.put('a', '1')
      await n.put('b', '2')
      await n.del('a')
      await n.reopen()
      expect(n.kv.revision).to.equal(4)
      expect(n.kv.keyCount).to.equal(1)
      expect(n.kv.appliedIndex).to.equal(3)
      expect(s((await n.get('b'))!.value)).to.equal('2')
      expect(await n.get('a')).to.equal(undefined)
    })
  })

  describe('ranges', () => {
    beforeEach(async () => {
      for (const k of ['a', 'foo', 'foo/1', 'foo/2', 'foo/3', 'fop', 'z']) await n.put(k, `v-${k}`)
    })

    const keys = (r: {kvs: {key: Uint8Array}[]}): string[] => r.kvs.map((kv) => s(kv.key))

    it('reads a single key, a range, a prefix and everything from a key', async () => {
      expect(keys(await n.range('foo'))).to.deep.equal(['foo'])
      expect(keys(await n.range('nope'))).to.deep.equal([])
      expect(keys(await n.range('foo', 'fop'))).to.deep.equal(['foo', 'foo/1', 'foo/2', 'foo/3'])
      expect(keys(await n.range('foo/', s(prefixEnd(b('foo/'))!)))).to.deep.equal(['foo/1', 'foo/2', 'foo/3'])
      expect(keys(await n.range('fop', '\0'))).to.deep.equal(['fop', 'z'])
      expect(keys(await n.range('\0', '\0'))).to.have.length(7)
      expect(keys(await n.range('z', 'a'))).to.deep.equal([])
    })

    it('applies limit with `more` and `count`, keys-only and count-only', async () => {
      const r = await n.range('foo', 'fop', {limit: 2})
      expect(keys(r)).to.deep.equal(['foo', 'foo/1'])
      expect(r.more).to.equal(true)
      expect(r.count).to.equal(4)
      const all = await n.range('foo', 'fop', {limit: 4})
      expect(all.more).to.equal(false)
      const ko = await n.range('foo', 'fop', {keysOnly: true})
      expect(ko.kvs.every((kv) => kv.value.length === 0 && kv.version === 1)).to.equal(true)
      const co = await n.range('foo', 'fop', {countOnly: true})
      expect(co.kvs).to.deep.equal([])
      expect(co.count).to.equal(4)
      expect(co.header!.revision).to.equal(8)
      expect(co.header).to.deep.include({clusterId: 0n, memberId: 0n, raftTerm: 0})
    })

    it('reads at any revision not compacted, refuses a future one and an empty key', async () => {
      expect((await n.range('a', '', {revision: 8})).kvs).to.have.length(1)
      expect(keys(await n.range('\0', '\0', {revision: 3}))).to.deep.equal(['a', 'foo'])
      expect((await n.range('\0', '\0', {revision: 3})).header!.revision, 'the header says the store revision').to.equal(8)
      expect(keys(await n.range('\0', '\0', {revision: 1}))).to.deep.equal([])
      const future = await rejects(n.range('a', '', {revision: 9}))
      expect(future).to.be.instanceOf(KvError).and.have.property('code', 'FUTURE_REVISION')
      expect((await rejects(n.range('')))).to.have.property('code', 'EMPTY_KEY')
      expect(keys(await n.range('foo', 'fop', {limit: -1})), 'a negative limit is no limit, as etcd').to.have.length(4)
    })

    it('deletes single keys and ranges, returning counts and previous values', async () => {
      const one = await n.del('a', '', true)
      expect(one.deleteRange!.deleted).to.equal(1)
      expect(s(one.deleteRange!.prevKvs[0].value)).to.equal('v-a')
      const pre = await n.del('foo/', s(prefixEnd(b('foo/'))!))
      expect(pre.deleteRange).to.deep.include({deleted: 3, prevKvs: []})
      expect(pre.revision).to.equal(10) // one revision for the whole range
      const rest = await n.del('\0', '\0')
      expect(rest.deleteRange!.deleted).to.equal(3)
      expect((await n.range('\0', '\0', {countOnly: true})).count).to.equal(0)
      expect(n.kv.keyCount).to.equal(0)
    })
  })

  describe('apply', () => {
    it('is idempotent per index: re-applying an index is a no-op, also after reopen', async () => {
      const r = await n.put('a', '1')
      const again = await n.kv.apply(n.entry(r.index, n.rs.entries(r.index, r.index + 1)[0].data))
      expect(again).to.deep.equal({index: 1, applied: false, revision: 2})
      await n.reopen()
      const e = n.rs.entries(1, 2)[0]
      expect((await n.kv.apply(e)).applied).to.equal(false)
      expect((await n.get('a'))!.version).to.equal(1)
      expect(n.kv.revision).to.equal(2)
    })

    it('recovers from a crash between persisting and applying by applying the entry once', async () => {
      await n.put('a', '1')
      // Entry 2 is persisted (committed) but the node "crashes" before applying it.
      const data = n.rs.entries(1, 2)[0].data
      const e2 = n.entry(2, data)
      await n.rs.persist({entries: [e2], hardState: {term: 1, vote: 1, commit: 2}})
      await n.reopen()
      expect(n.kv.appliedIndex).to.equal(1)
      expect((await n.kv.apply(n.rs.entries(2, 3)[0])).applied).to.equal(true)
      expect((await n.kv.apply(n.rs.entries(2, 3)[0])).applied).to.equal(false)
      expect((await n.get('a'))!.version).to.equal(2)
    })

    it('refuses to skip an index', async () => {
      await n.put('a', '1')
      const e = await rejects(n.kv.apply(n.entry(5, new Uint8Array(0))))
      expect(e.message).to.match(/applied index is 1/)
    })

    it('writes the data, the meta and the applied index in one synced batch', async () => {
      await n.put('a', '1')
      const entry = n.entry(2, n.rs.entries(1, 2)[0].data)
      await n.rs.persist({entries: [entry], hardState: {term: 1, vote: 1, commit: 2}})
      const before = n.rs.db.batches
      await n.kv.apply(entry)
      expect(n.rs.db.batches).to.equal(before + 1)
      expect(n.rs.db.lastSync).to.equal(true)
    })

    it('applies an empty entry and an invalid request as no-ops that advance the applied index', async () => {
      await n.applyData(new Uint8Array(0))
      expect(n.kv.appliedIndex).to.equal(1)
      const bad = await n.applyData(new Uint8Array([0xff, 0xff]))
      expect(bad.error).to.be.instanceOf(KvError).and.have.property('code', 'INVALID_REQUEST')
      const empty = await n.request({put: putReq('', 'x')})
      expect(empty.error).to.have.property('code', 'EMPTY_KEY')
      expect(empty.error!.message).to.match(/key is empty/)
      expect(empty.requestId).to.be.a('number')
      expect(n.kv.appliedIndex).to.equal(3)
      expect(n.kv.revision).to.equal(1)
    })

    it('refuses a corrupt stored value or KV meta record, naming the data dir and key', async () => {
      await n.put('a', '1')
      await n.close()
      const db = await Db.open(`${n.dir}/db`, {createIfMissing: false})
      await db.write([{type: 'put', key: userKey(b('a')), value: new Uint8Array([0x10, 0x00])}])
      await db.close()
      const rs = await RaftStorage.open(n.dir)
      const kv = await KvStore.open(rs)
      const e = await rejects(kv.range(rangeReq('a')))
      expect(e).to.have.property('code', 'STORAGE_CORRUPT')
      expect(e.message).to.contain(n.dir).and.contain('"k/a"').and.match(/create_revision 0/)
      await rs.db.write([{type: 'put', key: KV_META_KEY, value: new Uint8Array([1, 2, 3])}])
      await rs.close()
      const rs2 = await RaftStorage.open(n.dir)
      const e2 = await rejects(KvStore.open(rs2))
      expect(e2.message).to.contain(n.dir).and.contain('"v/meta"').and.contain('unknown KV meta version 1')
      await rs2.close()
      n = await TestNode.create(tmp.make('raftctl-kv-')) // afterEach closes it
    })
  })
})
