/**
 * Compaction: logical at apply (reads and history below it fail as compacted), physical in
 * bounded background batches that keep exactly each key's latest put at or below the compact
 * revision, resume after a crash from their cursor, and never change what hashKV reports.
 */
import {expect} from 'chai'
import {decodeRecord} from '../../src/kv/codec.js'
import {COMPACT_CURSOR_KEY} from '../../src/kv/compaction.js'
import {HISTORY_PREFIX, prefixRangeEnd, REV_PREFIX, revOfKey} from '../../src/storage/keys.js'
import {rejects, TempDirs} from '../storage/helpers.js'
import {putOp, s, TestNode} from './helpers.js'

/** The R/ records on disk as "main.sub:kind:key". */
async function records(n: TestNode): Promise<string[]> {
  const out: string[] = []
  for await (const [k, v] of n.rs.db.iterate({gte: REV_PREFIX, lt: prefixRangeEnd(REV_PREFIX)})) {
    const rev = revOfKey(k)!
    const d = decodeRecord(v, rev.main)
    if (!d.ok) throw new Error(d.problem)
    out.push(`${rev.main}.${rev.sub}:${d.value.kind}:${s(d.value.kv.key)}`)
  }
  return out
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for the physical compaction')
    await new Promise((r) => setTimeout(r, 10))
  }
}

async function indexEntries(n: TestNode): Promise<number> {
  let count = 0
  for await (const _ of n.rs.db.iterate({gte: HISTORY_PREFIX, lt: prefixRangeEnd(HISTORY_PREFIX), values: false})) count += 1
  return count
}

describe('kv/compaction', function () {
  this.timeout(60_000)
  const tmp = new TempDirs()
  const nodes: TestNode[] = []
  const node = async (batchEntries?: number, afterBatch?: (p: {batch: number}) => void): Promise<TestNode> => {
    const n = await TestNode.create(tmp.make('raftctl-compact-'), {}, {compaction: {batchEntries, afterBatch}})
    nodes.push(n)
    return n
  }
  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.close().catch(() => {})
    tmp.cleanup()
  })

  /** a: put 2, put 3 | b: put 4, del 5 | c: txn put 6.0 with d 6.1, put 7 | a: put 8 */
  async function script(n: TestNode): Promise<void> {
    await n.put('a', '1')
    await n.put('a', '2')
    await n.put('b', '1')
    await n.del('b')
    await n.txn({success: [putOp('c', '1'), putOp('d', '1')]})
    await n.put('c', '2')
    await n.put('a', '3')
  }

  it('keeps exactly each key\'s latest put at or below the compact revision, drops tombstones, keeps everything after', async () => {
    const n = await node()
    await script(n)
    const r = await n.compact(6)
    expect(r.error).to.equal(undefined)
    expect(r.compaction!.header!.revision, 'the answer carries the store revision').to.equal(8)
    expect(n.kv.compactRevision).to.equal(6)
    await n.kv.waitPhysicalCompaction(6)
    expect(n.kv.physicalRevision).to.equal(6)
    expect(await records(n)).to.deep.equal(['3.0:put:a', '6.0:put:c', '6.1:put:d', '7.0:put:c', '8.0:put:a'])
    expect(await indexEntries(n)).to.equal(5)
    expect(await n.rs.db.get(COMPACT_CURSOR_KEY), 'no cursor once finished').to.equal(undefined)
    // Reads at the compact revision and above are unchanged; below it they fail.
    expect((await n.range('\0', '\0', {revision: 6})).kvs.map((kv) => `${s(kv.key)}=${s(kv.value)}@${kv.modRevision}`))
      .to.deep.equal(['a=2@3', 'c=1@6', 'd=1@6'])
    const e = await rejects(n.range('a', '', {revision: 5}))
    expect(e).to.have.property('code', 'COMPACTED')
    expect(e).to.have.property('compactRevision', 6)
    expect(await rejects((async () => { for await (const _ of n.kv.history(5)) break })())).to.have.property('code', 'COMPACTED')
  })

  it('answers etcd\'s errors for a revision already compacted or in the future, applied as no-ops', async () => {
    const n = await node()
    await script(n)
    expect((await n.compact(4)).error).to.equal(undefined)
    expect((await n.compact(4)).error).to.have.property('code', 'COMPACTED')
    expect((await n.compact(3)).error).to.have.property('code', 'COMPACTED')
    expect((await n.compact(9)).error).to.have.property('code', 'FUTURE_REVISION')
    expect((await n.compact(8)).error, 'the current revision may be compacted').to.equal(undefined)
    expect(n.kv.compactRevision).to.equal(8)
    expect(n.kv.revision).to.equal(8)
  })

  it('resumes after a crash in the middle from its cursor, and finishes with the same records', async () => {
    const crashed = 'crash after the first batch'
    const n = await node(2, ({batch}) => {
      if (batch === 1) throw new Error(crashed)
    })
    for (let i = 0; i < 10; i++) await n.txn({success: [putOp(`a${i}`, 'x'), putOp(`b${i}`, 'y')]})
    for (let i = 0; i < 10; i++) await n.put(`a${i}`, 'z')
    const compactAt = n.kv.revision
    await n.compact(compactAt)
    const err = await rejects(n.kv.waitPhysicalCompaction(compactAt))
    expect(err.message).to.equal(crashed)
    expect(n.kv.physicalRevision, 'not finished').to.equal(0)
    const cursor = await n.rs.db.get(COMPACT_CURSOR_KEY)
    expect(cursor, 'the first batch left a cursor').to.not.equal(undefined)
    const afterFirst = (await records(n)).length
    expect(afterFirst).to.be.below(30).and.above(20)

    // Restart without the hook: opening writes nothing; resumeCompaction (the server calls it) resumes from the cursor.
    await n.kv.close()
    await n.rs.close()
    const again = await TestNode.create(n.dir, {}, {compaction: {batchEntries: 2}}).catch(() => undefined)
    expect(again, 'the dir exists; it is opened, not created').to.not.equal(undefined)
    nodes.push(again!)
    await new Promise((r) => setTimeout(r, 50))
    expect(await records(again!), 'nothing deleted by the open itself').to.have.length(afterFirst)
    again!.kv.resumeCompaction()
    await until(() => again!.kv.physicalRevision === compactAt)
    expect(await records(again!)).to.deep.equal([
      ...Array.from({length: 10}, (_, i) => `${i + 2}.1:put:b${i}`), ...Array.from({length: 10}, (_, i) => `${i + 12}.0:put:a${i}`),
    ].sort((x, y) => parseFloat(x) - parseFloat(y)))
    expect(await again!.rs.db.get(COMPACT_CURSOR_KEY)).to.equal(undefined)
    expect(again!.kv.physicalRevision).to.equal(compactAt)
  })

  it('reports the same hashKV on two stores that applied the same entries but compacted physically to different points', async () => {
    const x = await node()
    const y = await node(2, ({batch}) => {
      if (batch === 1) throw new Error('stop y after one batch')
    })
    for (const n of [x, y]) {
      await script(n)
      await n.compact(6)
      await n.put('e', '1')
    }
    await x.kv.waitPhysicalCompaction(6)
    await rejects(y.kv.waitPhysicalCompaction(6))
    expect((await records(x)).length).to.be.below((await records(y)).length)
    const [hx, hy] = [await x.kv.hashKV(), await y.kv.hashKV()]
    expect(hx).to.deep.equal(hy)
    expect(hx).to.deep.include({compactRevision: 6, revision: 9, hashRevision: 9})
    expect(hx.hash).to.equal(Number.parseInt(hx.digest.slice(0, 8), 16))
    // At an older revision too, and the hash differs once the histories differ.
    expect((await x.kv.hashKV(7)).hash).to.equal((await y.kv.hashKV(7)).hash)
    expect((await x.kv.hashKV(7)).hash).to.not.equal(hx.hash)
    await y.put('e', '2')
    expect((await y.kv.hashKV()).hash).to.not.equal(hx.hash)
    expect(await rejects(x.kv.hashKV(5))).to.have.property('code', 'COMPACTED')
    expect(await rejects(x.kv.hashKV(10))).to.have.property('code', 'FUTURE_REVISION')
  })

  it('is idempotent on replay: a compaction entry applied twice changes nothing the second time', async () => {
    const n = await node()
    await script(n)
    const r = await n.compact(6)
    const entry = n.rs.entries(r.index, r.index + 1)[0]
    expect((await n.kv.apply(entry)).applied).to.equal(false)
    await n.reopen()
    expect(n.kv.compactRevision).to.equal(6)
    await n.kv.waitPhysicalCompaction(6)
    expect((await n.kv.apply(entry)).applied).to.equal(false)
    expect(await records(n)).to.have.length(5)
  })
})

describe('kv/compaction and snapshot restore', function () {
  this.timeout(60_000)
  const tmp = new TempDirs()
  afterEach(() => tmp.cleanup())

  it('stops a physical compaction when a snapshot replaces the state, and leaves the restored records alone', async () => {
    // The source of the snapshot: its own history, nothing compacted.
    const src = await TestNode.create(tmp.make('raftctl-compact-src-'), {nodeId: 1})
    for (let i = 0; i < 20; i++) await src.put(`s${i % 2}`, `v${i}`)
    const info = await src.kv.createSnapshot()
    const want = await records(src)
    await src.close()

    let release!: () => void
    const held = new Promise<void>((r) => { release = r })
    let entered!: () => void
    const inBatch = new Promise<void>((r) => { entered = r })
    const n = await TestNode.create(tmp.make('raftctl-compact-dst-'), {nodeId: 2, bootstrap: undefined}, {compaction: {
      batchEntries: 2, afterBatch: async ({batch}) => {
        if (batch === 1) {
          entered()
          await held
        }
      },
    }})
    try {
      for (let i = 0; i < 10; i++) await n.put(`a${i % 3}`, `x${i}`)
      await n.compact(n.kv.revision)
      n.kv.resumeCompaction()
      await inBatch
      await n.kv.restoreFromFile(info.path)
      release()
      await until(() => n.kv.physicalRevision === n.kv.compactRevision)
      await new Promise((r) => setTimeout(r, 50))
      expect(n.kv.compactRevision, 'the restored meta').to.equal(0)
      expect(await records(n), 'exactly the snapshot\'s records').to.deep.equal(want)
      expect(await n.rs.db.get(COMPACT_CURSOR_KEY)).to.equal(undefined)
    } finally {
      release()
      await n.close()
    }
  })
})
