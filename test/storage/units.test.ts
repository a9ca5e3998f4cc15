import {expect} from 'chai'
import fc from 'fast-check'
import {
  compareBytes, decodeIdentity, decodeIndexTerm, decodeMember, describeKey, encodeIdentity,
  encodeIndexTerm, encodeMember, escapeUserKey, historyKey, historyKeyBounds, historyKeyFloor, logKey,
  minRetainIndex, parseHistoryKey, planCompaction, prefixRangeEnd, revKey, revOfKey, STORAGE_FORMAT_VERSION, u64be,
} from '../../src/storage/index.js'
import {planAppend} from '../../src/storage/log_plan.js'
import {ents} from './helpers.js'

describe('storage/keys, records and plans', () => {
  it('encodes log indexes so that byte order equals numeric order', () => {
    fc.assert(fc.property(fc.nat({max: Number.MAX_SAFE_INTEGER}), fc.nat({max: Number.MAX_SAFE_INTEGER}), (x, y) => {
      expect(Math.sign(compareBytes(logKey(x), logKey(y)))).to.equal(Math.sign(x - y))
    }))
    expect(() => u64be(-1)).to.throw(RangeError)
    expect(() => u64be(2 ** 53)).to.throw(RangeError)
  })

  it('ends the range of a record kind at its prefix end and refuses a prefix that has none', () => {
    expect(prefixRangeEnd(new TextEncoder().encode('l/'))).to.deep.equal(new TextEncoder().encode('l0'))
    expect(() => prefixRangeEnd(new Uint8Array([0xff]))).to.throw(RangeError, /below 0xff/)
  })

  it('escapes user keys in h/ keys so that they sort as the user keys, and parses them back', () => {
    const key = fc.uint8Array({maxLength: 6}).map((k) => k.map((x) => [0, 1, 0xff, 0x61][x % 4]))
    const rev = fc.record({main: fc.nat({max: Number.MAX_SAFE_INTEGER}), sub: fc.nat({max: 1000})})
    fc.assert(fc.property(key, key, rev, rev, (a, c, ra, rc) => {
      const ka = historyKey(a, ra)
      const kc = historyKey(c, rc)
      const byKey = compareBytes(a, c)
      if (byKey !== 0) expect(Math.sign(compareBytes(ka, kc)), 'key order first').to.equal(Math.sign(byKey))
      else expect(Math.sign(compareBytes(ka, kc)), 'then revision order').to.equal(Math.sign(compareBytes(revKey(ra), revKey(rc))))
      expect(parseHistoryKey(ka)).to.deep.equal({key: a, rev: ra})
      expect(revOfKey(revKey(ra))).to.deep.equal(ra)
      // Bounds: a key's entries are inside its own bounds and outside every other key's.
      const {gte, lt} = historyKeyBounds(c)
      const inside = compareBytes(ka, gte) >= 0 && compareBytes(ka, lt) < 0
      expect(inside).to.equal(byKey === 0)
      // The floor of c sits below every key >= c and above every key < c.
      expect(compareBytes(ka, historyKeyFloor(c)) >= 0).to.equal(byKey >= 0)
    }), {numRuns: 2000})
    expect(escapeUserKey(Uint8Array.of(0x61, 0x00))).to.deep.equal(Uint8Array.of(0x61, 0x00, 0xff, 0x00, 0x01))
    expect(parseHistoryKey(new TextEncoder().encode('h/abc'))).to.equal(undefined)
  })

  it('describes keys readably in error messages', () => {
    expect(describeKey(new TextEncoder().encode('r/hardstate'))).to.equal('"r/hardstate"')
    expect(describeKey(logKey(258))).to.equal('"l/" + 0x0000000000000102')
  })

  it('round-trips and checks fixed records', () => {
    const id = {formatVersion: STORAGE_FORMAT_VERSION, clusterId: 5, nodeId: 9}
    expect(STORAGE_FORMAT_VERSION).to.equal(2)
    expect(decodeIdentity(encodeIdentity(id))).to.deep.equal({ok: true, value: id})
    expect(decodeIdentity(encodeIdentity({...id, formatVersion: 3}))).to.deep.include({ok: false})
    expect(decodeIdentity(new Uint8Array(3))).to.deep.equal({ok: false, problem: 'expected 17 bytes, found 3'})
    const bad = encodeIndexTerm({index: 1, term: 1})
    bad.fill(0xff, 0, 8)
    expect(decodeIndexTerm(bad)).to.deep.equal({ok: false, problem: 'index or term is above 2^53-1'})
    const m = {id: 3, name: 'n3', peerUrls: ['h:1'], clientUrls: ['h:2']}
    expect(decodeMember(encodeMember(m))).to.deep.equal(m)
    expect(() => decodeMember(encodeMember({...m, id: 0}))).to.throw(/Member.id is 0/)
  })

  it('plans appends: drops compacted entries, replaces a conflicting suffix, refuses gaps', () => {
    expect(planAppend(5, 10, ents(3, 6, 1))).to.deep.include({deleteFrom: 7, deleteTo: 10})
    expect(planAppend(5, 10, ents(3, 6, 1)).put.map((e) => e.index)).to.deep.equal([5, 6])
    expect(planAppend(5, 10, ents(1, 3, 1)).put).to.deep.equal([])
    expect(() => planAppend(1, 3, ents(5, 5, 1))).to.throw(/log ends at 3/)
    expect(() => planAppend(1, 3, [...ents(2, 2, 2), ...ents(3, 3, 1)])).to.throw(/below the term/)
  })

  it('plans compaction: snapshot bound, trailing count, minRetainIndex, never backwards', () => {
    const base = {requested: 100, snapshotIndex: 80, trailing: 10, compacted: 0, last: 120}
    expect(planCompaction(base)).to.equal(70)
    expect(planCompaction({...base, minRetainIndex: 50})).to.equal(49)
    expect(planCompaction({...base, compacted: 75})).to.equal(75)
    expect(planCompaction({...base, trailing: 200})).to.equal(0)
    fc.assert(fc.property(fc.nat(1000), fc.nat(1000), fc.nat(50), fc.option(fc.nat(1000), {nil: undefined}), fc.nat(1000),
      (requested, snapshotIndex, trailing, minRetain, compacted) => {
        const to = planCompaction({requested, snapshotIndex, trailing, minRetainIndex: minRetain, compacted, last: 1000})
        expect(to).to.be.at.least(compacted)
        if (to > compacted) {
          expect(to).to.be.at.most(Math.min(requested, snapshotIndex) - trailing)
          if (minRetain !== undefined) expect(to).to.be.below(minRetain)
        }
      }))
  })

  it('computes the retain index from followers in replicate state only', () => {
    expect(minRetainIndex([{match: 10, replicating: true}, {match: 4, replicating: false}, {match: 7, replicating: true}])).to.equal(8)
    expect(minRetainIndex([{match: 4, replicating: false}])).to.equal(undefined)
  })
})
