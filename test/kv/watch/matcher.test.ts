import {expect} from 'chai'
import fc from 'fast-check'
import {rangeHas, WatcherGroup, type WatchKeyRange, watchKeyRange} from '../../../src/kv/watch/matcher.js'
import {b} from './fake_source.js'

const key = fc.string({unit: fc.constantFrom('\x00', 'a', 'b', '\xff'), maxLength: 3})

interface W {
  readonly id: number
  readonly range: WatchKeyRange
}

describe('kv/watch/matcher', () => {
  it('reads etcd key ranges: single key, [key, end), every key >= key, and refuses empty ranges', () => {
    expect(watchKeyRange(b('a'), b(''))).to.deep.equal({key: 'a', end: undefined})
    expect(watchKeyRange(b('a'), b('\x00'))).to.deep.equal({key: 'a', end: null})
    expect(watchKeyRange(b('a'), b('b'))).to.deep.equal({key: 'a', end: 'b'})
    expect(watchKeyRange(b('b'), b('a'))).to.equal(undefined)
    expect(watchKeyRange(b('a'), b('a'))).to.equal(undefined)
    // Bytes above 0x7f compare as bytes, not as UTF-8 text.
    const r = watchKeyRange(new Uint8Array([0x61, 0xff]), new Uint8Array([0x62]))!
    expect(rangeHas(r, 'a\xff\xff')).to.equal(true)
    expect(rangeHas(r, 'b')).to.equal(false)
  })

  it('matches each key to exactly the watchers a scan of every range finds, through adds and deletes', () => {
    const range: fc.Arbitrary<WatchKeyRange> = fc.oneof(
      key.map((k) => ({key: k, end: undefined})),
      key.map((k) => ({key: k, end: null})),
      fc.tuple(key, key).filter(([lo, hi]) => hi > lo).map(([lo, hi]) => ({key: lo, end: hi})),
    )
    const op = fc.oneof(fc.record({add: range}), fc.record({del: fc.nat(100)}))
    fc.assert(fc.property(fc.array(op, {maxLength: 120}), fc.array(key, {minLength: 1, maxLength: 12}), (ops, keys) => {
      const group = new WatcherGroup<W>()
      const live: W[] = []
      let id = 0
      for (const o of ops) {
        if ('add' in o) {
          const w = {id: id++, range: o.add}
          group.add(w)
          live.push(w)
        } else if (live.length > 0) {
          const [w] = live.splice(o.del % live.length, 1)
          expect(group.delete(w)).to.equal(true)
          expect(group.delete(w)).to.equal(false)
        }
      }
      expect(group.size).to.equal(live.length)
      for (const k of keys) {
        const got: number[] = []
        group.match(k, (w) => got.push(w.id))
        expect(got.sort((x, y) => x - y)).to.deep.equal(live.filter((w) => rangeHas(w.range, k)).map((w) => w.id))
      }
    }), {numRuns: 300})
  })

  it('adding a watcher twice keeps it once', () => {
    const group = new WatcherGroup<W>()
    const w = {id: 1, range: {key: 'a', end: null}}
    group.add(w)
    group.add(w)
    const got: number[] = []
    group.match('b', (x) => got.push(x.id))
    expect(got).to.deep.equal([1])
    expect(group.size).to.equal(1)
  })
})
