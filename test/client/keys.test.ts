import {expect} from 'chai'
import {ALL_FROM, prefixEnd, rangeEndFor, toBytes} from '../../src/client/keys.js'

describe('client/keys', () => {
  it('computes the end of a prefix range as etcd does', () => {
    expect([...prefixEnd(toBytes('a/'))]).to.deep.equal([...toBytes('a0')])
    expect([...prefixEnd(Uint8Array.of(0x61, 0xff))]).to.deep.equal([0x62])
    expect([...prefixEnd(Uint8Array.of(0xff, 0xff))]).to.deep.equal([...ALL_FROM])
    expect([...prefixEnd(new Uint8Array(0))]).to.deep.equal([0])
  })

  it('chooses the range end from prefix or rangeEnd, and refuses both', () => {
    const k = toBytes('k')
    expect(rangeEndFor(k, {})).to.have.length(0)
    expect([...rangeEndFor(k, {prefix: true})]).to.deep.equal([...toBytes('l')])
    expect([...rangeEndFor(k, {rangeEnd: 'z'})]).to.deep.equal([...toBytes('z')])
    expect(() => rangeEndFor(k, {prefix: true, rangeEnd: 'z'})).to.throw(/either prefix or rangeEnd/)
  })
})
