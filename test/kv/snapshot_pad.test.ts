/**
 * A snapshot file re-emitted for etcd's Maintenance.Snapshot (kv/snapshot_pad.ts): its size is 32
 * more than a multiple of 512 (what etcdctl snapshot save checks), it is still a valid snapshot
 * file with the same header and records, and a file damaged on disk makes the stream fail.
 */
import {expect} from 'chai'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {encodeRecord} from '../../src/kv/codec.js'
import {etcdSizedSnapshot, paddingFor} from '../../src/kv/snapshot_pad.js'
import {encodeSnapshotFile, type SnapshotRecord} from '../../src/kv/snapshot_format.js'
import {parseSnapshot} from '../../src/kv/snapshot_reader.js'
import {EMPTY_CONF_STATE} from '../../src/raft/index.js'
import {u64be} from '../../src/storage/keys.js'
import {TempDirs} from '../storage/helpers.js'

/** A valid snapshot file of `n` keys, each put once with a value of `valueBytes` bytes. */
async function file(n: number, valueBytes: number): Promise<Buffer> {
  const recs: SnapshotRecord[] = Array.from({length: n}, (_, i) => ({
    revision: Buffer.concat([u64be(i + 2), u64be(0)]),
    value: encodeRecord({kind: 'put', kv: {key: Buffer.from(`k${i}`), value: Buffer.alloc(valueBytes, 7), createRevision: i + 2,
      modRevision: i + 2, version: 1, lease: 0n}}),
  }))
  async function* records(): AsyncGenerator<SnapshotRecord> { yield* recs }
  const header = {
    metadata: {index: 5, term: 2, confState: {...EMPTY_CONF_STATE, voters: [1]}},
    members: [{id: 1, name: 'node1', peerUrls: ['127.0.0.1:2380'], clientUrls: []}], keyCount: n, revision: n + 1, compactRevision: 0, clusterId: 42,
  }
  const parts: Uint8Array[] = []
  for await (const c of encodeSnapshotFile(header, records())) parts.push(c)
  return Buffer.concat(parts)
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Uint8Array[] = []
  for await (const c of chunks) out.push(c)
  return Buffer.concat(out)
}

/** The header and the raw records of a snapshot file, verified (checksum included). */
async function parsed(bytes: Buffer): Promise<{header: unknown, records: string[]}> {
  let header: unknown
  const records: string[] = []
  async function* one(): AsyncGenerator<Uint8Array> { yield bytes }
  for await (const item of parseSnapshot(one(), 'test', {verify: true})) {
    if (item.kind === 'header') header = item.header
    else if (item.kind === 'record') records.push(Buffer.concat([item.raw.revision, item.raw.value]).toString('hex'))
  }
  return {header, records}
}

describe('kv/snapshot_pad: snapshot downloads in the size etcdctl accepts', function () {
  this.timeout(60_000)
  const dirs = new TempDirs()
  after(() => dirs.cleanup())

  it('finds a padding for every remainder', () => {
    for (let need = 1; need < 512; need++) {
      const p = paddingFor(need)
      const added = 1 + (p < 128 ? 1 : 2) + p
      expect([need, need + 512], `need ${need}`).to.include(added)
    }
    expect(paddingFor(0)).to.equal(-1)
  })

  it('re-emits files of many sizes as valid snapshot files of the same content, 32 more than a multiple of 512', async () => {
    const dir = dirs.make()
    const remainders = new Set<number>()
    for (let n = 0; n < 12; n++) {
      for (const valueBytes of [0, 1, 37, 250, 511, 1300]) {
        const original = await file(n, valueBytes)
        remainders.add(original.length % 512)
        const path = join(dir, `s-${n}-${valueBytes}.snap`)
        writeFileSync(path, original)
        const sized = await etcdSizedSnapshot(path, original.length)
        const bytes = await collect(sized.chunks)
        expect(bytes.length, 'the announced size').to.equal(sized.size)
        expect(bytes.length % 512, `${n} records of ${valueBytes} bytes`).to.equal(32)
        expect(await parsed(bytes)).to.deep.equal(await parsed(original))
      }
    }
    expect(remainders.size, 'the originals had many sizes').to.be.greaterThan(30)
  })

  it('fails the stream when the file was damaged on disk', async () => {
    const original = await file(3, 100)
    original[original.length - 40] ^= 0xff
    const path = join(dirs.make(), 'damaged.snap')
    writeFileSync(path, original)
    const sized = await etcdSizedSnapshot(path, original.length)
    const err = await collect(sized.chunks).then(() => undefined, (e: unknown) => e as Error)
    expect(err?.message).to.match(/checksum mismatch; it was damaged on disk$/)
  })
})
