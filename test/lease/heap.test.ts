import {expect} from 'chai'
import fc from 'fast-check'
import {DueHeap} from '../../src/lease/heap.js'

describe('lease/DueHeap', () => {
  it('agrees with a plain map on random sets, moves, deletes and pops', () => {
    const op = fc.oneof(
      fc.record({set: fc.integer({min: 0, max: 20}), time: fc.integer({min: 0, max: 50})}),
      fc.record({del: fc.integer({min: 0, max: 20})}),
      fc.constant({pop: true}),
    )
    fc.assert(fc.property(fc.array(op, {maxLength: 200}), (ops) => {
      const heap = new DueHeap<number>()
      const model = new Map<number, number>()
      for (const o of ops) {
        if ('set' in o) {
          heap.set(o.set, o.time)
          model.set(o.set, o.time)
        } else if ('del' in o) {
          heap.delete(o.del)
          model.delete(o.del)
        } else {
          const top = heap.peek()
          const min = Math.min(...model.values())
          expect(top?.time).to.equal(model.size === 0 ? undefined : min)
          if (top !== undefined) {
            expect(model.get(top.key)).to.equal(min)
            heap.delete(top.key)
            model.delete(top.key)
          }
        }
        expect(heap.size).to.equal(model.size)
        for (const [k, t] of model) expect(heap.get(k)).to.equal(t)
      }
    }), {seed: 20261203, numRuns: 300})
  })
})
