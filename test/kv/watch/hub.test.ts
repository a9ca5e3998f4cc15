import {expect} from 'chai'
import {WatchHub, type WatchHubOptions} from '../../../src/kv/watch/hub.js'
import type {WatchItem} from '../../../src/kv/watch/watcher.js'
import {FakeSource, settle} from './fake_source.js'
import {rendered, renderItem, spec, takeAll} from './helpers.js'

function setup(opts: WatchHubOptions = {}): {src: FakeSource, hub: WatchHub} {
  const src = new FakeSource()
  const hub = new WatchHub(src, opts)
  src.hub = hub
  return {src, hub}
}

describe('kv/watch/hub', () => {
  describe('synced watchers', () => {
    it('get the events of their key, prefix or open range as they are published, one item per revision', () => {
      const {src, hub} = setup()
      const one = hub.watch(spec('app/x'))
      const pre = hub.watch(spec('app/', 'app0'))
      const from = hub.watch(spec('b', null))
      const all = hub.watch(spec('\x00', null))
      src.put('app/x', '1')
      src.put('other', '1')
      src.txn([{put: 'app/y', value: '1'}, {put: 'app/x', value: '2'}])
      src.del('app/', 'app0')
      expect(rendered(one)).to.deep.equal(['2: PUT app/x@2', '4: PUT app/x@4', '5: DEL app/x@5'])
      expect(rendered(pre)).to.deep.equal(['2: PUT app/x@2', '4: PUT app/y@4, PUT app/x@4', '5: DEL app/x@5, DEL app/y@5'])
      expect(rendered(from)).to.deep.equal(['3: PUT other@3'])
      expect(rendered(all)).to.have.length(4)
      expect(hub.stats()).to.deep.equal({synced: 4, unsynced: 0, victims: 0})
    })

    it('apply the NOPUT and NODELETE filters and leave prev_kv out unless asked', () => {
      const {src, hub} = setup()
      const noPut = hub.watch(spec('k', undefined, 0, {noPut: true}))
      const noDel = hub.watch(spec('k', undefined, 0, {noDelete: true, prevKv: true}))
      const plain = hub.watch(spec('k'))
      src.put('k', '1')
      src.put('k', '2')
      src.del('k')
      expect(rendered(noPut)).to.deep.equal(['4: DEL k@4'])
      expect(rendered(noDel)).to.deep.equal(['2: PUT k@2', '3: PUT k@3<2'])
      expect(rendered(plain)).to.deep.equal(['2: PUT k@2', '3: PUT k@3', '4: DEL k@4'])
    })

    it('a watch that starts in the future waits for its start revision', () => {
      const {src, hub} = setup()
      const w = hub.watch(spec('k', undefined, 4))
      expect(w.state).to.equal('synced')
      src.put('k', 'a')
      src.put('k', 'b')
      expect(takeAll(w)).to.deep.equal([])
      src.put('k', 'c')
      src.put('k', 'd')
      expect(rendered(w)).to.deep.equal(['4: PUT k@4', '5: PUT k@5'])
    })

    it('ignores a revision published again', () => {
      const {src, hub} = setup()
      const w = hub.watch(spec('k'))
      src.put('k', 'a')
      hub.publish(2, src.log[0].events)
      expect(rendered(w)).to.deep.equal(['2: PUT k@2'])
    })

    it('get a progress item with the current revision; unsynced watchers do not', async () => {
      const {src, hub} = setup()
      src.put('k', 'a')
      const synced = hub.watch(spec('k'))
      const behind = hub.watch(spec('k', undefined, 1))
      hub.requestProgress(synced)
      hub.requestProgress(behind)
      expect(rendered(synced)).to.deep.equal(['progress 2'])
      expect(takeAll(behind)).to.deep.equal([])
      await settle(hub)
      expect(rendered(behind)).to.deep.equal(['2: PUT k@2'])
    })
  })

  describe('watches from a past revision', () => {
    it('catch up from the history, then follow live events without a gap or a repeat', async () => {
      const {src, hub} = setup()
      src.put('k', '1')
      src.put('x', '1')
      src.put('k', '2')
      const w = hub.watch(spec('k', undefined, 2, {prevKv: true}))
      expect(w.state).to.equal('unsynced')
      src.put('k', '3')
      await settle(hub)
      src.put('k', '4')
      expect(rendered(w)).to.deep.equal(['5: PUT k@2, PUT k@4<2, PUT k@5<4', '6: PUT k@6<5'])
      expect(w.state).to.equal('synced')
    })

    it('read the history in bounded chunks, each item ending at the last revision it covers', async () => {
      const {src, hub} = setup({chunkRevisions: 3})
      for (let i = 0; i < 10; i++) src.put(`k${i % 2}`, String(i))
      const w = hub.watch(spec('k0', undefined, 1))
      await settle(hub)
      expect(rendered(w)).to.deep.equal(['3: PUT k0@2', '6: PUT k0@4, PUT k0@6', '9: PUT k0@8', '11: PUT k0@10'])
      expect(src.reads).to.deep.equal([{from: 1, to: 3}, {from: 4, to: 6}, {from: 7, to: 9}, {from: 10, to: 11}])
    })

    it('read once for all the watchers of a round', async () => {
      const {src, hub} = setup()
      for (let i = 0; i < 5; i++) src.put(`k${i}`, 'v')
      const ws = Array.from({length: 50}, (_, i) => hub.watch(spec(`k${i % 5}`, undefined, 1)))
      await settle(hub)
      expect(src.reads).to.have.length(1)
      expect(ws.map((w) => rendered(w).length)).to.deep.equal(Array(50).fill(1))
    })

    it('split a catch-up into items of at most maxBatchBytes, whole revisions each', async () => {
      const {src, hub} = setup({maxBatchBytes: 1000})
      for (let i = 0; i < 6; i++) src.txn([{put: 'a', value: 'x'.repeat(100)}, {put: 'b', value: 'y'.repeat(100)}])
      const w = hub.watch(spec('a', 'c', 1))
      await settle(hub)
      const items = takeAll(w)
      expect(items.map(renderItem)).to.deep.equal([
        '3: PUT a@2, PUT b@2, PUT a@3, PUT b@3', '5: PUT a@4, PUT b@4, PUT a@5, PUT b@5', '7: PUT a@6, PUT b@6, PUT a@7, PUT b@7',
      ])
    })
  })

  describe('compaction', () => {
    it('a watch starting below the compact revision gets one compacted item and ends', () => {
      const {src, hub} = setup()
      for (let i = 0; i < 5; i++) src.put('k', String(i))
      src.compact(4)
      const w = hub.watch(spec('k', undefined, 3))
      expect(rendered(w)).to.deep.equal(['compacted 4'])
      expect(w.done).to.equal(true)
      expect(hub.stats()).to.deep.equal({synced: 0, unsynced: 0, victims: 0})
    })

    it('a watch starting at the compact revision still gets it', async () => {
      const {src, hub} = setup()
      for (let i = 0; i < 5; i++) src.put('k', String(i))
      src.compact(4)
      const w = hub.watch(spec('k', undefined, 4))
      await settle(hub)
      expect(rendered(w)).to.deep.equal(['6: PUT k@4, PUT k@5, PUT k@6'])
    })

    it('a compaction during the catch-up ends the watchers it overtook, after what they already got', async () => {
      const {src, hub} = setup({chunkRevisions: 2})
      for (let i = 0; i < 8; i++) src.put('k', String(i))
      const early = hub.watch(spec('k', undefined, 2))
      const late = hub.watch(spec('k', undefined, 8))
      // Let the first chunk land, then compact past where the early watcher is.
      for (let i = 0; i < 1000 && early.pendingItems === 0; i++) await new Promise((r) => setImmediate(r))
      src.compact(7)
      await settle(hub)
      expect(rendered(early)).to.deep.equal(['3: PUT k@2, PUT k@3', 'compacted 7'])
      expect(rendered(late)).to.deep.equal(['9: PUT k@8, PUT k@9'])
    })
  })

  describe('slow consumers', () => {
    it('are moved aside without blocking publish, keep memory bounded, and catch up from history once they read', async () => {
      const limit = 4096
      const {src, hub} = setup({maxPendingBytes: limit})
      const slow = hub.watch(spec('k', null))
      const fast = hub.watch(spec('k', null))
      const got: string[] = []
      for (let i = 0; i < 2000; i++) {
        src.put(`k${i % 7}`, 'v'.repeat(50))
        got.push(...rendered(fast))
        expect(slow.pendingBytes).to.be.at.most(limit)
      }
      expect(got).to.have.length(2000)
      expect(slow.state).to.equal('victim')
      expect(hub.stats()).to.deep.equal({synced: 1, unsynced: 0, victims: 1})
      // The consumer reads now: it gets every revision exactly once, in order.
      const revs: number[] = []
      for (let turn = 0; turn < 10_000 && revs.at(-1) !== 2001; turn++) {
        for (const item of takeAll(slow)) if (item.kind === 'events') for (const e of item.events) revs.push(e.kv!.modRevision)
        await new Promise((r) => setImmediate(r))
      }
      expect(revs).to.deep.equal(Array.from({length: 2000}, (_, i) => i + 2))
      await settle(hub)
      expect(slow.state).to.equal('synced')
      src.put('k1', 'again')
      expect(rendered(slow)).to.deep.equal(['2002: PUT k1@2002'])
    })

    it('a single revision larger than the bound still goes to an empty queue, whole', async () => {
      const {src, hub} = setup({maxPendingBytes: 300, maxBatchBytes: 300})
      const w = hub.watch(spec('k', null))
      const past = hub.watch(spec('k', null, 1))
      src.txn(Array.from({length: 10}, (_, i) => ({put: `k${i}`, value: 'x'.repeat(40)})))
      src.put('k0', 'y')
      const first = takeAll(w)
      expect(first.map((i) => i.kind === 'events' ? i.events.length : 0)).to.deep.equal([10])
      // Taking the big item let the watcher, set aside at revision 3, catch up.
      await settle(hub)
      expect(w.state).to.equal('synced')
      expect(rendered(w)).to.deep.equal(['3: PUT k0@3'])
      const replay: WatchItem[] = []
      for (let i = 0; i < 1000 && replay.length < 2; i++) {
        replay.push(...takeAll(past))
        await new Promise((r) => setImmediate(r))
      }
      expect(replay.map((i) => i.kind === 'events' ? i.events.length : -1)).to.deep.equal([10, 1])
    })
  })

  describe('lifecycle', () => {
    it('cancel() removes the watcher; nothing more is queued', async () => {
      const {src, hub} = setup()
      const w = hub.watch(spec('k'))
      const past = hub.watch(spec('k', undefined, 1))
      src.put('k', 'a')
      w.cancel()
      past.cancel()
      src.put('k', 'b')
      await settle(hub)
      expect(takeAll(w)).to.deep.equal([])
      expect(takeAll(past)).to.deep.equal([])
      expect(hub.stats()).to.deep.equal({synced: 0, unsynced: 0, victims: 0})
      expect(await w.next()).to.equal(undefined)
    })

    it('next() waits for the next item and resolves undefined once the watch ends', async () => {
      const {src, hub} = setup()
      const w = hub.watch(spec('k'))
      const pending = w.next()
      src.put('k', 'a')
      expect(renderItem((await pending)!)).to.equal('2: PUT k@2')
      const after = w.next()
      hub.close()
      expect(renderItem((await after)!)).to.equal('closed')
      expect(await w.next()).to.equal(undefined)
      expect(() => hub.watch(spec('k'))).to.throw('the watch hub is closed')
    })

    it('close() ends every watcher, synced, unsynced and victim, after what they had queued', () => {
      const {src, hub} = setup({maxPendingBytes: 200})
      src.put('k', 'a')
      const synced = hub.watch(spec('k'))
      const unsynced = hub.watch(spec('k', undefined, 1))
      const victim = hub.watch(spec('k'))
      for (let i = 0; i < 5; i++) src.put('k', 'x'.repeat(60))
      rendered(synced)
      expect(victim.state).to.equal('victim')
      hub.close()
      expect(rendered(synced)).to.deep.equal(['closed'])
      expect(rendered(unsynced)).to.deep.equal(['closed'])
      expect(rendered(victim).at(-1)).to.equal('closed')
      expect(hub.stats()).to.deep.equal({synced: 0, unsynced: 0, victims: 0})
    })

    it('after the state was replaced (resync), synced watchers catch up on the revisions they missed', async () => {
      const {src, hub} = setup()
      const w = hub.watch(spec('k', null))
      src.put('k1', 'a')
      src.restoreWrites([[{put: 'k2', value: 'b'}], [{put: 'k1', value: 'c'}]])
      hub.resync()
      await settle(hub)
      src.put('k3', 'd')
      expect(rendered(w)).to.deep.equal(['2: PUT k1@2', '4: PUT k2@3, PUT k1@4', '5: PUT k3@5'])
    })

    it('a history read that fails ends the watchers of that read with the reason', async () => {
      const {src, hub} = setup()
      src.put('k', 'a')
      src.failWith = new Error('disk on fire')
      const w = hub.watch(spec('k', undefined, 1))
      await settle(hub)
      expect(rendered(w)).to.deep.equal(['failed: reading the watch history failed: disk on fire'])
    })

    it('answers a negative start revision as etcd does (compacted, -1 before any compaction), and refuses bad options', () => {
      const {src, hub} = setup()
      expect(rendered(hub.watch(spec('k', undefined, -1)))).to.deep.equal(['compacted -1'])
      src.put('k', 'a')
      src.compact(2)
      expect(rendered(hub.watch(spec('k', undefined, -5)))).to.deep.equal(['compacted 2'])
      expect(() => hub.watch(spec('k', undefined, 1.5))).to.throw('start revision 1.5 is not an integer')
      expect(() => new WatchHub(new FakeSource(), {chunkRevisions: 0})).to.throw('chunkRevisions must be a positive integer')
    })
  })

  it('delivers to many watchers through the index: 3000 key watchers and 500 ranges', () => {
    const {src, hub} = setup()
    const keys = Array.from({length: 3000}, (_, i) => `key/${String(i).padStart(4, '0')}`)
    const single = keys.map((k) => hub.watch(spec(k)))
    const ranges = Array.from({length: 500}, (_, i) => hub.watch(spec(keys[i * 6], keys[i * 6 + 6] ?? null)))
    for (let i = 0; i < keys.length; i += 7) src.put(keys[i], 'v')
    single.forEach((w, i) => expect(takeAll(w).length).to.equal(i % 7 === 0 ? 1 : 0))
    ranges.forEach((w, r) => {
      const want = keys.slice(r * 6, r * 6 + 6).filter((_, j) => (r * 6 + j) % 7 === 0).length
      expect(takeAll(w).length).to.equal(want)
    })
  })
})
