import {expect} from 'chai'
import fc from 'fast-check'
import {IntervalTree, type UpperBound} from '../../../src/kv/watch/interval_tree.js'

/** Short keys over a small alphabet (with the byte 0x00 and 0xff) so intervals overlap often. */
const key = fc.string({unit: fc.constantFrom('\x00', 'a', 'b', 'c', '\xff'), maxLength: 3})
const interval = fc.tuple(key, fc.option(key, {nil: null}))
  .filter(([lo, hi]) => hi === null || hi > lo)

type Op = {add: [string, UpperBound], v: number} | {del: number}

const contains = (lo: string, hi: UpperBound, p: string): boolean => p >= lo && (hi === null || p < hi)

describe('kv/watch/interval_tree', () => {
  it('stabbing answers what a scan of every interval answers, through any inserts and deletes', () => {
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({add: interval, v: fc.nat(20)}),
      fc.record({del: fc.nat(200)}),
    )
    fc.assert(fc.property(fc.array(op, {maxLength: 200}), fc.array(key, {minLength: 1, maxLength: 20}), (ops, points) => {
      const tree = new IntervalTree<number>()
      const naive: Array<{lo: string, hi: UpperBound, v: number}> = []
      for (const o of ops) {
        if ('add' in o) {
          const [lo, hi] = o.add
          if (naive.some((x) => x.lo === lo && x.hi === hi && x.v === o.v)) continue
          tree.insert(lo, hi, o.v)
          naive.push({lo, hi, v: o.v})
        } else if (naive.length > 0) {
          const [gone] = naive.splice(o.del % naive.length, 1)
          expect(tree.delete(gone.lo, gone.hi, gone.v)).to.equal(true)
          expect(tree.delete(gone.lo, gone.hi, gone.v)).to.equal(false)
        }
        tree.check()
      }
      expect(tree.size).to.equal(new Set(naive.map((x) => `${x.lo}|${x.hi}`)).size)
      for (const p of points) {
        const got: number[] = []
        tree.stab(p, (v) => got.push(v))
        const want = naive.filter((x) => contains(x.lo, x.hi, p)).map((x) => x.v)
        expect(got.sort((a, c) => a - c)).to.deep.equal(want.sort((a, c) => a - c))
      }
    }), {numRuns: 300})
  })

  it('stays balanced under sorted inserts and looks at O(log n) nodes to stab disjoint ranges', () => {
    const tree = new IntervalTree<number>()
    const n = 10_000
    const k = (i: number): string => i.toString(36).padStart(4, '0')
    for (let i = 0; i < n; i++) tree.insert(k(2 * i), k(2 * i + 1), i)
    tree.check()
    let worst = 0
    for (let i = 0; i < 2 * n; i += 37) {
      const got: number[] = []
      worst = Math.max(worst, tree.stab(k(i), (v) => got.push(v)))
      expect(got).to.deep.equal(i % 2 === 0 ? [i / 2] : [])
    }
    // A height-balanced tree of 10 000 nodes is at most 1.44 * log2(n) ~ 19 deep; a scan would
    // look at all of them.
    expect(worst).to.be.at.most(2 * 20)
  })

  it('keeps equal intervals in one node and drops it with its last value', () => {
    const tree = new IntervalTree<string>()
    tree.insert('a', 'c', 'x')
    tree.insert('a', 'c', 'y')
    tree.insert('a', null, 'z')
    expect(tree.size).to.equal(2)
    expect(tree.delete('a', 'c', 'x')).to.equal(true)
    expect(tree.size).to.equal(2)
    expect(tree.delete('a', 'c', 'y')).to.equal(true)
    expect(tree.size).to.equal(1)
    expect(tree.entries()).to.deep.equal([{lo: 'a', hi: null, values: ['z']}])
    const got: string[] = []
    tree.stab('\xff\xff', (v) => got.push(v))
    expect(got).to.deep.equal(['z'])
  })
})
