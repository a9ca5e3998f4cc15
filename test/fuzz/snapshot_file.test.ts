// Fuzzing snapshot files (src/kv snapshot_reader / snapshot_format / snapshots / restore_data_dir):
// valid files from random headers and records, then mutated (and often "resealed" with a correct
// SHA-256, so that the checks behind the checksum are reached too), random bytes and
// protobuf-shaped garbage. Parsing gives a SnapshotFileError or a consistent file, in bounded time;
// staging, restoring into a live node and `snapshot restore` into a new data dir either succeed
// (the file was valid) or throw a typed error and leave the data dir exactly as it was.
import {createHash} from 'node:crypto'
import {existsSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {expect} from 'chai'
import fc from 'fast-check'
import type {KeyValue} from '../../src/generated/etcd/mvccpb/kv.js'
import {encodeRecord} from '../../src/kv/codec.js'
import {inspectSnapshotFile, parseSnapshot, SnapshotFileError} from '../../src/kv/index.js'
import {RestoreError, restoreDataDir} from '../../src/kv/restore_data_dir.js'
import {encodeSnapshotFile, type SnapshotRecord} from '../../src/kv/snapshot_format.js'
import {compareBytes, u64be} from '../../src/storage/keys.js'
import {SnapshotOutOfDateError} from '../../src/raft/errors.js'
import {StorageError} from '../../src/storage/errors.js'
import {TempDirs} from '../storage/helpers.js'
import {b, TestNode} from '../kv/helpers.js'
import * as arb from './arbitraries.js'
import {difference, fingerprintOpen} from './datadir.js'
import {
  applyMutations, FUZZ_TITLE, fuzzParams, fuzzTimeout, hex, mutations, protoBytes, randomBytes,
  typedOutcomeAsync,
} from './fuzz.js'

const RUNS = 200
const DISK_RUNS = 25
const CLUSTER = 42

const record = fc.record({
  key: fc.uint8Array({minLength: 1, maxLength: 8}), value: fc.uint8Array({maxLength: 16}),
  create: fc.integer({min: 1, max: 20}), dmod: fc.integer({min: 0, max: 5}), version: fc.integer({min: 1, max: 5}),
})

/** What a valid snapshot file holds. */
const fileDesc = fc.record({
  index: fc.integer({min: 1, max: 40}), term: fc.integer({min: 1, max: 9}), confState: arb.confState,
  members: fc.uniqueArray(arb.member, {selector: (m) => m.id, maxLength: 3}),
  records: fc.uniqueArray(record, {selector: (r) => hex(r.key), maxLength: 6}),
  extraRevision: fc.integer({min: 0, max: 3}),
  compact: fc.integer({min: 0, max: 30}),
  clusterId: fc.constantFrom(CLUSTER, CLUSTER, CLUSTER + 1),
})
type FileDesc = typeof fileDesc extends fc.Arbitrary<infer T> ? T : never

/**
 * A valid file: each record is the one put of its key, at main revision create + dmod (version 1
 * exactly when dmod is 0, as the reader requires), in revision order; a later version's creation
 * is compacted away, so the compact revision is at least its revision (and at most the revision).
 */
async function encodeFile(d: FileDesc): Promise<Uint8Array> {
  const kvs: KeyValue[] = [...d.records].map((r) => ({
    key: r.key, value: r.value, createRevision: r.create, modRevision: r.create + r.dmod, version: r.dmod === 0 ? 1 : Math.max(2, r.version), lease: 0n,
  })).sort((x, y) => x.modRevision - y.modRevision || compareBytes(x.key, y.key))
  const revision = Math.max(1, ...kvs.map((k) => k.modRevision)) + d.extraRevision
  let sub = 0
  const recs: SnapshotRecord[] = kvs.map((kv, i) => {
    sub = i > 0 && kvs[i - 1].modRevision === kv.modRevision ? sub + 1 : 0
    return {revision: Buffer.concat([u64be(kv.modRevision), u64be(sub)]), value: encodeRecord({kind: 'put', kv})}
  })
  async function* records(): AsyncGenerator<SnapshotRecord> { yield* recs }
  const parts: Uint8Array[] = []
  const header = {
    metadata: {index: d.index, term: d.term, confState: d.confState}, members: d.members, keyCount: kvs.length, revision,
    compactRevision: Math.min(Math.max(d.compact, ...kvs.filter((kv) => kv.version > 1).map((kv) => kv.modRevision)), revision), clusterId: d.clusterId,
  }
  for await (const c of encodeSnapshotFile(header, records())) parts.push(c)
  return Buffer.concat(parts)
}

/** Replaces the trailing SHA-256 with the right one, so a mutated file passes the checksum. */
function reseal(file: Uint8Array): Uint8Array {
  if (file.length < 32) return file
  const body = file.subarray(0, file.length - 32)
  return Buffer.concat([body, createHash('sha256').update(body).digest()])
}

/** A hostile snapshot file: a valid one mutated (and often resealed), or garbage. */
const hostileFile = fc.record({
  desc: fileDesc,
  source: fc.constantFrom('valid', 'mutated', 'mutated', 'resealed', 'resealed', 'resealed', 'random', 'proto'),
  muts: mutations, garbage: fc.oneof(randomBytes(300), protoBytes),
  /** Sizes of the chunks the file arrives in (cycled). */
  chunking: fc.array(fc.integer({min: 1, max: 97}), {minLength: 1, maxLength: 4}),
})
type HostileFile = typeof hostileFile extends fc.Arbitrary<infer T> ? T : never

async function materialize(h: HostileFile): Promise<Uint8Array> {
  if (h.source === 'random' || h.source === 'proto') return h.garbage
  const valid = await encodeFile(h.desc)
  if (h.source === 'valid') return valid
  const bad = applyMutations(valid, h.muts)
  return h.source === 'resealed' ? reseal(bad) : bad
}

function chunked(file: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let at = 0, i = 0; at < file.length; i++) {
    const n = sizes[i % sizes.length]
    out.push(file.subarray(at, at + n))
    at += n
  }
  return out
}

async function* stream(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks
}

/** Parses a whole stream with verification; returns the header's key count and revision, the records, and the live keys they leave. */
async function parseAll(chunks: Uint8Array[]): Promise<{keyCount: number, revision: number, recs: Array<{main: number, sub: number, kind: string, kv: KeyValue}>, live: number}> {
  let keyCount = -1
  let revision = -1
  const recs: Array<{main: number, sub: number, kind: string, kv: KeyValue}> = []
  const live = new Set<string>()
  for await (const item of parseSnapshot(stream(chunks), 'fuzzed.snap')) {
    if (item.kind === 'header') ({keyCount, revision} = item.header)
    else if (item.kind === 'record') {
      recs.push({main: item.rev.main, sub: item.rev.sub, kind: item.record.kind, kv: item.record.kv})
      if (item.record.kind === 'put') live.add(hex(item.record.kv.key))
      else live.delete(hex(item.record.kv.key))
    } else if (item.kind === 'end') expect(item.checksumOk).to.equal(true)
  }
  return {keyCount, revision, recs, live: live.size}
}

describe(`fuzz: snapshot files ${FUZZ_TITLE}`, function () {
  this.timeout(fuzzTimeout(RUNS, 3) + 3 * fuzzTimeout(DISK_RUNS, 60))
  const tmp = new TempDirs()
  after(() => tmp.cleanup())

  it('parsing a hostile file gives SnapshotFileError or a consistent file, in any chunking', async () => {
    await fc.assert(fc.asyncProperty(hostileFile, async (h) => {
      const file = await materialize(h)
      const r = await typedOutcomeAsync(() => parseAll(chunked(file, h.chunking)), [SnapshotFileError], 'parsing a snapshot file')
      if (r === undefined) return
      for (const [i, {main, sub, kind, kv}] of r.recs.entries()) {
        expect(kv.key.length).to.be.greaterThan(0)
        expect(kv.modRevision).to.equal(main)
        if (kind === 'put') expect(kv.createRevision).to.be.within(1, kv.modRevision)
        expect(main).to.be.at.most(r.revision)
        const p = r.recs[i - 1]
        if (i > 0) expect(p.main < main || (p.main === main && p.sub < sub), 'records in revision order').to.equal(true)
      }
      // Every key a file of this fuzzer holds is put once, so the header's key count is checkable here.
      if (r.recs.every((x) => x.kind === 'put') && new Set(r.recs.map((x) => hex(x.kv.key))).size === r.recs.length) {
        expect(r.live).to.equal(r.keyCount)
      }
    }), fuzzParams(RUNS))
  })

  it('inspecting a hostile file gives SnapshotFileError or a description of it', async () => {
    const dir = tmp.make('raftctl-fuzz-inspect-')
    await fc.assert(fc.asyncProperty(hostileFile, async (h) => {
      const path = join(dir, 'f.snap')
      writeFileSync(path, await materialize(h))
      const r = await typedOutcomeAsync(() => inspectSnapshotFile(path, {keys: 3}), [SnapshotFileError], 'inspecting a snapshot file')
      if (r !== undefined) expect(r.firstKeys.length).to.be.at.most(Math.min(3, r.records))
    }), fuzzParams(DISK_RUNS))
  })

  describe('into a live node (cluster 42, five keys applied)', () => {
    let node: TestNode | undefined
    const target = async (): Promise<TestNode> => {
      if (node !== undefined) return node
      node = await TestNode.create(tmp.make('raftctl-fuzz-node-'), {clusterId: CLUSTER})
      for (let i = 0; i < 5; i++) await node.put(`k${i}`, `v${i}`)
      return node
    }
    /** After a successful restore the node holds another state: start the next case afresh. */
    const discard = async (): Promise<void> => {
      await node?.close()
      node = undefined
    }
    after(discard)

    it('staging a hostile stream (a snapshot from the leader) stores a valid file or leaves the data dir as it was', async () => {
      await fc.assert(fc.asyncProperty(hostileFile, async (h) => {
        const n = await target()
        const file = await materialize(h)
        const meta = {index: h.desc.index, term: h.desc.term, confState: h.desc.confState}
        const before = await fingerprintOpen(n.dir, n.rs.db)
        const path = await typedOutcomeAsync(() => n.kv.stageSnapshot(meta, stream(chunked(file, h.chunking))),
          [SnapshotFileError], 'staging a snapshot')
        const after = await fingerprintOpen(n.dir, n.rs.db)
        if (path === undefined) {
          expect(difference(before, after), 'a refused snapshot must leave the data dir unchanged').to.equal(undefined)
          return
        }
        // Accepted: exactly the bytes received, under the name of the metadata it was sent for.
        expect(after.snap.get(path.split('/').pop()!)).to.equal(createHash('sha256').update(file).digest('hex'))
        rmSync(path)
        expect(difference(before, await fingerprintOpen(n.dir, n.rs.db))).to.equal(undefined)
      }), fuzzParams(DISK_RUNS))
    })

    it('restoring a hostile file (KvStore.restoreFromFile) replaces the state with a valid one or changes nothing', async () => {
      const dir = tmp.make('raftctl-fuzz-files-')
      await fc.assert(fc.asyncProperty(hostileFile, async (h) => {
        const n = await target()
        const path = join(dir, 'in.snap')
        writeFileSync(path, await materialize(h))
        const before = await fingerprintOpen(n.dir, n.rs.db)
        const header = await typedOutcomeAsync(() => n.kv.restoreFromFile(path),
          [SnapshotFileError, SnapshotOutOfDateError, StorageError], 'restoring a snapshot file')
        if (header === undefined) {
          expect(difference(before, await fingerprintOpen(n.dir, n.rs.db)), 'a refused restore must leave the data dir unchanged').to.equal(undefined)
          return
        }
        expect(n.kv.keyCount).to.equal(header.keyCount)
        expect(n.rs.applied.index).to.equal(header.metadata.index)
        await discard()
      }), fuzzParams(DISK_RUNS))
    })
  })

  it('`snapshot restore` of a hostile file creates a valid data dir or nothing at all', async () => {
    const root = tmp.make('raftctl-fuzz-restore-')
    await fc.assert(fc.asyncProperty(hostileFile, async (h) => {
      const path = join(root, 'in.snap')
      writeFileSync(path, await materialize(h))
      const dataDir = join(root, 'restored')
      const r = await typedOutcomeAsync(() => restoreDataDir({snapshotPath: path, dataDir, nodeId: 1, initialCluster: [{id: 1, peerUrl: '127.0.0.1:2380'}]}),
        [SnapshotFileError, RestoreError], 'restoring a data dir')
      if (r === undefined) {
        expect(existsSync(dataDir), 'a refused restore creates no data dir').to.equal(false)
      } else {
        expect(readdirSync(dataDir).sort()).to.deep.equal(['db', 'snap'])
        rmSync(dataDir, {recursive: true})
      }
      expect(readdirSync(dirname(dataDir)).sort(), 'no staging dir is left behind').to.deep.equal(['in.snap'])
    }), fuzzParams(DISK_RUNS))
  })

})

describe('fuzz regressions: snapshot restore into a live node', function () {
  this.timeout(20_000)
  const tmp = new TempDirs()
  let n: TestNode
  beforeEach(async () => {
    n = await TestNode.create(tmp.make('raftctl-fuzz-reg-'), {clusterId: CLUSTER})
    for (let i = 0; i < 5; i++) await n.put(`k${i}`, `v${i}`)
  })
  afterEach(async () => {
    await n.close()
    tmp.cleanup()
  })
  const desc = (index: number, value: string): FileDesc => ({index, term: 1, members: [],
    confState: {voters: [1], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false},
    records: [{key: new Uint8Array(b('a')), value: new Uint8Array(b(value)), create: 1, dmod: 0, version: 1}], extraRevision: 0, compact: 0, clusterId: CLUSTER})
  const fileOf = async (d: FileDesc, name: string): Promise<string> => {
    const path = join(tmp.make('raftctl-fuzz-reg-file-'), name)
    writeFileSync(path, await encodeFile(d))
    return path
  }

  it('an out-of-date file is refused before it is copied into the snap dir (found by the fuzzer: the copy stayed)', async () => {
    const before = await fingerprintOpen(n.dir, n.rs.db)
    const err = await n.kv.restoreFromFile(await fileOf(desc(1, 'x'), 'old.snap')).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(SnapshotOutOfDateError)
    expect(difference(before, await fingerprintOpen(n.dir, n.rs.db))).to.equal(undefined)
  })

  it('a file is never copied over a different one for the same index and term', async () => {
    await n.kv.stageSnapshot({index: 30, term: 1, confState: desc(30, 'staged').confState}, stream([await encodeFile(desc(30, 'staged'))]))
    const before = await fingerprintOpen(n.dir, n.rs.db)
    const err = await n.kv.restoreFromFile(await fileOf(desc(30, 'other'), 'other.snap')).catch((e: unknown) => e as Error)
    expect(err).to.be.instanceOf(SnapshotFileError)
    expect((err as Error).message).to.match(/covers the same index and term as .*0000000000000001-000000000000001e\.snap but differs from it; refusing to replace it$/)
    expect(difference(before, await fingerprintOpen(n.dir, n.rs.db))).to.equal(undefined)
  })

  it('a valid newer file restores exactly what it holds', async () => {
    const header = await n.kv.restoreFromFile(await fileOf(desc(9, 'new'), 'new.snap'))
    expect(header.metadata.index).to.equal(9)
    expect(n.rs.applied.index).to.equal(9)
    expect(new TextDecoder().decode((await n.get('a'))?.value)).to.equal('new')
    expect(await n.get('k0')).to.equal(undefined)
  })
})
