// Inflights (etcd-io/raft tracker/inflights_test.go): the flow-control window of one follower.
import {expect} from 'chai'
import {InvalidInputError, RaftInvariantError} from '../../../src/raft/errors.js'
import {Inflights} from '../../../src/raft/tracker/index.js'

/** Adds indexes from..to (inclusive), each with `bytes` bytes. */
function addRange(in_: Inflights, from: number, to: number, bytes = 0): void {
  for (let i = from; i <= to; i++) in_.add(i, bytes)
}

describe('Inflights', () => {
  it('counts added indexes until the size limit, then is full', () => {
    const in_ = new Inflights(10)
    addRange(in_, 0, 4)
    expect(in_.count()).to.equal(5)
    expect(in_.full()).to.equal(false)
    addRange(in_, 5, 9)
    expect(in_.count()).to.equal(10)
    expect(in_.full()).to.equal(true)
    expect(in_.indexes()).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it('refuses to add into a full window', () => {
    const in_ = new Inflights(2)
    addRange(in_, 1, 2)
    expect(() => in_.add(3, 0)).to.throw(RaftInvariantError, 'full inflights')
  })

  it('refuses indexes that do not increase', () => {
    const in_ = new Inflights(5)
    in_.add(4, 0)
    expect(() => in_.add(4, 0)).to.throw(RaftInvariantError, 'does not increase')
    expect(() => in_.add(3, 0)).to.throw(RaftInvariantError, 'does not increase')
    expect(in_.count()).to.equal(1)
  })

  it('is full once the byte budget is used up, even with free slots', () => {
    const in_ = new Inflights(10, 1000)
    in_.add(1, 400)
    in_.add(2, 599)
    expect(in_.bytes()).to.equal(999)
    expect(in_.full()).to.equal(false)
    in_.add(3, 1)
    expect(in_.full()).to.equal(true)
    in_.freeLE(1)
    expect(in_.bytes()).to.equal(600)
    expect(in_.full()).to.equal(false)
  })

  it('lets one message exceed the byte budget (the check is before adding)', () => {
    const in_ = new Inflights(10, 100)
    in_.add(1, 5000)
    expect(in_.full()).to.equal(true)
    expect(in_.bytes()).to.equal(5000)
  })

  it('has an unlimited byte budget with maxBytes 0', () => {
    const in_ = new Inflights(3, 0)
    in_.add(1, Number.MAX_SAFE_INTEGER)
    expect(in_.full()).to.equal(false)
  })

  it('freeLE frees every index <= to and nothing else', () => {
    const in_ = new Inflights(10)
    addRange(in_, 0, 9, 10)
    in_.freeLE(0)
    expect(in_.indexes()).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9])
    in_.freeLE(8)
    expect(in_.indexes()).to.deep.equal([9])
    expect(in_.bytes()).to.equal(10)
    // An index below the window frees nothing.
    in_.freeLE(3)
    expect(in_.count()).to.equal(1)
    in_.freeLE(9)
    expect(in_.count()).to.equal(0)
    expect(in_.bytes()).to.equal(0)
  })

  it('works across the ring buffer wrap-around', () => {
    const in_ = new Inflights(5)
    addRange(in_, 1, 5)
    in_.freeLE(3)
    addRange(in_, 6, 8)
    expect(in_.full()).to.equal(true)
    expect(in_.indexes()).to.deep.equal([4, 5, 6, 7, 8])
    in_.freeLE(6)
    expect(in_.indexes()).to.deep.equal([7, 8])
    addRange(in_, 9, 11)
    expect(in_.indexes()).to.deep.equal([7, 8, 9, 10, 11])
    in_.freeLE(100)
    expect(in_.count()).to.equal(0)
    addRange(in_, 12, 16)
    expect(in_.indexes()).to.deep.equal([12, 13, 14, 15, 16])
  })

  it('freeLE on an empty window is a no-op', () => {
    const in_ = new Inflights(3)
    in_.freeLE(10)
    expect(in_.count()).to.equal(0)
  })

  it('reset empties the window and its bytes', () => {
    const in_ = new Inflights(3, 1000)
    addRange(in_, 1, 3, 50)
    expect(in_.full()).to.equal(true)
    in_.reset()
    expect(in_.count()).to.equal(0)
    expect(in_.bytes()).to.equal(0)
    expect(in_.full()).to.equal(false)
    // After a reset any index may start the window again.
    in_.add(1, 0)
    expect(in_.indexes()).to.deep.equal([1])
  })

  it('clone is independent of the original', () => {
    const a = new Inflights(4, 100)
    addRange(a, 1, 2, 10)
    const b = a.clone()
    b.add(3, 10)
    a.freeLE(1)
    expect(a.indexes()).to.deep.equal([2])
    expect(b.indexes()).to.deep.equal([1, 2, 3])
    expect(b.bytes()).to.equal(30)
    expect([b.size, b.maxBytes]).to.deep.equal([4, 100])
  })

  it('refuses invalid limits and byte sizes', () => {
    expect(() => new Inflights(0)).to.throw(InvalidInputError, 'size must be a positive safe integer, got 0')
    expect(() => new Inflights(1.5)).to.throw(InvalidInputError, 'size')
    expect(() => new Inflights(2, -1)).to.throw(InvalidInputError, 'maxBytes must be a non-negative safe integer, got -1')
    expect(() => new Inflights(2).add(1, -5)).to.throw(InvalidInputError, 'bytes must be a non-negative safe integer')
  })
})
