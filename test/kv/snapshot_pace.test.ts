/**
 * How a snapshot build is made cheap and paced: records are copied from the stored values
 * without decoding and re-encoding them (recordFromStored, byte-identical to KeyValue.encode),
 * the file is identical to the one the plain encoder writes, and the build awaits its pacer
 * before every slice of about SLICE_BYTES of records.
 */
import {readFileSync} from 'node:fs'
import {expect} from 'chai'
import fc from 'fast-check'
import {KeyValue} from '../../src/generated/raftctl/v1/kv.js'
import {encodeSnapshotFile} from '../../src/kv/index.js'
import {encodeStoredKv} from '../../src/kv/codec.js'
import {MAX_REST_MS, restMs, SLICE_BYTES} from '../../src/kv/snapshot_pace.js'
import {recordFromStored} from '../../src/kv/snapshot_format.js'
import {USER_PREFIX} from '../../src/storage/keys.js'
import {TempDirs} from '../storage/helpers.js'
import {putOp, TestNode} from './helpers.js'

const revision = fc.integer({min: 1, max: Number.MAX_SAFE_INTEGER})

describe('kv/snapshots: cheap, paced builds', function () {
  this.timeout(60_000)
  const tmp = new TempDirs()
  let n: TestNode | undefined
  afterEach(async () => {
    await n?.close()
    n = undefined
    tmp.cleanup()
  })

  it('builds each record from the stored value, byte for byte what KeyValue.encode gives', () => {
    fc.assert(fc.property(
      fc.uint8Array({minLength: 1, maxLength: 20_000}), revision, revision, revision, fc.uint8Array({maxLength: 3000}),
      (key, createRevision, modRevision, version, value) => {
        const kv: KeyValue = {key, createRevision, modRevision, version, value}
        const direct = KeyValue.encode(kv).finish()
        return Buffer.from(recordFromStored(key, encodeStoredKv(kv))).equals(Buffer.from(direct))
      }), {numRuns: 300})
  })

  it('writes the same file as the plain encoder, and awaits the pacer before every slice', async () => {
    const calls: number[] = []
    n = await TestNode.create(tmp.make('raftctl-pace-'), {}, {snapshotPacer: async (ms) => { calls.push(ms) }})
    const value = 'x'.repeat(1000)
    for (let i = 0; i < 2000; i += 250) {
      const ops = Array.from({length: 250}, (_, j) => putOp(`key/${String(i + j).padStart(5, '0')}`, value))
      await n.txn({success: ops})
    }
    await n.put('\xff\x00binary', 'y'.repeat(300))
    const info = await n.kv.createSnapshot()
    const kvs = (await n.range('\0', '\0')).kvs
    const header = {
      metadata: info.metadata, members: n.rs.members(), keyCount: kvs.length, revision: n.kv.revision, clusterId: n.rs.clusterId,
    }
    async function* records(): AsyncGenerator<KeyValue> { yield* kvs }
    const parts: Uint8Array[] = []
    for await (const c of encodeSnapshotFile(header, records())) parts.push(c)
    expect(readFileSync(info.path).equals(Buffer.concat(parts))).to.equal(true)

    const stored = kvs.reduce((sum, kv) => sum + USER_PREFIX.length + kv.key.length + encodeStoredKv(kv).length, 0)
    expect(calls[0], 'the first slice starts without a rest').to.equal(0)
    expect(calls.length).to.be.at.least(Math.floor(stored / SLICE_BYTES))
    expect(calls.length).to.be.at.most(Math.ceil(stored / SLICE_BYTES) + 1)
    expect(calls.slice(1).every((ms) => ms >= 0)).to.equal(true)
  })

  it('rests as long as the slice took times the ratio, never more than MAX_REST_MS', () => {
    expect(restMs(0, 1)).to.equal(0)
    expect(restMs(12, 1)).to.equal(12)
    expect(restMs(12, 2)).to.equal(24)
    expect(restMs(10_000, 1)).to.equal(MAX_REST_MS)
    expect(restMs(-3, 1)).to.equal(0)
  })
})
