import {expect} from 'chai'
import fc from 'fast-check'
import {ALL_FROM, isAllFrom, prefixEnd} from '../../src/raftpb/key_range.js'

const cmp = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(a, b)

describe('raftpb/key_range: etcd\'s prefix end, the one implementation for client, kv and storage', () => {
  it('increments the last byte below 0xff and drops what follows', () => {
    expect([...prefixEnd(new TextEncoder().encode('a/'))]).to.deep.equal([...new TextEncoder().encode('a0')])
    expect([...prefixEnd(Uint8Array.of(0x61, 0xff))]).to.deep.equal([0x62])
    expect([...prefixEnd(Uint8Array.of(0x61, 0xfe, 0xff, 0xff))]).to.deep.equal([0x61, 0xff])
  })

  it('gives "\\0" (every key from the prefix on) for an empty or all-0xff prefix, as etcd does', () => {
    expect([...prefixEnd(new Uint8Array(0))]).to.deep.equal([0])
    expect([...prefixEnd(Uint8Array.of(0xff))]).to.deep.equal([0])
    expect([...prefixEnd(Uint8Array.of(0xff, 0xff))]).to.deep.equal([...ALL_FROM])
    expect(isAllFrom(prefixEnd(Uint8Array.of(0xff, 0xff)))).to.equal(true)
    expect(isAllFrom(Uint8Array.of(0, 0))).to.equal(false)
    expect(isAllFrom(new Uint8Array(0))).to.equal(false)
  })

  it('bounds exactly the keys with the prefix (property)', () => {
    fc.assert(fc.property(fc.uint8Array({maxLength: 5}), fc.uint8Array({maxLength: 5}), (p, k) => {
      const end = prefixEnd(p)
      const hasPrefix = k.length >= p.length && cmp(k.subarray(0, p.length), p) === 0
      const inRange = cmp(k, p) >= 0 && (isAllFrom(end) || cmp(k, end) < 0)
      expect(inRange, `key ${Buffer.from(k).toString('hex')} prefix ${Buffer.from(p).toString('hex')}`).to.equal(hasPrefix)
    }), {numRuns: 2000})
  })

  it('does not change the prefix it is given', () => {
    const p = Uint8Array.of(1, 2)
    prefixEnd(p)
    expect([...p]).to.deep.equal([1, 2])
  })

  it('does not change a Buffer it is given (Buffer.slice shares memory)', () => {
    const p = Buffer.from('lock/')
    expect(Buffer.from(prefixEnd(p)).toString()).to.equal('lock0')
    expect(p.toString()).to.equal('lock/')
  })
})
