/**
 * The watch hub wired into the MVCC store (real RocksDB): live events come from apply, watches
 * that start in the past replay the history records on disk (also after a restart), a compacted
 * start ends with the compact revision, a slow consumer is set aside and catches up from disk
 * (never canceled for it), a snapshot install makes watchers catch up from the new history, and
 * closing the store ends every watch. The hub itself is tested over a fake source in
 * test/kv/watch/.
 */
import {expect} from 'chai'
import {Event_EventType} from '../../src/generated/etcd/mvccpb/kv.js'
import {prefixEnd, type WatchItem, type Watcher, watchKeyRange} from '../../src/kv/index.js'
import {waitFor} from '../integration/harness.js'
import {grant, putLease, revoke} from '../lease/kv_node.js'
import {TempDirs} from '../storage/helpers.js'
import {b, putOp, s, TestNode} from './helpers.js'

/** An item as `rev: PUT k, DEL k` (events), `compacted C` or `closed`. */
function render(i: WatchItem): string {
  switch (i.kind) {
    case 'events': return `${i.revision}: ${i.events.map((e) => `${e.type === Event_EventType.PUT ? 'PUT' : 'DEL'} ${s(e.kv!.key)}`).join(', ')}`
    case 'compacted': return `compacted ${i.compactRevision}`
    case 'failed': return `failed: ${i.reason}`
    case 'closed': return 'closed'
  }
}

/** Takes `count` items from a watcher, waiting for each (bounded by the test's timeout). */
async function take(w: Watcher, count: number): Promise<string[]> {
  const out: string[] = []
  while (out.length < count) {
    const item = await w.next()
    if (item === undefined) break
    out.push(render(item))
  }
  return out
}

/** The events a watcher got, one `rev:TYPE:key` each, until it reached `revision`. */
async function eventsUntil(w: Watcher, revision: number): Promise<string[]> {
  const out: string[] = []
  for (;;) {
    const item = await w.next()
    if (item === undefined || item.kind !== 'events') throw new Error(`the watch ended early: ${item === undefined ? 'done' : render(item)}`)
    for (const e of item.events) out.push(`${e.kv!.modRevision}:${Event_EventType[e.type]}:${s(e.kv!.key)}`)
    if (item.revision >= revision) return out
  }
}

describe('kv/watch: the hub over the MVCC store', () => {
  const tmp = new TempDirs()
  let n: TestNode
  beforeEach(async () => {
    n = await TestNode.create(tmp.make('raftctl-watch-'), {}, {watch: {maxPendingBytes: 2000}})
  })
  afterEach(async () => {
    await n.close()
    tmp.cleanup()
  })

  const watch = (key: string, rangeEnd = '', startRevision = 0, prevKv = false): Watcher =>
    n.kv.hub.watch({range: watchKeyRange(b(key), b(rangeEnd))!, startRevision, prevKv, noPut: false, noDelete: false})

  it('delivers events of applied writes in revision order, filtered by key or prefix, a txn\'s writes together', async () => {
    const all = watch('\0', '\0')
    const pre = watch('app/', s(prefixEnd(b('app/'))!))
    const one = watch('app/x')
    await n.put('app/x', '1')
    await n.put('other', '1')
    await n.txn({success: [putOp('app/y', '1'), putOp('app/x', '2')]})
    await n.del('app/', s(prefixEnd(b('app/'))!))
    expect(await take(all, 4)).to.deep.equal(['2: PUT app/x', '3: PUT other', '4: PUT app/y, PUT app/x', '5: DEL app/x, DEL app/y'])
    expect(await take(pre, 3)).to.deep.equal(['2: PUT app/x', '4: PUT app/y, PUT app/x', '5: DEL app/x, DEL app/y'])
    const ones: WatchItem[] = [(await one.next())!, (await one.next())!, (await one.next())!]
    expect(ones.map(render)).to.deep.equal(['2: PUT app/x', '4: PUT app/x', '5: DEL app/x'])
    const ev = (i: WatchItem) => (i.kind === 'events' ? i.events[0] : undefined)
    expect(ev(ones[1])!.kv).to.deep.include({version: 2, createRevision: 2, modRevision: 4})
    expect(ev(ones[2])!.kv).to.deep.include({modRevision: 5, version: 0})
    expect(ev(ones[1])!.prevKv, 'prev_kv only when asked').to.equal(undefined)
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
    const item = await w2.next()
    expect(item?.kind).to.equal('events')
    const e = (item as Extract<WatchItem, {kind: 'events'}>).events[0]
    expect(s(e.prevKv!.value)).to.equal('1')
    expect(e.prevKv!.modRevision).to.equal(2)
  })

  it('delivers a lease revoke\'s deletions as one revision, with prev_kv, live and from history', async () => {
    await grant(n, 7n)
    await putLease(n, 'l/a', '1', 7n)
    const from = (await putLease(n, 'l/b', '2', 7n)).revision
    const live = watch('l/', 'l0', 0, true)
    const r = await revoke(n, 7n)
    const item = await live.next()
    expect(item === undefined ? 'done' : render(item)).to.equal(`${r.revision}: DEL l/a, DEL l/b`)
    const prev = (item as Extract<WatchItem, {kind: 'events'}>).events.map((e) => s(e.prevKv!.value))
    expect(prev).to.deep.equal(['1', '2'])
    expect(await eventsUntil(watch('l/', 'l0', from), r.revision)).to.deep.equal([`${from}:PUT:l/b`, `${r.revision}:DELETE:l/a`, `${r.revision}:DELETE:l/b`])
  })

  it('replays any past revision from the history records, ends a compacted start with the compact revision, and waits for a future one', async () => {
    for (let i = 2; i <= 8; i++) await n.put(`k${i}`, 'v')
    const w = watch('\0', '\0', 2)
    expect(await eventsUntil(w, 8)).to.deep.equal([2, 3, 4, 5, 6, 7, 8].map((r) => `${r}:PUT:k${r}`))
    await n.compact(5)
    expect(await take(watch('\0', '\0', 4), 1)).to.deep.equal(['compacted 5'])
    expect(await eventsUntil(watch('\0', '\0', 5), 8)).to.deep.equal(['5:PUT:k5', '6:PUT:k6', '7:PUT:k7', '8:PUT:k8'])
    // A future start revision waits for it.
    const later = watch('\0', '\0', 10)
    await n.put('k9', 'v')
    await n.put('k10', 'v')
    expect(await take(later, 1)).to.deep.equal(['10: PUT k10'])
  })

  it('replays a past revision after a restart (the history is on disk)', async () => {
    await n.put('a', '1')
    await n.put('a', '2')
    await n.reopen()
    const w = watch('a', '', 2, true)
    await n.put('a', '3')
    const items = [(await w.next())!, (await w.next())!]
    const flat = items.flatMap((i) => (i.kind === 'events' ? i.events.map((e) => `${e.kv!.modRevision}:${s(e.kv!.value)}<${e.prevKv === undefined ? '-' : s(e.prevKv.value)}`) : [render(i)]))
    expect(flat).to.deep.equal(['2:1<-', '3:2<1', '4:3<2'])
  })

  it('sets a slow consumer aside without canceling it and catches it up from disk, every event once and in order', async () => {
    const slow = watch('\0', '\0')
    const value = 'x'.repeat(300)
    for (let i = 1; i <= 30; i++) await n.put(`k${i}`, value)
    expect(n.kv.hub.stats().victims, 'its bounded queue filled up').to.equal(1)
    expect(slow.pendingBytes).to.be.at.most(2000)
    expect(await eventsUntil(slow, 31)).to.deep.equal(Array.from({length: 30}, (_, i) => `${i + 2}:PUT:k${i + 1}`))
    await waitFor('the watcher to be synced again', () => n.kv.hub.stats().synced === 1, {timeoutMs: 5000, intervalMs: 5})
  })

  it('catches watchers up from the new history when a snapshot replaces the state', async () => {
    const a = await TestNode.create(tmp.make('raftctl-watch-src-'))
    try {
      await a.put('s/1', 'v')
      await a.put('s/2', 'v')
      const info = await a.kv.createSnapshot()
      const w = watch('s/', 's0')
      await n.kv.restoreFromFile(info.path)
      expect(await eventsUntil(w, 3)).to.deep.equal(['2:PUT:s/1', '3:PUT:s/2'])
      await n.put('s/3', 'v')
      expect(await take(w, 1)).to.deep.equal(['4: PUT s/3'])
    } finally {
      await a.close()
    }
  })

  it('ends iteration on cancel() and with a closed item when the store closes', async () => {
    const w = watch('a')
    const pending = w.next()
    w.cancel()
    expect(await pending).to.equal(undefined)
    const w2 = watch('a')
    await n.put('a', '1')
    await n.kv.close()
    expect(await take(w2, 3)).to.deep.equal(['2: PUT a', 'closed'])
    expect(() => watch('a')).to.throw(/closed/)
  })
})
