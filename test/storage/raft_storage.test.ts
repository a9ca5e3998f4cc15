import {expect} from 'chai'
import {CompactedError, SnapshotOutOfDateError, UnavailableError} from '../../src/raft/errors.js'
import {EMPTY_CONF_STATE} from '../../src/raft/types.js'
import {LOG_PREFIX, logKey, memberKey, prefixRangeEnd, logIndexOf} from '../../src/storage/keys.js'
import {Db} from '../../src/storage/db.js'
import {RaftStorage, StorageMisuseError} from '../../src/storage/index.js'
import {TempDirs, ents, rejects} from './helpers.js'

const CS = {...EMPTY_CONF_STATE, voters: [1, 2, 3]}

async function logKeysOnDisk(s: RaftStorage): Promise<number[]> {
  const out: number[] = []
  for await (const [k] of s.db.iterate({gte: LOG_PREFIX, lt: prefixRangeEnd(LOG_PREFIX), values: false})) {
    out.push(logIndexOf(k)!)
  }
  return out
}

describe('storage/RaftStorage', () => {
  const tmp = new TempDirs()
  afterEach(() => tmp.cleanup())

  const create = (dir: string, extra = {}): Promise<RaftStorage> =>
    RaftStorage.open(dir, {clusterId: 7, nodeId: 1, create: true, bootstrap: {confState: CS}, ...extra})

  it('writes, reads and reopens entries, hard state and conf state', async () => {
    const dir = tmp.make()
    const s = await create(dir)
    expect(s.firstIndex()).to.equal(1)
    expect(s.lastIndex()).to.equal(0)
    expect(s.term(0)).to.equal(0)
    expect(s.initialState().confState.voters).to.deep.equal([1, 2, 3])
    await s.persist({entries: ents(1, 5, 1), hardState: {term: 1, vote: 2, commit: 3}})
    expect(s.lastIndex()).to.equal(5)
    expect(s.entries(2, 4).map((e) => e.index)).to.deep.equal([2, 3])
    await s.close()

    const r = await RaftStorage.open(dir, {clusterId: 7, nodeId: 1})
    expect(r.clusterId).to.equal(7)
    expect(r.nodeId).to.equal(1)
    expect(r.firstIndex()).to.equal(1)
    expect(r.lastIndex()).to.equal(5)
    expect(r.term(5)).to.equal(1)
    expect(r.entries(1, 6)).to.deep.equal(ents(1, 5, 1).map((e) => ({...e, data: Buffer.from(e.data), context: Buffer.alloc(0)})))
    expect(r.initialState()).to.deep.equal({hardState: {term: 1, vote: 2, commit: 3}, confState: CS})
    await r.close()
  })

  it('writes each persist as exactly one synced batch (entries + hard state + snapshot)', async () => {
    const s = await create(tmp.make())
    const before = s.db.batches
    await s.persist({entries: ents(1, 3, 1), hardState: {term: 1, vote: 1, commit: 1}})
    expect(s.db.batches).to.equal(before + 1)
    expect(s.db.lastSync).to.equal(true)
    await s.persist({
      snapshot: {data: new Uint8Array([9]), metadata: {index: 10, term: 2, confState: CS}},
      entries: ents(11, 12, 2), hardState: {term: 2, vote: 1, commit: 11},
    })
    expect(s.db.batches).to.equal(before + 2)
    expect(s.db.lastSync).to.equal(true)
    expect(s.firstIndex()).to.equal(11)
    expect(s.lastIndex()).to.equal(12)
    expect(s.term(10)).to.equal(2)
    expect(s.applied).to.deep.equal({index: 10, term: 2})
    expect(await logKeysOnDisk(s)).to.deep.equal([11, 12])
    await s.close()
  })

  it('truncates conflicting entries in the same batch and keeps the truncation across reopen', async () => {
    const dir = tmp.make()
    const s = await create(dir)
    await s.persist({entries: ents(1, 10, 1)})
    const before = s.db.batches
    await s.persist({entries: ents(6, 7, 2), hardState: {term: 2, vote: 0, commit: 5}})
    expect(s.db.batches).to.equal(before + 1)
    expect(s.lastIndex()).to.equal(7)
    expect(s.term(6)).to.equal(2)
    expect(s.term(5)).to.equal(1)
    expect(() => s.term(8)).to.throw(UnavailableError)
    expect(await logKeysOnDisk(s)).to.deep.equal([1, 2, 3, 4, 5, 6, 7])
    await s.close()
    const r = await RaftStorage.open(dir)
    expect(r.lastIndex()).to.equal(7)
    expect(r.entries(5, 8).map((e) => e.term)).to.deep.equal([1, 2, 2])
    await r.close()
  })

  it('refuses a gap, non-contiguous entries and a commit beyond the log, writing nothing', async () => {
    const s = await create(tmp.make())
    await s.persist({entries: ents(1, 3, 1)})
    const before = s.db.batches
    expect((await rejects(s.persist({entries: ents(5, 6, 1)}))).message).to.match(/log ends at 3/)
    expect((await rejects(s.persist({entries: [...ents(4, 4, 1), ...ents(6, 6, 1)]}))).message).to.match(/not contiguous/)
    expect((await rejects(s.persist({hardState: {term: 1, vote: 0, commit: 9}})))).to.be.instanceOf(StorageMisuseError)
    expect((await rejects(s.persist({hardState: {term: 1.5, vote: 0, commit: 1}}))).message).to.match(/hardState.term/)
    expect(s.db.batches).to.equal(before)
    expect(s.lastIndex()).to.equal(3)
    await s.close()
  })

  it('serves entries with maxSize, and refuses reads beyond the log', async () => {
    const s = await create(tmp.make())
    await s.persist({entries: ents(1, 5, 1)})
    expect(s.entries(1, 6, 0)).to.have.length(1)
    expect(s.entries(1, 6, 4)).to.have.length(2) // each entry has 2 bytes of data
    expect(() => s.entries(1, 7)).to.throw(StorageMisuseError)
    await s.close()
  })

  it('records snapshots, serves them, and asks for a newer one when needed', async () => {
    const s = await create(tmp.make())
    await s.persist({entries: ents(1, 5, 1), hardState: {term: 1, vote: 1, commit: 5}})
    const snap = await s.recordSnapshot({index: 4, term: 1, confState: CS})
    expect(s.snapshot(0, 2)).to.deep.equal(snap)
    expect(() => s.snapshot(5, 2)).to.throw(UnavailableError)
    expect(s.snapshotRequested).to.equal(5)
    expect(await rejects(s.recordSnapshot({index: 3, term: 1, confState: CS}))).to.be.instanceOf(SnapshotOutOfDateError)
    expect((await rejects(s.recordSnapshot({index: 5, term: 3, confState: CS}))).message).to.match(/differs from the term 1/)
    expect(s.snapshotPath({index: 4, term: 1})).to.match(/snap\/0000000000000001-0000000000000004\.snap$/)
    await s.close()
  })

  it('keeps an inline snapshot installed by persist across reopen (MemoryStorage-style use)', async () => {
    const dir = tmp.make()
    const s = await create(dir)
    await s.persist({entries: ents(1, 4, 1), hardState: {term: 1, vote: 1, commit: 4}})
    expect(await s.markApplied(1, 1)).to.equal(true)
    const snap = await s.createSnapshot(1, undefined, new Uint8Array([7]))
    expect(snap.metadata).to.deep.equal({index: 1, term: 1, confState: CS})
    const cs2 = {...CS, voters: [1, 2]}
    await s.persist({snapshot: {data: new Uint8Array([8, 9]), metadata: {index: 6, term: 2, confState: cs2}}, hardState: {term: 2, vote: 0, commit: 6}})
    await s.close()
    const r = await RaftStorage.open(dir)
    expect(r.snapshot(0, 1)).to.deep.equal({data: Buffer.from([8, 9]), metadata: {index: 6, term: 2, confState: cs2}})
    expect(r.firstIndex()).to.equal(7)
    expect(r.lastIndex()).to.equal(6)
    expect(r.term(6)).to.equal(2)
    expect(r.confState).to.deep.equal(cs2)
    expect(r.applied).to.deep.equal({index: 6, term: 2})
    expect(await logKeysOnDisk(r)).to.deep.equal([])
    await r.close()
  })

  it('clears the vote when a snapshot restore raises the term, also on disk (regression)', async () => {
    // A snapshot persisted without the Ready's hard state (persist({snapshot}) alone) must not
    // leave the vote of term 1 standing as a vote in term 3, on disk or in memory.
    const dir = tmp.make()
    const s = await create(dir)
    await s.persist({entries: ents(1, 2, 1), hardState: {term: 1, vote: 2, commit: 1}})
    await s.persist({snapshot: {data: new Uint8Array(0), metadata: {index: 5, term: 3, confState: CS}}})
    expect(s.hardState).to.deep.equal({term: 3, vote: 0, commit: 5})
    // A snapshot of the current (or an older) term keeps the vote.
    await s.persist({hardState: {term: 4, vote: 3, commit: 5}})
    await s.persist({snapshot: {data: new Uint8Array(0), metadata: {index: 8, term: 4, confState: CS}}})
    expect(s.hardState).to.deep.equal({term: 4, vote: 3, commit: 8})
    await s.close()
    const r = await RaftStorage.open(dir)
    expect(r.hardState).to.deep.equal({term: 4, vote: 3, commit: 8})
    await r.close()
  })

  describe('compaction', () => {
    it('deletes the range before the snapshot minus the trailing count, in one batch', async () => {
      const dir = tmp.make()
      const s = await create(dir, {compactTrailing: 3})
      await s.persist({entries: ents(1, 20, 1), hardState: {term: 1, vote: 1, commit: 20}})
      expect(await s.compact(15)).to.equal(0) // no snapshot yet: nothing may go
      await s.recordSnapshot({index: 15, term: 1, confState: CS})
      const before = s.db.batches
      expect(await s.compact(18)).to.equal(12) // min(18, snapshot 15) - 3
      expect(s.db.batches).to.equal(before + 1)
      expect(s.firstIndex()).to.equal(13)
      expect(s.term(12)).to.equal(1)
      expect(() => s.term(11)).to.throw(CompactedError)
      expect(() => s.entries(12, 14)).to.throw(CompactedError)
      expect(await logKeysOnDisk(s)).to.deep.equal([13, 14, 15, 16, 17, 18, 19, 20])
      expect(await s.compact(15)).to.equal(12) // nothing new to remove
      await s.close()
      const r = await RaftStorage.open(dir)
      expect(r.firstIndex()).to.equal(13)
      expect(r.term(12)).to.equal(1)
      expect(r.lastIndex()).to.equal(20)
      await r.close()
    })

    it('never removes entries at or above minRetainIndex', async () => {
      const s = await create(tmp.make(), {compactTrailing: 0})
      await s.persist({entries: ents(1, 20, 1), hardState: {term: 1, vote: 1, commit: 20}})
      await s.recordSnapshot({index: 18, term: 1, confState: CS})
      expect(await s.compact(18, {minRetainIndex: 6})).to.equal(5)
      expect(s.firstIndex()).to.equal(6)
      expect(await s.compact(18, {minRetainIndex: 4})).to.equal(5) // never un-compacts
      expect(await s.compact(18, {trailing: 2})).to.equal(16)
      expect(s.entries(17, 21).map((e) => e.index)).to.deep.equal([17, 18, 19, 20])
      await s.close()
    })

    it('uses a default trailing count of 10,000', async () => {
      const s = await create(tmp.make())
      expect(s.compactTrailing).to.equal(10_000)
      await s.persist({entries: ents(1, 10_020, 1), hardState: {term: 1, vote: 1, commit: 10_020}})
      await s.recordSnapshot({index: 10_015, term: 1, confState: CS})
      expect(await s.compact(10_020)).to.equal(15) // min(10,020, snapshot 10,015) - 10,000
      expect(s.firstIndex()).to.equal(16)
      const onDisk = await logKeysOnDisk(s)
      expect(onDisk[0]).to.equal(16)
      expect(onDisk).to.have.length(10_005)
      await s.close()
    })
  })

  describe('applied index and membership', () => {
    it('applies in order, skips re-applied indexes and persists conf state and members', async () => {
      const dir = tmp.make()
      const s = await create(dir)
      await s.persist({entries: ents(1, 3, 1), hardState: {term: 1, vote: 1, commit: 3}})
      expect(await s.exclusive(() => s.commitApplied(1, 1, []))).to.equal(true)
      const m4 = {id: 4, name: 'n4', peerUrls: ['127.0.0.1:2480'], clientUrls: ['127.0.0.1:2479']}
      const cs2 = {...CS, learners: [4]}
      expect(await s.applyConfChange(2, 1, {confState: cs2, putMembers: [m4]})).to.equal(true)
      expect(await s.applyConfChange(2, 1, {confState: CS})).to.equal(false) // already applied
      expect((await rejects(s.exclusive(() => s.commitApplied(4, 1, []))))).to.be.instanceOf(StorageMisuseError)
      expect(s.confState).to.deep.equal(cs2)
      await s.close()
      const r = await RaftStorage.open(dir)
      expect(r.applied).to.deep.equal({index: 2, term: 1})
      expect(r.confState).to.deep.equal(cs2)
      expect(r.members()).to.deep.equal([m4])
      await r.applyConfChange(3, 1, {removeMembers: [4], confState: CS})
      expect(r.members()).to.deep.equal([])
      await r.close()
    })
  })

  describe('opening a data dir', () => {
    it('refuses a missing dir unless create is set, and creation without ids', async () => {
      const dir = tmp.make()
      const e1 = await rejects(RaftStorage.open(`${dir}/nope`))
      expect(e1.message).to.contain(`${dir}/nope`).and.match(/does not exist/)
      const e2 = await rejects(RaftStorage.open(`${dir}/x`, {create: true, nodeId: 1}))
      expect(e2.message).to.match(/needs a cluster id and a node id/)
    })

    it('refuses a data dir of another cluster or another node, naming both', async () => {
      const dir = tmp.make()
      await (await create(dir)).close()
      const e1 = await rejects(RaftStorage.open(dir, {clusterId: 8, nodeId: 1}))
      expect(e1).to.have.property('code', 'FOREIGN_DATA_DIR')
      expect(e1.message).to.contain(dir).and.contain('cluster 7').and.contain('cluster 8')
      const e2 = await rejects(RaftStorage.open(dir, {clusterId: 7, nodeId: 2, create: true}))
      expect(e2.message).to.contain(dir).and.contain('node 1, not node 2')
    })

    it('refuses a second open of the same dir while it is in use', async () => {
      const dir = tmp.make()
      const s = await create(dir)
      const e = await rejects(RaftStorage.open(dir))
      expect(e.message).to.contain(dir).and.match(/in use/)
      await s.close()
    })

    it('refuses a corrupted log record, naming the data dir, the key and the problem', async () => {
      const dir = tmp.make()
      const s = await create(dir)
      await s.persist({entries: ents(1, 5, 1), hardState: {term: 1, vote: 1, commit: 2}})
      await s.close()
      const db = await Db.open(`${dir}/db`, {createIfMissing: false})
      await db.write([{type: 'put', key: logKey(3), value: new Uint8Array([0xff, 0xff, 0xff, 0x07])}])
      await db.close()
      const e = await rejects(RaftStorage.open(dir))
      expect(e).to.have.property('code', 'STORAGE_CORRUPT')
      expect(e.message).to.contain(dir).and.contain('log entry "l/" + 0x0000000000000003')
        .and.contain('eraftpb.Entry')
    })

    it('refuses a log with a gap, a mismatching entry and a corrupt hard state', async () => {
      const dir = tmp.make()
      const s = await create(dir)
      await s.persist({entries: ents(1, 5, 1), hardState: {term: 1, vote: 1, commit: 2}})
      await s.close()
      const db = await Db.open(`${dir}/db`, {createIfMissing: false})
      await db.write([{type: 'del', key: logKey(3)}])
      await db.close()
      expect((await rejects(RaftStorage.open(dir))).message).to.match(/gap: expected index 3, found 4/)
      const db2 = await Db.open(`${dir}/db`, {createIfMissing: false})
      const e4 = await db2.get(logKey(4))
      await db2.write([{type: 'put', key: logKey(3), value: e4!}])
      await db2.close()
      expect((await rejects(RaftStorage.open(dir))).message).to.match(/holds entry index 4, not 3/)
      const db3 = await Db.open(`${dir}/db`, {createIfMissing: false})
      await db3.write([{type: 'del', key: logKey(3)}, {type: 'del', key: logKey(4)}, {type: 'del', key: logKey(5)},
        {type: 'put', key: new TextEncoder().encode('r/hardstate'), value: new Uint8Array([0x08])}])
      await db3.close()
      const e = await rejects(RaftStorage.open(dir))
      expect(e.message).to.contain(dir).and.contain('"r/hardstate"').and.contain('eraftpb.HardState')
    })

    it('refuses every kind of undecodable record, naming the data dir, the key and the problem', async () => {
      const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
      const garbage = new Uint8Array([0xff, 0xff, 0xff, 0x07])
      const cases: Array<[Uint8Array, string, RegExp]> = [
        [enc('r/ident'), '"r/ident"', /expected 17 bytes, found 4/],
        [enc('r/confstate'), '"r/confstate"', /eraftpb\.ConfState/],
        [enc('r/snapshot'), '"r/snapshot"', /eraftpb\.Snapshot/],
        [enc('r/logstart'), '"r/logstart"', /expected 16 bytes, found 4/],
        [enc('r/applied'), '"r/applied"', /expected 16 bytes, found 4/],
        [memberKey(2), '"m/" + 0x0000000000000002', /raftctl\.v1\.Member/],
        [enc('m/abc'), '"m/" + 0x616263', /a member key is "m\/" \+ 8-byte id/],
        [enc('l/abc'), 'log entry "l/" + 0x616263', /a log key is "l\/" \+ 8-byte index/],
      ]
      for (const [key, name, problem] of cases) {
        const dir = tmp.make()
        const s = await create(dir)
        await s.close()
        const db = await Db.open(`${dir}/db`, {createIfMissing: false})
        await db.write([{type: 'put', key, value: garbage}])
        await db.close()
        const e = await rejects(RaftStorage.open(dir))
        expect(e, name).to.have.property('code', 'STORAGE_CORRUPT')
        expect(e.message, name).to.contain(`data dir ${dir}: record `).and.contain(name).and.match(problem)
      }
    })

    it('refuses a database that has data but no identity record', async () => {
      const dir = tmp.make()
      const db = await Db.open(`${dir}/db`, {createIfMissing: true})
      await db.write([{type: 'put', key: new Uint8Array([1]), value: new Uint8Array([2])}])
      await db.close()
      const e = await rejects(RaftStorage.open(dir, {clusterId: 1, nodeId: 1, create: true}))
      expect(e.message).to.contain(dir).and.match(/no identity record/)
    })
  })
})
