/**
 * How a snapshot build is made cheap and paced: records are the stored R/ values, copied without
 * decoding and re-encoding them (each still checked), the file is identical to the one the plain
 * encoder writes from the same records, and the build awaits its pacer before every slice of
 * about SLICE_BYTES of records.
 */
import {readFileSync} from 'node:fs'
import {expect} from 'chai'
import {encodeSnapshotFile, type SnapshotRecord} from '../../src/kv/index.js'
import {MAX_REST_MS, restMs, SLICE_BYTES} from '../../src/kv/snapshot_pace.js'
import {prefixRangeEnd, REV_PREFIX} from '../../src/storage/keys.js'
import {TempDirs} from '../storage/helpers.js'
import {putOp, TestNode} from './helpers.js'

describe('kv/snapshots: cheap, paced builds', function () {
  this.timeout(60_000)
  const tmp = new TempDirs()
  let n: TestNode | undefined
  afterEach(async () => {
    await n?.close()
    n = undefined
    tmp.cleanup()
  })

  it('writes the stored history records byte for byte, as the plain encoder does, and awaits the pacer before every slice', async () => {
    const calls: number[] = []
    n = await TestNode.create(tmp.make('raftctl-pace-'), {}, {snapshotPacer: async (ms) => { calls.push(ms) }})
    const value = 'x'.repeat(1000)
    for (let i = 0; i < 2000; i += 250) {
      const ops = Array.from({length: 250}, (_, j) => putOp(`key/${String(i + j).padStart(5, '0')}`, value))
      await n.txn({success: ops})
    }
    await n.put('\xff\x00binary', 'y'.repeat(300))
    const info = await n.kv.createSnapshot()
    const stored: SnapshotRecord[] = []
    let bytes = 0
    for await (const [k, v] of n.rs.db.iterate({gte: REV_PREFIX, lt: prefixRangeEnd(REV_PREFIX)})) {
      stored.push({revision: k.subarray(REV_PREFIX.length), value: v})
      bytes += k.length + v.length
    }
    const header = {
      metadata: info.metadata, members: n.rs.members(), keyCount: n.kv.keyCount, revision: n.kv.revision,
      compactRevision: n.kv.compactRevision, clusterId: n.rs.clusterId,
    }
    async function* records(): AsyncGenerator<SnapshotRecord> { yield* stored }
    const parts: Uint8Array[] = []
    for await (const c of encodeSnapshotFile(header, records())) parts.push(c)
    expect(readFileSync(info.path).equals(Buffer.concat(parts))).to.equal(true)

    expect(calls[0], 'the first slice starts without a rest').to.equal(0)
    expect(calls.length).to.be.at.least(Math.floor(bytes / SLICE_BYTES))
    expect(calls.length).to.be.at.most(Math.ceil(bytes / SLICE_BYTES) + 1)
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
