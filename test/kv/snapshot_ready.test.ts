/**
 * Installing a snapshot that arrived in a Ready: the state machine, the log reset AND the
 * Ready's entries and hard state are one synced batch (issue 4: one atomic batch per Ready).
 */
import {expect} from 'chai'
import {fileChunks} from '../../src/kv/index.js'
import {SnapshotOutOfDateError} from '../../src/raft/errors.js'
import type {SnapshotMetadata} from '../../src/raft/types.js'
import {LOG_PREFIX, logIndexOf, prefixRangeEnd} from '../../src/storage/keys.js'
import {StorageMisuseError} from '../../src/storage/index.js'
import {ents, rejects, TempDirs} from '../storage/helpers.js'
import {putOp, s, TestNode} from './helpers.js'

async function logKeysOnDisk(n: TestNode): Promise<number[]> {
  const out: number[] = []
  for await (const [k] of n.rs.db.iterate({gte: LOG_PREFIX, lt: prefixRangeEnd(LOG_PREFIX), values: false})) {
    out.push(logIndexOf(k)!)
  }
  return out
}

/** Everything a restore could change, read from memory and from RocksDB. */
async function stateOf(n: TestNode): Promise<unknown> {
  return {
    first: n.rs.firstIndex(), last: n.rs.lastIndex(), hs: n.rs.hardState, cs: n.rs.confState,
    applied: n.rs.applied, snap: n.rs.snapshot(0, 0).metadata, members: n.rs.members(),
    revision: n.kv.revision, keyCount: n.kv.keyCount, logKeys: await logKeysOnDisk(n),
    log: n.rs.entries(n.rs.firstIndex(), n.rs.lastIndex() + 1).map((e) => `${e.index}/${e.term}/${s(e.data)}`),
    kvs: (await n.range('\0', '\0')).kvs.map((kv) => `${s(kv.key)}=${s(kv.value)}@${kv.modRevision}`),
  }
}

describe('kv/snapshot restore with the rest of its Ready', function () {
  this.timeout(30_000)
  const tmp = new TempDirs()
  const nodes: TestNode[] = []
  let meta: SnapshotMetadata
  let receiver: TestNode

  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.close().catch(() => {})
    tmp.cleanup()
  })

  /**
   * A leader-side node with a snapshot at index meta.index (term 1), and a receiving node with
   * two applied entries, unapplied entries 3..meta.index+3 (term 1) and the file staged.
   */
  beforeEach(async () => {
    const a = await TestNode.create(tmp.make('raftctl-snapready-'), {nodeId: 1})
    nodes.push(a)
    for (let i = 0; i < 10; i++) await a.txn({success: [putOp(`key/${i}`, `v${i}`), putOp(`other/${i}`, 'x')]})
    const info = await a.kv.createSnapshot()
    meta = info.metadata
    receiver = await TestNode.create(tmp.make('raftctl-snapready-'), {nodeId: 2, bootstrap: undefined})
    nodes.push(receiver)
    await receiver.put('stale', 'old')
    await receiver.put('key/3', 'old')
    await receiver.rs.persist({entries: ents(3, meta.index + 3, 1), hardState: {term: 1, vote: 1, commit: 2}})
    await receiver.kv.stageSnapshot(meta, fileChunks(info.path))
  })

  it('writes the snapshot, the entries after it and the hard state in exactly one synced batch', async () => {
    const before = receiver.rs.db.batches
    // The Ready's entries may start at or before the snapshot index; those are dropped.
    const entries = [...ents(meta.index, meta.index, 1), ...ents(meta.index + 1, meta.index + 2, 2)]
    const hardState = {term: 2, vote: 3, commit: meta.index + 1}
    await receiver.kv.restoreSnapshot(meta, {entries, hardState})
    expect(receiver.rs.db.batches).to.equal(before + 1)
    expect(receiver.rs.db.lastSync).to.equal(true)

    const check = async (n: TestNode): Promise<void> => {
      expect(n.rs.snapshot(0, 0).metadata).to.deep.equal(meta)
      expect(n.rs.applied).to.deep.equal({index: meta.index, term: 1})
      expect(n.rs.hardState).to.deep.equal(hardState)
      expect(n.rs.firstIndex()).to.equal(meta.index + 1)
      expect(n.rs.lastIndex()).to.equal(meta.index + 2)
      expect(n.rs.term(meta.index)).to.equal(1)
      // The old log (3..meta.index+3, term 1) is gone; the new entries replaced it.
      expect(await logKeysOnDisk(n)).to.deep.equal([meta.index + 1, meta.index + 2])
      expect(n.rs.entries(meta.index + 1, meta.index + 3).map((e) => `${e.term}/${s(e.data)}`))
        .to.deep.equal([`2/e${meta.index + 1}`, `2/e${meta.index + 2}`])
      const kvs = (await n.range('\0', '\0')).kvs
      expect(kvs).to.have.length(20)
      expect(kvs.find((kv) => s(kv.key) === 'key/3')!.value).to.deep.equal(Buffer.from('v3'))
      expect(kvs.some((kv) => s(kv.key) === 'stale')).to.equal(false)
    }
    await check(receiver)
    await receiver.reopen()
    await check(receiver)
  })

  it('without Ready writes keeps the restore batch as before (hard state raised to the snapshot)', async () => {
    const before = receiver.rs.db.batches
    await receiver.kv.restoreSnapshot(meta)
    expect(receiver.rs.db.batches).to.equal(before + 1)
    expect(receiver.rs.hardState).to.deep.equal({term: 1, vote: 1, commit: meta.index})
    expect(receiver.rs.lastIndex()).to.equal(meta.index)
    expect(await logKeysOnDisk(receiver)).to.deep.equal([])
  })

  it('refuses a bad Ready before writing: nothing changes, in memory or on disk', async () => {
    const want = await stateOf(receiver)
    const before = receiver.rs.db.batches
    const gap = await rejects(receiver.kv.restoreSnapshot(meta, {entries: ents(meta.index + 2, meta.index + 3, 2)}))
    expect(gap).to.be.instanceOf(StorageMisuseError)
    expect(gap.message).to.match(new RegExp(`cannot append entry ${meta.index + 2}: the log ends at ${meta.index}`))
    const commit = await rejects(receiver.kv.restoreSnapshot(meta, {
      entries: ents(meta.index + 1, meta.index + 1, 2), hardState: {term: 2, vote: 0, commit: meta.index + 2},
    }))
    expect(commit.message).to.match(new RegExp(`hard state commit ${meta.index + 2} is beyond the last log index ${meta.index + 1}`))
    const badHs = await rejects(receiver.kv.restoreSnapshot(meta, {hardState: {term: -1, vote: 0, commit: meta.index}}))
    expect(badHs.message).to.match(/hardState.term -1/)
    expect(receiver.rs.db.batches).to.equal(before)
    expect(await stateOf(receiver)).to.deep.equal(want)
    await receiver.reopen()
    expect(await stateOf(receiver)).to.deep.equal(want)

    // Nothing was left half-done or locked: the same snapshot installs afterwards.
    await receiver.kv.restoreSnapshot(meta, {entries: ents(meta.index + 1, meta.index + 1, 2), hardState: {term: 2, vote: 0, commit: meta.index}})
    expect(receiver.rs.lastIndex()).to.equal(meta.index + 1)
    expect(receiver.rs.hardState).to.deep.equal({term: 2, vote: 0, commit: meta.index})
  })

  it('refuses a snapshot that is not newer than the applied index without writing its Ready', async () => {
    await receiver.kv.restoreSnapshot(meta)
    const want = await stateOf(receiver)
    const before = receiver.rs.db.batches
    const err = await rejects(receiver.kv.restoreSnapshot(meta, {entries: ents(meta.index + 1, meta.index + 1, 2), hardState: {term: 2, vote: 0, commit: meta.index}}))
    expect(err).to.be.instanceOf(SnapshotOutOfDateError)
    expect(receiver.rs.db.batches).to.equal(before)
    expect(await stateOf(receiver)).to.deep.equal(want)
    // The server then persists the Ready's entries and hard state on their own (one batch).
    await receiver.rs.persist({entries: ents(meta.index + 1, meta.index + 1, 2), hardState: {term: 2, vote: 0, commit: meta.index}})
    expect(receiver.rs.db.batches).to.equal(before + 1)
    expect(receiver.rs.lastIndex()).to.equal(meta.index + 1)
  })
})
