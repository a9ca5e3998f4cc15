import {expect} from 'chai'
import fc from 'fast-check'
import {clusterIdFor} from '../../src/storage/cluster_id.js'

describe('server/cluster_id', () => {
  const a = [{id: 1, peerUrl: '127.0.0.1:2380'}, {id: 2, peerUrl: '127.0.0.1:2382'}, {id: 3, peerUrl: '127.0.0.1:2384'}]

  it('is the same for the same members in any order', () => {
    expect(clusterIdFor(a)).to.equal(clusterIdFor([a[2], a[0], a[1]]))
  })

  it('differs when a member id or peer URL differs', () => {
    const base = clusterIdFor(a)
    expect(clusterIdFor([a[0], a[1], {id: 4, peerUrl: '127.0.0.1:2384'}])).to.not.equal(base)
    expect(clusterIdFor([a[0], a[1], {id: 3, peerUrl: '127.0.0.1:2386'}])).to.not.equal(base)
    expect(clusterIdFor([a[0], a[1]])).to.not.equal(base)
  })

  it('is always a safe integer in 1..2^48-1', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.integer({min: 1, max: 1000}), {minLength: 1, maxLength: 7}), (ids) => {
      const id = clusterIdFor(ids.map((i) => ({id: i, peerUrl: `10.0.0.${i % 250}:2380`})))
      return Number.isSafeInteger(id) && id >= 1 && id < 2 ** 48
    }))
  })
})
