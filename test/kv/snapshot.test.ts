import {expect} from 'chai'
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import type {RequestOp} from '../../src/generated/etcd/etcdserverpb/kv.js'
import type {KeyValue} from '../../src/generated/etcd/mvccpb/kv.js'
import {
  fileChunks, inspectSnapshotFile, parseSnapshot, prefixEnd, SnapshotFileError, verifySnapshot,
  writeFileAtomic,
} from '../../src/kv/index.js'
import {CHUNK_BYTES} from '../../src/kv/snapshot_format.js'
import {SnapshotOutOfDateError} from '../../src/raft/errors.js'
import {EMPTY_CONF_STATE} from '../../src/raft/types.js'
import {TempDirs, rejects} from '../storage/helpers.js'
import {b, CS, MEMBERS, putOp, putReq, s, TestNode} from './helpers.js'

/** Deterministic pseudo-random bytes (xorshift), so failures are reproducible. */
function rng(seed: number): () => number {
  let x = seed
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 2 ** 32
  }
}

async function fill(n: TestNode, keys: number, seed: number): Promise<void> {
  const r = rng(seed)
  for (let i = 0; i < keys; i += 100) {
    const ops: RequestOp[] = []
    for (let j = i; j < Math.min(keys, i + 100); j++) {
      const value = new Uint8Array(Math.floor(r() * 64)).map(() => Math.floor(r() * 256))
      ops.push({requestPut: {...putReq(`key/${String(j).padStart(5, '0')}`, ''), value}})
    }
    await n.txn({success: ops})
  }
  await n.put('key/00007', 'updated')
  await n.put('\xff\x00binary', 'x')
  await n.del('key/001', s(prefixEnd(b('key/001'))!)) // deletes key/00100..key/00199
}

async function all(n: TestNode): Promise<KeyValue[]> {
  return (await n.range('\0', '\0')).kvs
}

describe('kv/snapshots', function () {
  this.timeout(60_000)
  const tmp = new TempDirs()
  const nodes: TestNode[] = []
  const node = async (nodeId = 1, bootstrap = true): Promise<TestNode> => {
    const n = await TestNode.create(tmp.make('raftctl-snap-'), bootstrap ? {nodeId} : {nodeId, bootstrap: undefined})
    nodes.push(n)
    return n
  }
  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.close().catch(() => {})
    tmp.cleanup()
  })

  it('round-trips a few thousand keys: snapshot -> stage -> restore gives an equal store', async () => {
    const a = await node(1)
    await fill(a, 3000, 7)
    const m2 = {id: 2, name: 'n2', peerUrls: ['127.0.0.1:2480'], clientUrls: []}
    const lastIndex = a.rs.lastIndex()
    const cc = a.entry(lastIndex + 1, new Uint8Array(0))
    await a.rs.persist({entries: [cc], hardState: {term: 1, vote: 1, commit: cc.index}})
    await a.rs.applyConfChange(cc.index, 1, {confState: {...CS, learners: [2]}, putMembers: [m2]})
    const info = await a.kv.createSnapshot()
    expect(info.created).to.equal(true)
    expect(info.metadata).to.deep.equal({index: cc.index, term: 1, confState: {...CS, learners: [2]}})
    expect(a.rs.snapshot(0, 2).metadata).to.deep.equal(info.metadata)

    // The receiving node already has some state of its own, which the restore must replace.
    const bn = await node(2, false)
    await bn.put('stale/1', 'x')
    await bn.put('key/00007', 'old')
    const staged = await bn.kv.stageSnapshot(info.metadata, fileChunks(info.path))
    expect(staged).to.equal(bn.rs.snapshotPath(info.metadata))
    const header = await bn.kv.restoreSnapshot(info.metadata)
    expect(header.keyCount).to.equal(2901)

    const want = await all(a)
    expect(want).to.have.length(2901)
    expect(await all(bn)).to.deep.equal(want)
    expect(bn.kv.revision).to.equal(a.kv.revision)
    expect(bn.kv.keyCount).to.equal(2901)
    expect(bn.rs.confState).to.deep.equal(a.rs.confState)
    expect(bn.rs.members()).to.deep.equal([...MEMBERS, m2])
    expect(bn.rs.applied).to.deep.equal({index: cc.index, term: 1})
    expect(bn.rs.firstIndex()).to.equal(cc.index + 1)
    expect(bn.rs.lastIndex()).to.equal(cc.index)
    expect(bn.rs.hardState.commit).to.equal(cc.index)
    expect(bn.rs.snapshot(0, 1).metadata).to.deep.equal(info.metadata)

    // The history came along: every revision reads the same, and the hashes agree.
    for (const rev of [2, 5, 10, a.kv.revision - 1]) {
      expect((await bn.range('\0', '\0', {revision: rev})).kvs, `revision ${rev}`).to.deep.equal((await a.range('\0', '\0', {revision: rev})).kvs)
    }
    expect((await bn.kv.hashKV()).hash).to.equal((await a.kv.hashKV()).hash)

    // The restored node continues with the next entry, and survives a restart.
    await bn.put('after', '1')
    expect(bn.kv.revision).to.equal(a.kv.revision + 1)
    await bn.reopen()
    expect((await all(bn)).filter((kv) => s(kv.key) !== 'after')).to.deep.equal(want)
    expect(bn.rs.firstIndex()).to.equal(cc.index + 1)
    expect(await rejects(bn.kv.restoreSnapshot(info.metadata))).to.be.instanceOf(SnapshotOutOfDateError)
  })

  it('snapshots the state at capture time even while later entries apply', async () => {
    const a = await node()
    await fill(a, 300, 1)
    const before = await all(a)
    const rev = a.kv.revision
    const exp = await a.kv.exportSnapshot()
    await a.put('key/00001', 'changed')
    await a.del('\0', '\0')
    const path = join(a.dir, 'backup.snap')
    await writeFileAtomic(path, exp.chunks)
    const live = new Map<string, KeyValue>()
    let last = 0
    for await (const item of parseSnapshot(fileChunks(path), path)) {
      if (item.kind !== 'record') continue
      last = item.rev.main
      if (item.record.kind === 'put') live.set(s(item.record.kv.key), item.record.kv)
      else live.delete(s(item.record.kv.key))
    }
    expect([...live.keys()].sort().map((k) => live.get(k))).to.deep.equal(before)
    expect(last, 'no record of the later entries').to.equal(rev)
    expect((await inspectSnapshotFile(path)).revision).to.equal(rev)
  })

  it('streams the image in bounded chunks, never as one buffer the size of the data', async () => {
    const a = await node()
    const value = 'v'.repeat(1000)
    for (let t = 0; t < 6; t++) {
      await a.txn({success: Array.from({length: 100}, (_, i) => putOp(`big/${t}/${String(i).padStart(3, '0')}`, value))})
    }
    const exp = await a.kv.exportSnapshot()
    const sizes: number[] = []
    const parts: Uint8Array[] = []
    for (;;) {
      const r = await exp.chunks.next()
      if (r.done) {
        expect(r.value.size).to.equal(sizes.reduce((x, y) => x + y, 0))
        break
      }
      sizes.push(r.value.length)
      parts.push(r.value)
    }
    const total = sizes.reduce((x, y) => x + y, 0)
    expect(total).to.be.greaterThan(600 * 1000) // 600 records of 1 KB
    // No chunk holds more than one chunk's worth plus one record (about 1 KB here).
    expect(Math.max(...sizes)).to.be.at.most(CHUNK_BYTES + 2048)
    expect(sizes.length).to.be.at.least(Math.floor(total / (CHUNK_BYTES + 2048)))
    async function* replay(): AsyncGenerator<Uint8Array> {
      yield* parts
    }
    expect((await verifySnapshot(replay(), 'stream')).header.keyCount).to.equal(600)
  })

  it('creates a snapshot only when there is something new, compacts behind it and prunes old files', async () => {
    const a = await node()
    await a.put('a', '1')
    const s1 = await a.kv.createSnapshot()
    expect((await a.kv.createSnapshot()).created).to.equal(false)
    await a.put('a', '2')
    const s2 = await a.kv.createSnapshot()
    await a.put('a', '3')
    const s3 = await a.kv.createSnapshot()
    expect(existsSync(s1.path)).to.equal(false)
    expect(readdirSync(a.rs.snapshotDir).sort()).to.deep.equal([s2.path, s3.path].map((p) => p.split('/').pop()).sort())
    expect(await a.rs.compact(s3.metadata.index, {trailing: 0})).to.equal(3)
    expect(a.rs.firstIndex()).to.equal(4)
  })

  it('restores a backup file from anywhere into a fresh data dir', async () => {
    const a = await node()
    await fill(a, 200, 3)
    const info = await a.kv.createSnapshot()
    const fresh = await node(5, false)
    await fresh.kv.restoreFromFile(info.path)
    expect(await all(fresh)).to.deep.equal(await all(a))
    expect(existsSync(fresh.rs.snapshotPath(info.metadata))).to.equal(true)
  })

  it('carries only the history a compaction kept, and the restored store compacts nothing more', async () => {
    const a = await node()
    await a.put('k', '1')      // 2
    await a.put('gone', '1')   // 3
    await a.put('k', '2')      // 4
    await a.del('gone')        // 5
    await a.put('k', '3')      // 6
    await a.compact(5)
    const info = await a.kv.createSnapshot()
    const revs: string[] = []
    for await (const item of parseSnapshot(fileChunks(info.path), info.path)) {
      if (item.kind === 'record') revs.push(`${item.rev.main}:${item.record.kind}:${s(item.record.kv.key)}`)
    }
    expect(revs, 'k\'s value at 5 (its put at 4) and everything after 5').to.deep.equal(['4:put:k', '6:put:k'])
    expect(await inspectSnapshotFile(info.path)).to.deep.include({compactRevision: 5, revision: 6, records: 2, keyCount: 1})
    const fresh = await node(5, false)
    await fresh.kv.restoreFromFile(info.path)
    expect(fresh.kv.compactRevision).to.equal(5)
    expect(fresh.kv.physicalRevision).to.equal(5)
    expect((await fresh.range('k', '', {revision: 5})).kvs.map((kv) => s(kv.value))).to.deep.equal(['2'])
    expect(await rejects(fresh.range('k', '', {revision: 4}))).to.have.property('code', 'COMPACTED')
    expect((await fresh.kv.hashKV()).hash).to.equal((await a.kv.hashKV()).hash)
  })

  describe('corruption', () => {
    let file: string
    let bytes: Buffer
    let a: TestNode
    beforeEach(async () => {
      a = await node()
      for (let i = 0; i < 20; i++) await n2put(a, i)
      file = (await a.kv.createSnapshot()).path
      bytes = readFileSync(file)
    })
    const n2put = (n: TestNode, i: number) => n.txn({success: [putOp(`k${i}`, `value-${i}`)]})
    const write = (data: Uint8Array): string => {
      const p = join(a.dir, 'bad.snap')
      writeFileSync(p, data)
      return p
    }
    const verifyErr = async (data: Uint8Array): Promise<Error> => {
      const p = write(data)
      return rejects(verifySnapshot(fileChunks(p), p))
    }

    it('accepts the intact file, also when it arrives one byte per chunk', async () => {
      async function* bytewise(): AsyncGenerator<Uint8Array> {
        for (const x of bytes) yield Uint8Array.of(x)
      }
      const r = await verifySnapshot(bytewise(), 'stream')
      expect(r.header.keyCount).to.equal(20)
      expect(r.size).to.equal(bytes.length)
    })

    it('detects truncation at any point, naming the file and the byte', async () => {
      for (const cut of [0, 5, 13, 19, 30, Math.floor(bytes.length / 2), bytes.length - 33, bytes.length - 1]) {
        const e = await verifyErr(bytes.subarray(0, cut))
        expect(e, `cut at ${cut}`).to.be.instanceOf(SnapshotFileError)
        expect(e.message).to.contain('bad.snap').and.contain(`is truncated at byte ${cut}`)
      }
    })

    it('detects any single flipped byte', async () => {
      for (let i = 0; i < bytes.length; i++) {
        const c = Buffer.from(bytes)
        c[i] ^= 0x01
        const e = await verifyErr(c)
        expect(e, `flip at ${i}`).to.be.instanceOf(SnapshotFileError)
      }
      const c = Buffer.from(bytes)
      c[bytes.indexOf('value-7') + 2] ^= 0x20
      expect((await verifyErr(c)).message).to.match(/checksum mismatch/)
    })

    it('names bad magic, an unknown version and trailing bytes', async () => {
      const m = Buffer.from(bytes)
      m.write('NOTASNAP', 0)
      expect((await verifyErr(m)).message).to.match(/not a raftctl snapshot \(bad magic/)
      const v = Buffer.from(bytes)
      v.writeUInt32BE(4, 12)
      expect((await verifyErr(v)).message).to.match(/format version 4; this raftctl reads version 3/)
      v.writeUInt32BE(1, 12)
      expect((await verifyErr(v)).message).to.match(/has format version 1 \(written by a raftctl without MVCC history\); this raftctl reads only version 3: restore it with the raftctl that wrote it, or take a new snapshot/)
      v.writeUInt32BE(2, 12)
      expect((await verifyErr(v)).message).to.match(/has format version 2 \(written by a raftctl without leases\); this raftctl reads only version 3: restore it with the raftctl that wrote it, or take a new snapshot/)
      expect((await verifyErr(Buffer.concat([bytes, Buffer.from([0])]))).message).to.match(/1 unexpected bytes after the checksum/)
    })

    it('inspects a file: metadata, members, counts, first keys and checksum state', async () => {
      const i = await inspectSnapshotFile(file, {keys: 3})
      expect(i).to.deep.include({
        index: 20, term: 1, keyCount: 20, revision: 21, compactRevision: 0, records: 20, clusterId: 42,
        size: bytes.length, checksumOk: true, formatVersion: 3, leaseCount: 0,
      })
      expect(i.confState).to.deep.equal(CS)
      expect(i.members).to.deep.equal(MEMBERS)
      expect(i.firstKeys.map(s), 'the keys of the first records, oldest first').to.deep.equal(['k0', 'k1', 'k2'])
      const c = Buffer.from(bytes)
      c[bytes.indexOf('value-7') + 2] ^= 0x20
      expect((await inspectSnapshotFile(write(c))).checksumOk).to.equal(false)
      expect(await rejects(inspectSnapshotFile(write(bytes.subarray(0, 40))))).to.be.instanceOf(SnapshotFileError)
    })

    it('never applies a corrupt snapshot: staging and restoring fail and the old state stays', async () => {
      const bn = await node(2, false)
      await bn.put('mine', '1')
      const meta = a.rs.snapshot(0, 0).metadata
      const c = Buffer.from(bytes)
      c[bytes.indexOf('value-7') + 2] ^= 0x20
      const e = await rejects(bn.kv.stageSnapshot(meta, [c]))
      expect(e.message).to.match(/checksum mismatch/)
      expect(readdirSync(bn.rs.snapshotDir)).to.deep.equal([])
      const e2 = await rejects(bn.kv.restoreFromFile(write(c)))
      expect(e2).to.be.instanceOf(SnapshotFileError)
      expect((await all(bn)).map((kv) => s(kv.key))).to.deep.equal(['mine'])
      expect(bn.rs.applied.index).to.equal(1)
    })

    it('refuses a snapshot of another cluster or other metadata than announced', async () => {
      const other = await TestNode.create(tmp.make('raftctl-snap-'), {clusterId: 99, nodeId: 3, bootstrap: {confState: EMPTY_CONF_STATE}})
      nodes.push(other)
      const meta = a.rs.snapshot(0, 0).metadata
      expect((await rejects(other.kv.stageSnapshot(meta, fileChunks(file)))).message).to.match(/belongs to cluster 42, not 99/)
      const bn = await node(2, false)
      const e = await rejects(bn.kv.stageSnapshot({...meta, index: meta.index + 1}, fileChunks(file)))
      expect(e.message).to.match(/covers index 20 term 1, but index 21 term 1 was expected/)
    })
  })
})
