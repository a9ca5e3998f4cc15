// Fuzzing the lease decoders: a stored LeaseRecord, the items of a snapshot's lease section, the
// "L/" range at open, and checkpoint entries. Each answers hostile input with a problem sentence
// or a typed error (StorageCorruptError, SnapshotFileError, LeaseError), never a crash, and what
// it accepts is within range.
import {expect} from 'chai'
import fc from 'fast-check'
import {LeaseRecord, LeaseSnapshotItem} from '../../src/generated/raftctl/v1/lease_internal.js'
import {SnapshotFileError} from '../../src/kv/errors.js'
import {checkpointsOf, LeaseError, LeaseStore, LEASE_PREFIX, MAX_LEASE_TTL} from '../../src/lease/index.js'
import {decodeLeaseRecord} from '../../src/lease/records.js'
import {OpList, StorageCorruptError} from '../../src/storage/index.js'
import {FUZZ_TITLE, fuzzParams, hostile, typedOutcome, typedOutcomeAsync} from '../fuzz/fuzz.js'
import {TempDirs} from '../storage/helpers.js'
import {LeaseNode} from './helpers.js'

const record = fc.record({
  TTL: fc.integer({min: 1, max: MAX_LEASE_TTL}), remainingTTL: fc.integer({min: 0, max: 1000}), grantedIndex: fc.integer({min: 1, max: 1e6}),
})
const id8 = fc.bigInt({min: -(1n << 63n), max: (1n << 63n) - 1n}).map((id) => {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigInt64(0, id)
  return b
})
const item = fc.oneof(
  fc.record({ID: id8, lease: record}),
  fc.record({ID: id8, key: fc.uint8Array({minLength: 1, maxLength: 6})}),
).map((i) => LeaseSnapshotItem.encode(i).finish())

describe(`lease fuzzing ${FUZZ_TITLE}`, function () {
  this.timeout(120_000)
  const tmp = new TempDirs()
  let n: LeaseNode
  before(async () => {
    n = await LeaseNode.create(tmp.make('raftctl-lease-fuzz-'))
  })
  after(async () => {
    await n.close()
    tmp.cleanup()
  })

  it('a stored LeaseRecord decodes to fields in range or to a problem, never a throw', () => {
    fc.assert(fc.property(hostile(record.map((r) => LeaseRecord.encode(r).finish())), (bytes) => {
      const d = decodeLeaseRecord(bytes)
      if (!d.ok) return
      expect(d.value.ttl).to.be.within(1, MAX_LEASE_TTL)
      expect(d.value.remainingTtl).to.be.at.least(0)
      expect(d.value.grantedIndex).to.be.at.least(1)
    }), fuzzParams(500))
  })

  it('the items of a snapshot\'s lease section restore or fail with a SnapshotFileError', async () => {
    await fc.assert(fc.asyncProperty(fc.array(hostile(item), {maxLength: 8}), async (items) => {
      const restore = await n.leases.beginRestore(new OpList())
      for (const i of items) {
        if (typedOutcome(() => {
          restore.add(i)
          return true
        }, [SnapshotFileError], 'LeaseRestore.add') === undefined) return
      }
    }), fuzzParams(300))
  })

  it('a hostile record in the L/ range opens or stops with STORAGE_CORRUPT', async () => {
    const key = fc.uint8Array({maxLength: 14}).map((k) => Uint8Array.from([...LEASE_PREFIX, ...k]))
    await fc.assert(fc.asyncProperty(key, hostile(record.map((r) => LeaseRecord.encode(r).finish())), async (k, v) => {
      await n.rs.db.write([{type: 'put', key: k, value: v}])
      try {
        await typedOutcomeAsync(() => LeaseStore.open(n.rs.db, n.dir), [StorageCorruptError], 'LeaseStore.open')
      } finally {
        await n.rs.db.write([{type: 'del', key: k}])
      }
    }), fuzzParams(60))
  })

  it('a checkpoint entry applies or is refused with a LeaseError', () => {
    const entry = fc.record({
      request: fc.record({checkpoints: fc.array(fc.record({ID: fc.bigInt({min: -3n, max: 3n}), remainingTTL: fc.integer({min: -2, max: 5})}), {maxLength: 3})}),
      grantedIndex: fc.array(fc.integer({min: 0, max: 3}), {maxLength: 3}),
    })
    fc.assert(fc.property(entry, (e) => {
      typedOutcome(() => n.leases.begin(1).checkpoint(checkpointsOf(e)), [LeaseError], 'checkpoint')
    }), fuzzParams(500))
  })
})
