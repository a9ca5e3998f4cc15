// Unit tests of MajorityConfig and JointConfig beyond the golden files: construction, set
// operations, formatting and the edge cases of the arithmetic.
import {expect} from 'chai'
import {JointConfig, MajorityConfig, VoteResult} from '../../../src/raft/quorum/index.js'

describe('MajorityConfig', () => {
  it('keeps distinct non-zero ids sorted and iterates them in order', () => {
    const c = new MajorityConfig([3, 1, 0, 2, 3])
    expect(c.size).to.equal(3)
    expect([...c]).to.deep.equal([1, 2, 3])
    expect(c.slice()).to.deep.equal([1, 2, 3])
    expect(c.has(2)).to.equal(true)
    expect(c.has(0)).to.equal(false)
    expect(c.toString()).to.equal('(1 2 3)')
  })

  it('is empty by default and prints "()"', () => {
    const c = new MajorityConfig()
    expect(c.size).to.equal(0)
    expect(c.toString()).to.equal('()')
    expect(c.committedIndex(() => 5)).to.equal(Infinity)
    expect(c.voteResult(new Map([[1, false]]))).to.equal(VoteResult.Won)
  })

  it('hands out copies from slice() so callers cannot change the config', () => {
    const c = new MajorityConfig([1, 2])
    c.slice().push(3)
    expect(c.size).to.equal(2)
  })

  it('refuses ids that are not non-negative safe integers', () => {
    expect(() => new MajorityConfig([1, -1])).to.throw(RangeError, 'invalid node id -1')
    expect(() => new MajorityConfig([1.5])).to.throw(RangeError, 'invalid node id 1.5')
    expect(() => new MajorityConfig([2 ** 53])).to.throw(RangeError, 'invalid node id')
    expect(() => new MajorityConfig([NaN])).to.throw(RangeError, 'invalid node id NaN')
  })

  it('computes the quorum size as floor(n/2)+1', () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => new MajorityConfig(Array.from({length: n}, (_, i) => i + 1)).quorum))
      .to.deep.equal([1, 1, 2, 2, 3, 3])
  })

  it('ignores acks and votes of non-voters', () => {
    const c = new MajorityConfig([1, 2, 3])
    const acks = new Map([[1, 5], [4, 100], [5, 100]])
    expect(c.committedIndex((id) => acks.get(id))).to.equal(0)
    expect(c.voteResult(new Map([[1, true], [4, true], [5, true]]))).to.equal(VoteResult.Pending)
  })

  it('compares configs by their voters', () => {
    expect(new MajorityConfig([1, 2]).equals(new MajorityConfig([2, 1, 0]))).to.equal(true)
    expect(new MajorityConfig([1, 2]).equals(new MajorityConfig([1, 3]))).to.equal(false)
  })
})

describe('JointConfig', () => {
  const inc = new MajorityConfig([1, 2, 3])
  const out = new MajorityConfig([3, 4])

  it('is not joint without an outgoing half and prints as its incoming half', () => {
    const j = new JointConfig(inc)
    expect(j.isJoint()).to.equal(false)
    expect(j.outgoing.size).to.equal(0)
    expect(j.toString()).to.equal('(1 2 3)')
  })

  it('is joint with a non-empty outgoing half and prints "incoming&&outgoing"', () => {
    const j = new JointConfig(inc, out)
    expect(j.isJoint()).to.equal(true)
    expect(j.toString()).to.equal('(1 2 3)&&(3 4)')
    expect([...j.ids()].sort()).to.deep.equal([1, 2, 3, 4])
    expect(j.has(4)).to.equal(true)
    expect(j.has(5)).to.equal(false)
  })

  it('returns a fresh id set each time', () => {
    const j = new JointConfig(inc, out)
    j.ids().add(9)
    expect(j.has(9)).to.equal(false)
  })

  it('commits the minimum of the halves; the empty config commits Infinity', () => {
    const acks = new Map([[1, 10], [2, 10], [3, 7], [4, 2]])
    expect(new JointConfig(inc, out).committedIndex((id) => acks.get(id))).to.equal(2)
    expect(new JointConfig(new MajorityConfig()).committedIndex(() => 1)).to.equal(Infinity)
  })

  it('loses if either half loses and wins only if both win', () => {
    const j = new JointConfig(inc, out)
    // Incoming won, outgoing (3 4) still waits for 4: pending.
    expect(j.voteResult(new Map([[1, true], [2, true], [3, true]]))).to.equal(VoteResult.Pending)
    // In the two-voter outgoing half a single rejection already loses.
    expect(j.voteResult(new Map([[1, true], [2, true], [3, true], [4, false]]))).to.equal(VoteResult.Lost)
    expect(j.voteResult(new Map([[1, true], [2, true], [3, true], [4, true]]))).to.equal(VoteResult.Won)
    expect(j.voteResult(new Map([[1, true], [2, true], [3, false], [4, false]]))).to.equal(VoteResult.Lost)
    expect(j.voteResult(new Map([[1, false], [2, false], [3, true], [4, true]]))).to.equal(VoteResult.Lost)
  })

  it('compares both halves', () => {
    expect(new JointConfig(inc, out).equals(new JointConfig(new MajorityConfig([1, 2, 3]), new MajorityConfig([4, 3])))).to.equal(true)
    expect(new JointConfig(inc, out).equals(new JointConfig(out, inc))).to.equal(false)
  })
})
