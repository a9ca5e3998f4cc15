// The RocksDB SimStorage used by raft_property_rocksdb.test.ts: each SimStorage operation maps
// onto RaftStorage as rocks_sim_storage.ts documents, and reopen() is a real restart from disk.
import {expect} from 'chai'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {Ready} from '../../src/raft/raw_node.js'
import {EMPTY_BYTES, EMPTY_CONF_STATE, type Entry, EntryType, type HardState, type Snapshot} from '../../src/raft/types.js'
import {DbError} from '../../src/storage/db.js'
import {RocksSimStorage, RocksStorageFactory} from './rocks_sim_storage.js'
import {ents, rejects} from './helpers.js'

const CS = {...EMPTY_CONF_STATE, voters: [1, 2, 3]}
const CS2 = {...EMPTY_CONF_STATE, voters: [1, 2, 3], learners: [4]}
const BOOT: Snapshot = {data: EMPTY_BYTES, metadata: {index: 1, term: 1, confState: CS}}

function ready(entries: readonly Entry[], hardState?: HardState): Ready {
  return {entries, hardState, committedEntries: [], messages: [], readStates: [], mustSync: true}
}

describe('storage/RocksSimStorage (the property test over RocksDB)', () => {
  let base: string
  let f: RocksStorageFactory
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'raftctl-rocks-sim-'))
    f = new RocksStorageFactory(base)
  })
  afterEach(async () => {
    await f.closeAll()
    rmSync(base, {recursive: true, force: true})
  })

  it('persists, applies conf changes, compacts and restarts from disk with the same state', async () => {
    const s = await f.factory(1, BOOT) as RocksSimStorage
    expect(s.storage.firstIndex()).to.equal(2)
    expect(s.storage.snapshot(0, 0).metadata).to.deep.equal(BOOT.metadata)
    const log = ents(2, 6, 2)
    log[2] = {...log[2], entryType: EntryType.EntryConfChangeV2} // index 4
    await s.persist(ready(log, {term: 2, vote: 1, commit: 5}))
    await s.saveConfState(CS2)
    // Entries 2 and 3 were marked applied, 4 applied with its ConfState, in order.
    expect(s.storage.applied).to.deep.equal({index: 4, term: 2})
    expect(s.storage.confState).to.deep.equal(CS2)
    await s.compact(5, CS2, new Uint8Array([1, 2]))
    expect(s.storage.firstIndex()).to.equal(6)
    expect(s.storage.snapshot(0, 0)).to.deep.include({metadata: {index: 5, term: 2, confState: CS2}})

    const old = s.storage
    const r = await s.reopen() as RocksSimStorage
    expect(r.storage).to.not.equal(old)
    expect(() => old.db.get(new Uint8Array([1]))).to.throw(DbError, /is closed/) // really closed
    expect(f.openCount).to.equal(1)
    expect(f.stats.reopened).to.equal(1)
    expect(r.storage.initialState()).to.deep.equal({hardState: {term: 2, vote: 1, commit: 5}, confState: CS2})
    expect(r.storage.firstIndex()).to.equal(6)
    expect(r.storage.lastIndex()).to.equal(6)
    expect(r.storage.applied).to.deep.equal({index: 5, term: 2})
    expect([...r.storage.snapshot(0, 0).data]).to.deep.equal([1, 2])
  })

  it('keeps the trailing entries before a snapshot when configured to', async () => {
    const g = new RocksStorageFactory(join(base, 'g'), 2)
    try {
      const s = await g.factory(1, BOOT) as RocksSimStorage
      await s.persist(ready(ents(2, 8, 1), {term: 1, vote: 1, commit: 8}))
      await s.compact(7, CS, EMPTY_BYTES)
      expect(s.storage.snapshot(0, 0).metadata.index).to.equal(7)
      expect(s.storage.firstIndex()).to.equal(6)
      // Compacting to or below the snapshot again records nothing new.
      await s.compact(6, CS, EMPTY_BYTES)
      expect(s.storage.snapshot(0, 0).metadata.index).to.equal(7)
      expect(g.stats.snapshotsRecorded).to.equal(1)
    } finally {
      await g.closeAll()
    }
  })

  it('starts a spare node empty, and a new scenario closes the previous one and removes its dirs', async () => {
    const spare = await f.factory(2, undefined) as RocksSimStorage
    expect(spare.storage.firstIndex()).to.equal(1)
    expect(spare.storage.lastIndex()).to.equal(0)
    expect(spare.storage.initialState().confState).to.deep.equal(EMPTY_CONF_STATE)
    const dir = spare.storage.dir
    await f.factory(1, BOOT)
    expect(existsSync(dir)).to.equal(false)
    expect(f.openCount).to.equal(1)
  })

  it('refuses a saveConfState without a conf-change entry to apply', async () => {
    const s = await f.factory(1, BOOT) as RocksSimStorage
    await s.persist(ready(ents(2, 3, 1), {term: 1, vote: 1, commit: 3}))
    expect((await rejects(s.saveConfState(CS2))).message).to.match(/no conf-change entry follows applied index 1/)
    expect(s.storage.applied.index).to.equal(1) // nothing was marked applied
  })
})
