/**
 * Random sequences of puts, deletes, txns and compactions applied to the real store (RocksDB)
 * and to a naive in-memory model (mvcc_model.ts): after every step, a read of every key at every
 * revision from the compact revision to the current one equals the model's replay; reads below
 * the compact revision fail as compacted; the history replays the model's records; and once
 * physical compaction finished, exactly the records the model keeps are left on disk.
 */
import {expect} from 'chai'
import fc from 'fast-check'
import {REV_PREFIX, prefixRangeEnd, revOfKey} from '../../src/storage/keys.js'
import {decodeRecord} from '../../src/kv/codec.js'
import {Event_EventType} from '../../src/generated/etcd/mvccpb/kv.js'
import {rejects, TempDirs} from '../storage/helpers.js'
import {delOp, putOp, TestNode} from './helpers.js'
import {MvccModel} from './mvcc_model.js'

/** Keys chosen so that prefixes, 0x00 bytes and 0xff bytes exercise the h/ escape. */
const KEYS = ['a', 'a\0', 'a\0b', 'ab', 'b', '\xff']

type Step =
  | {kind: 'put', key: string, value: string}
  | {kind: 'del', key: string, end: string}
  | {kind: 'txn', puts: string[], del?: string}
  | {kind: 'compact', back: number}
  | {kind: 'physical'}

const key = fc.constantFrom(...KEYS)
const step: fc.Arbitrary<Step> = fc.oneof(
  {weight: 5, arbitrary: fc.record({kind: fc.constant('put' as const), key, value: fc.string({maxLength: 3})})},
  {weight: 2, arbitrary: fc.record({kind: fc.constant('del' as const), key, end: fc.constantFrom('', 'b', '\0', 'a\0c')})},
  {weight: 2, arbitrary: fc.record({
    kind: fc.constant('txn' as const), puts: fc.uniqueArray(key, {maxLength: 3}), del: fc.option(key, {nil: undefined}),
  }).filter((t) => t.del === undefined || !t.puts.includes(t.del))},
  {weight: 1, arbitrary: fc.record({kind: fc.constant('compact' as const), back: fc.nat({max: 4})})},
  {weight: 1, arbitrary: fc.constant({kind: 'physical' as const})},
)

const str = (k: Uint8Array): string => Buffer.from(k).toString('utf8')
const inRange = (k: string, from: string, end: string): boolean => {
  if (end === '') return k === from
  const kb = Buffer.from(k)
  return Buffer.compare(kb, Buffer.from(from)) >= 0 && (end === '\0' || Buffer.compare(kb, Buffer.from(end)) < 0)
}

async function apply(n: TestNode, m: MvccModel, s: Step): Promise<void> {
  const live = (): string[] => m.stateAt(m.revision).map((kv) => str(kv.key))
  if (s.kind === 'put') {
    await n.put(s.key, s.value)
    m.write([{put: [s.key, s.value]}])
  } else if (s.kind === 'del') {
    const gone = live().filter((k) => inRange(k, s.key, s.end))
    await n.del(s.key, s.end)
    m.write([{del: gone}])
  } else if (s.kind === 'txn') {
    const r = await n.txn({success: [...(s.del === undefined ? [] : [delOp(s.del)]), ...s.puts.map((k) => putOp(k, `t${m.revision}`))]})
    expect(r.error).to.equal(undefined)
    m.write([...(s.del === undefined ? [] : [{del: live().filter((k) => k === s.del)}]), ...s.puts.map((k) => ({put: [k, `t${m.revision}`] as [string, string]}))])
  } else if (s.kind === 'compact') {
    const rev = Math.max(1, m.revision - s.back)
    const r = await n.compact(rev)
    if (rev <= m.compactRevision) expect(r.error).to.have.property('code', 'COMPACTED')
    else {
      expect(r.error).to.equal(undefined)
      m.compactRevision = rev
    }
  } else {
    await n.kv.waitPhysicalCompaction(m.compactRevision)
    const left = []
    for await (const [k, v] of n.rs.db.iterate({gte: REV_PREFIX, lt: prefixRangeEnd(REV_PREFIX)})) {
      const rev = revOfKey(k)!
      const d = decodeRecord(v, rev.main)
      if (!d.ok) throw new Error(d.problem)
      left.push(`${rev.main}.${rev.sub}:${d.value.kind}:${str(d.value.kv.key)}`)
    }
    expect(left, 'records left after physical compaction').to.deep.equal(m.retained().map((r) => `${r.main}.${r.sub}:${r.kind}:${str(r.kv.key)}`))
  }
}

async function check(n: TestNode, m: MvccModel): Promise<void> {
  expect(n.kv.revision).to.equal(m.revision)
  expect(n.kv.compactRevision).to.equal(m.compactRevision)
  expect(n.kv.keyCount).to.equal(m.stateAt(m.revision).length)
  for (let rev = Math.max(1, m.compactRevision); rev <= m.revision; rev++) {
    const got = (await n.range('\0', '\0', {revision: rev})).kvs
    expect(got, `all keys at revision ${rev}`).to.deep.equal(m.stateAt(rev))
    for (const k of KEYS) {
      const one = (await n.range(k, '', {revision: rev})).kvs
      expect(one, `${JSON.stringify(k)} at revision ${rev}`).to.deep.equal(m.stateAt(rev).filter((kv) => str(kv.key) === k))
    }
  }
  if (m.compactRevision > 1) {
    expect(await rejects(n.range('a', '', {revision: m.compactRevision - 1}))).to.have.property('code', 'COMPACTED')
  }
  const from = Math.max(m.compactRevision + 1, 2)
  const events: string[] = []
  for await (const r of n.kv.history(from, m.revision, {prevKv: true})) {
    for (const e of r.events) events.push(`${r.revision}:${Event_EventType[e.type]}:${str(e.kv!.key)}:${e.prevKv?.modRevision ?? '-'}`)
  }
  const want = m.records.filter((r) => r.main >= from).map((r) => {
    const prev = m.stateAt(r.main - 1).find((kv) => str(kv.key) === str(r.kv.key))
    const earlierInTxn = m.records.filter((x) => x.main === r.main && x.sub < r.sub && str(x.kv.key) === str(r.kv.key)).pop()
    // Above the compact revision every prev_kv survives compaction: it is a key's latest put at or below it, or later.
    const prevMod = earlierInTxn !== undefined ? (earlierInTxn.kind === 'put' ? r.main : undefined) : prev?.modRevision
    return `${r.main}:${r.kind === 'put' ? 'PUT' : 'DELETE'}:${str(r.kv.key)}:${prevMod ?? '-'}`
  })
  expect(events, 'history with prev_kv').to.deep.equal(want)
}

/** A tombstone at the compact revision followed in the h/ index by another key: always checked. */
const TOMBSTONE_THEN_OTHER_KEY: Step[] = [
  {kind: 'put', key: 'a', value: '1'}, {kind: 'del', key: 'a', end: ''}, {kind: 'put', key: 'b', value: '1'},
  {kind: 'compact', back: 0}, {kind: 'physical'},
]

describe('kv/MVCC against a model (fast-check)', function () {
  this.timeout(300_000)
  const tmp = new TempDirs()
  afterEach(() => tmp.cleanup())

  it('reads every revision, replays history and compacts exactly as the model says', async () => {
    await fc.assert(fc.asyncProperty(fc.array(step, {minLength: 1, maxLength: 25}), async (steps) => {
      const n = await TestNode.create(tmp.make('raftctl-mvcc-'), {}, {compaction: {batchEntries: 3}})
      const m = new MvccModel()
      try {
        for (const s of steps) {
          await apply(n, m, s)
          await check(n, m)
        }
        await n.reopen()
        await check(n, m)
        await apply(n, m, {kind: 'physical'})
      } finally {
        await n.close()
      }
    }), {numRuns: 40, examples: [[TOMBSTONE_THEN_OTHER_KEY]]})
  })
})
