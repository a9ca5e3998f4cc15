import {expect} from 'chai'
import {ALL_FROM, keyRange, prefixEnd, toBytes} from '../../src/client/keys.js'
import {prefixEnd as sharedPrefixEnd} from '../../src/raftpb/key_range.js'

const hex = (r: {key: Uint8Array, rangeEnd: Uint8Array}): [string, string] =>
  [Buffer.from(r.key).toString('hex'), Buffer.from(r.rangeEnd).toString('hex')]

describe('client/keys', () => {
  it('uses the one shared prefixEnd (src/raftpb/key_range.ts)', () => {
    expect(prefixEnd).to.equal(sharedPrefixEnd)
    expect([...prefixEnd(Uint8Array.of(0xff, 0xff))]).to.deep.equal([...ALL_FROM])
  })

  it('builds key and range_end for one key, a prefix, --from-key and an explicit end', () => {
    expect(hex(keyRange('k'))).to.deep.equal(['6b', ''])
    expect(hex(keyRange('k', {prefix: true}))).to.deep.equal(['6b', '6c'])
    expect(hex(keyRange('k', {fromKey: true}))).to.deep.equal(['6b', '00'])
    expect(hex(keyRange('k', {rangeEnd: 'z'}))).to.deep.equal(['6b', '7a'])
    expect(hex(keyRange(Uint8Array.of(0xff), {prefix: true}))).to.deep.equal(['ff', '00'])
  })

  it('sends an empty key with a prefix or --from-key as etcd\'s client does: key "\\0", range_end "\\0" (every key)', () => {
    expect(hex(keyRange('', {prefix: true}))).to.deep.equal(['00', '00'])
    expect(hex(keyRange(toBytes(''), {fromKey: true}))).to.deep.equal(['00', '00'])
    expect(hex(keyRange(''))).to.deep.equal(['', ''])
  })

  it('refuses more than one way of naming the range end', () => {
    expect(() => keyRange('k', {prefix: true, rangeEnd: 'z'})).to.throw(/at most one of prefix, fromKey and rangeEnd/)
    expect(() => keyRange('k', {prefix: true, fromKey: true})).to.throw(/at most one of/)
  })
})
