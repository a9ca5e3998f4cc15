import {expect} from 'chai'
import {Event_EventType} from '../../src/generated/etcd/mvccpb/kv.js'
import {KvError, prefixEnd, type WatchBatch, type Watcher} from '../../src/kv/index.js'
import {TempDirs} from '../storage/helpers.js'
import {b, putOp, s, TestNode} from './helpers.js'

/** Takes the next n batches of a watcher. */
async function take(w: Watcher, count: number): Promise<WatchBatch[]> {
  const out: WatchBatch[] = []
  while (out.length < count) {
    const r = await w.next()
    if (r.done) break
    out.push(r.value)
  }
  return out
}

const summary = (bs: WatchBatch[]): string[] =>
  bs.flatMap((x) => x.events.map((e) => `${x.revision}:${Event_EventType[e.type]}:${s(e.kv!.key)}`))

describe('kv/watch', () => {
  const tmp = new TempDirs()
  let n: TestNode
  beforeEach(async () => {
    n = await TestNode.create(tmp.make('raftctl-watch-'), {}, {watchHistory: 5, watchMaxPending: 8})
  })
  afterEach(async () => {
    await n.close()
    tmp.cleanup()
  })

  const watch = (key: string, rangeEnd = '', startRevision = 0, prevKv = false): Watcher =>
    n.kv.watch({key: b(key), rangeEnd: b(rangeEnd), startRevision, prevKv})

  it('delivers events of applied writes in revision order, filtered by key or prefix', async () => {
    const all = watch('\0', '\0')
    const pre = watch('app/', s(prefixEnd(b('app/'))!))
    const one = watch('app/x')
    await n.put('app/x', '1')
    await n.put('other', '1')
    await n.txn({success: [putOp('app/y', '1'), putOp('app/x', '2')]})
    await n.del('app/', s(prefixEnd(b('app/'))!))
    expect(summary(await take(all, 4))).to.deep.equal([
      '2:PUT:app/x', '3:PUT:other', '4:PUT:app/y', '4:PUT:app/x', '5:DELETE:app/x', '5:DELETE:app/y',
    ])
    expect(summary(await take(pre, 3))).to.deep.equal([
      '2:PUT:app/x', '4:PUT:app/y', '4:PUT:app/x', '5:DELETE:app/x', '5:DELETE:app/y',
    ])
    const ones = await take(one, 3)
    expect(summary(ones)).to.deep.equal(['2:PUT:app/x', '4:PUT:app/x', '5:DELETE:app/x'])
    expect(ones[1].events[0].kv).to.deep.include({version: 2, createRevision: 2, modRevision: 4})
    expect(ones[2].events[0].kv).to.deep.include({modRevision: 5, version: 0})
    expect(ones[1].events[0].prevKv).to.equal(undefined)
  })

  it('includes prev_kv when asked and does not see writes that were not applied', async () => {
    await n.put('a', '1')
    const w = watch('a', '', 0, true)
    // A persisted but unapplied entry produces no event.
    const entry = n.entry(2, n.rs.entries(1, 2)[0].data)
    await n.rs.persist({entries: [entry], hardState: {term: 1, vote: 1, commit: 2}})
    let got = false
    void w.next().then(() => { got = true })
    await new Promise((r) => setTimeout(r, 20))
    expect(got).to.equal(false)
    await n.kv.apply(entry)
    await new Promise((r) => setTimeout(r, 0))
    expect(got).to.equal(true)
    w.cancel()
    const w2 = watch('a', '', 3, true)
    const [batch] = await take(w2, 1)
    expect(s(batch.events[0].prevKv!.value)).to.equal('1')
    expect(batch.events[0].prevKv!.modRevision).to.equal(2)
  })

  it('starts at a retained past revision and refuses a compacted one', async () => {
    for (let i = 2; i <= 8; i++) await n.put(`k${i}`, 'v') // history holds the last 5 revisions
    expect(n.kv.watchStartRevision).to.equal(4)
    const w = watch('\0', '\0', 5)
    expect(summary(await take(w, 4))).to.deep.equal(['5:PUT:k5', '6:PUT:k6', '7:PUT:k7', '8:PUT:k8'])
    let err: unknown
    try {
      watch('\0', '\0', 3)
    } catch (e) {
      err = e
    }
    expect(err).to.be.instanceOf(KvError).and.include({code: 'COMPACTED', compactRevision: 4})
    expect((err as Error).message).to.match(/start revision 3 is no longer retained.*4/)
    // A future start revision waits for it.
    const later = watch('\0', '\0', 10)
    await n.put('k9', 'v')
    await n.put('k10', 'v')
    expect(summary(await take(later, 1))).to.deep.equal(['10:PUT:k10'])
  })

  it('starts with an empty history after a restart', async () => {
    await n.put('a', '1')
    await n.reopen()
    expect(n.kv.watchStartRevision).to.equal(3)
    expect(() => watch('a', '', 2)).to.throw(KvError, /no longer retained/)
    const w = watch('a', '', 3)
    await n.put('a', '2')
    expect(summary(await take(w, 1))).to.deep.equal(['3:PUT:a'])
  })

  it('cancels a watcher that falls too far behind, saying where to resume', async () => {
    const slow = watch('\0', '\0')
    for (let i = 1; i <= 9; i++) await n.put(`k${i}`, 'v')
    let err: unknown
    try {
      await take(slow, 9)
    } catch (e) {
      err = e
    }
    expect(err).to.be.instanceOf(KvError).and.include({code: 'WATCH_CANCELED', compactRevision: 2})
    expect(slow.active).to.equal(false)
  })

  it('ends iteration on cancel() and when the store closes', async () => {
    const w = watch('a')
    const pending = w.next()
    w.cancel()
    expect(await pending).to.deep.equal({value: undefined, done: true})
    const w2 = watch('a')
    const loop = (async () => {
      const seen: number[] = []
      for await (const batch of w2) seen.push(batch.revision)
      return seen
    })()
    await n.put('a', '1')
    await new Promise((r) => setTimeout(r, 0))
    await n.kv.close()
    expect(await loop).to.deep.equal([2])
  })
})
