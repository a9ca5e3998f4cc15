import {expect} from 'chai'
import {Lessor, type Checkpoint} from '../../src/lease/index.js'
import {LessorBench} from './lessor_helpers.js'

describe('lease/Lessor (fake clock)', () => {
  describe('expiry', () => {
    it('reports a lease exactly when its TTL has passed since the grant was applied, not a millisecond before', () => {
      const t = new LessorBench()
      t.lessor.promote(1000)
      t.clock.now = 500
      t.grant(1n, 10)
      expect(t.expiredAt(10_499)).to.deep.equal([])
      expect(t.expiredAt(10_500)).to.deep.equal([1n])
    })

    it('extends a lease by its full TTL from each keep-alive', () => {
      const t = new LessorBench()
      t.lessor.promote(0)
      t.grant(1n, 10)
      t.clock.now = 6000
      expect(t.lessor.keepAlive(1n)).to.deep.equal({kind: 'renewed', ttl: 10})
      expect(t.expiredAt(15_999)).to.deep.equal([])
      expect(t.lessor.timeToLive(1n)).to.deep.equal({kind: 'found', ttl: 0, grantedTtl: 10})
      expect(t.expiredAt(16_000)).to.deep.equal([1n])
    })

    it('reports an unrevoked lease again only after the retry interval, and forgets it once revoked', () => {
      const t = new LessorBench({expiredRetryMs: 3000})
      t.lessor.promote(0)
      t.grant(1n, 5)
      expect(t.expiredAt(5000)).to.deep.equal([1n])
      expect(t.expiredAt(7999)).to.deep.equal([])
      expect(t.lessor.keepAlive(1n)).to.deep.equal({kind: 'expired'})
      expect(t.expiredAt(8000)).to.deep.equal([1n])
      t.apply({revoke: 1n})
      expect(t.expiredAt(20_000)).to.deep.equal([])
      expect(t.lessor.keepAlive(1n)).to.deep.equal({kind: 'not-found'})
      expect(t.lessor.timeToLive(1n)).to.deep.equal({kind: 'not-found'})
    })

    it('answers time-to-live in whole seconds rounded down, as etcd', () => {
      const t = new LessorBench()
      t.lessor.promote(0)
      t.grant(1n, 30)
      t.clock.now = 1
      expect(t.lessor.timeToLive(1n)).to.deep.equal({kind: 'found', ttl: 29, grantedTtl: 30})
    })
  })

  describe('leadership', () => {
    it('decides nothing before promote or after demote', () => {
      const t = new LessorBench()
      t.grant(1n, 1)
      expect(t.lessor.isLeader).to.equal(false)
      expect(t.expiredAt(60_000)).to.deep.equal([])
      expect(t.lessor.keepAlive(1n)).to.deep.equal({kind: 'not-leader'})
      expect(t.lessor.timeToLive(1n)).to.deep.equal({kind: 'not-leader'})
      t.lessor.promote(0)
      expect(t.lessor.checkpoints()).to.deep.equal([])
      t.lessor.demote()
      expect(t.expiredAt(600_000)).to.deep.equal([])
      expect(t.lessor.keepAlive(1n)).to.deep.equal({kind: 'not-leader'})
    })

    it('gives every lease its full TTL plus the extension on promote, so an election never expires one', () => {
      const t = new LessorBench()
      t.lessor.promote(0)
      t.grant(1n, 10)
      t.clock.now = 9000
      t.lessor.demote()
      t.clock.now = 9500
      t.lessor.promote(1000)
      expect(t.lessor.expiryOf(1n)).to.equal(9500 + 1000 + 10_000)
      expect(t.expiredAt(20_499)).to.deep.equal([])
      expect(t.expiredAt(20_500)).to.deep.equal([1n])
    })

    it('starts a checkpointed lease at its remaining TTL after a leader change, not at its full TTL', () => {
      const t = new LessorBench({checkpointIntervalMs: 60_000})
      t.lessor.promote(0)
      t.grant(1n, 600)
      t.clock.now = 59_999
      expect(t.lessor.checkpoints()).to.deep.equal([])
      t.clock.now = 60_000
      const cps = t.lessor.checkpoints()
      expect(cps).to.deep.equal([{ID: 1n, remainingTTL: 540, grantedIndex: 1}])
      t.apply({checkpoint: cps})
      t.lessor.demote()
      t.clock.now = 61_000
      t.lessor.promote(1000)
      expect(t.lessor.expiryOf(1n)).to.equal(61_000 + 1000 + 540_000)
    })

    it('rounds a checkpoint up to whole seconds, so it never shortens a lease', () => {
      const t = new LessorBench({checkpointIntervalMs: 60_000})
      t.lessor.promote(0)
      t.clock.now = 1
      t.grant(1n, 600)
      t.clock.now = 60_001 + 400
      expect(t.lessor.checkpoints()).to.deep.equal([{ID: 1n, remainingTTL: 540, grantedIndex: 1}])
    })
  })

  describe('checkpoints', () => {
    it('checkpoints only leases longer than the interval, once per interval, and never when turned off', () => {
      const t = new LessorBench({checkpointIntervalMs: 60_000})
      t.lessor.promote(0)
      t.grant(1n, 60)
      t.grant(2n, 61)
      t.clock.now = 60_000
      expect(t.lessor.checkpoints()).to.deep.equal([{ID: 2n, remainingTTL: 1, grantedIndex: 2}])
      expect(t.lessor.checkpoints()).to.deep.equal([])
      const off = new LessorBench({checkpointIntervalMs: 0})
      off.lessor.promote(0)
      off.grant(1n, 9_000_000)
      off.clock.now = 10 * 60_000
      expect(off.lessor.checkpoints()).to.deep.equal([])
    })

    it('asks a keep-alive to reset the checkpoint while one is recorded or in flight', () => {
      const t = new LessorBench({checkpointIntervalMs: 60_000})
      t.lessor.promote(0)
      t.grant(1n, 600)
      t.clock.now = 60_000
      const cps = t.lessor.checkpoints()
      t.clock.now = 60_100
      const reset = {ID: 1n, remainingTTL: 0, grantedIndex: 1}
      expect(t.lessor.keepAlive(1n)).to.deep.equal({kind: 'renewed', ttl: 600, reset})
      t.apply({checkpoint: cps})
      expect(t.lessor.keepAlive(1n)).to.deep.equal({kind: 'renewed', ttl: 600, reset})
      t.apply({checkpoint: [reset]})
      t.apply({checkpoint: [reset]})
      expect(t.lessor.keepAlive(1n)).to.deep.equal({kind: 'renewed', ttl: 600})
    })

    it('keeps asking for resets until every checkpoint handed out for the lease is applied', () => {
      // A checkpoint taken while a keep-alive's reset is in flight applies after the reset; a
      // keep-alive acknowledged in between without a reset would be cut short by it after an election.
      const t = new LessorBench({checkpointIntervalMs: 5000})
      t.lessor.promote(0)
      t.grant(1n, 20)
      t.clock.now = 5000
      t.apply({checkpoint: t.lessor.checkpoints()})
      t.clock.now = 6000
      const first = t.lessor.keepAlive(1n)
      expect(first).to.have.property('reset')
      t.clock.now = 10_000
      const later = t.lessor.checkpoints()
      expect(later).to.deep.equal([{ID: 1n, remainingTTL: 16, grantedIndex: 1}])
      t.apply({checkpoint: [(first as {reset: Checkpoint}).reset]})
      t.clock.now = 11_000
      expect(t.lessor.keepAlive(1n)).to.have.property('reset')
    })

    it('stops asking for resets when a handed-out checkpoint is reported dropped', () => {
      const t = new LessorBench({checkpointIntervalMs: 60_000})
      t.lessor.promote(0)
      t.grant(1n, 600)
      t.clock.now = 60_000
      expect(t.lessor.checkpoints()).to.have.length(1)
      t.lessor.checkpointDropped(1n)
      expect(t.lessor.keepAlive(1n)).to.deep.equal({kind: 'renewed', ttl: 600})
    })

    it('returns at most maxCheckpointBatch checkpoints per call, and the rest later', () => {
      const t = new LessorBench({checkpointIntervalMs: 1000, maxCheckpointBatch: 3})
      t.lessor.promote(0)
      for (let i = 1n; i <= 5n; i++) t.grant(i, 100)
      t.clock.now = 1000
      expect(t.lessor.checkpoints().map((c) => c.ID)).to.have.length(3)
      expect(t.lessor.checkpoints().map((c) => c.ID)).to.have.length(2)
    })
  })

  describe('rate limit', () => {
    it('reports at most half the revoke rate at once and the rate per second after that', () => {
      const t = new LessorBench({revokesPerSecond: 100})
      t.lessor.promote(0)
      for (let i = 1n; i <= 400n; i++) t.grant(i, 5)
      const perCall: number[] = []
      for (let ms = 5000; perCall.reduce((a, c) => a + c, 0) < 400 && ms <= 20_000; ms += 100) {
        const ids = t.expiredAt(ms)
        for (const id of ids) t.apply({revoke: id})
        perCall.push(ids.length)
      }
      expect(perCall[0]).to.equal(50)
      expect(perCall.slice(1).every((c) => c === 10)).to.equal(true)
      expect(t.clock.now).to.equal(8500)
      t.grant(1000n, 5)
      for (let i = 1001n; i <= 1100n; i++) t.grant(i, 5)
      expect(t.expiredAt(60_000)).to.have.length(50)
      expect(t.expiredAt(60_000)).to.have.length(0)
    })

    it('spreads expiries after promote so no second holds more than 3/4 of the rate, never shortening a lease', () => {
      const t = new LessorBench({revokesPerSecond: 100})
      for (let i = 1n; i <= 300n; i++) t.grant(i, 10)
      t.lessor.promote(1000)
      const expiries = [...t.state.list()].map((l) => t.lessor.expiryOf(l.id)!)
      expect(Math.min(...expiries)).to.equal(11_000)
      const perSecond = new Map<number, number>()
      for (const e of expiries) perSecond.set(Math.floor(e / 1000), (perSecond.get(Math.floor(e / 1000)) ?? 0) + 1)
      expect(Math.max(...perSecond.values())).to.be.at.most(75)
    })
  })

  it('refuses options that are not integers in range', () => {
    const src = new LessorBench().state
    expect(() => new Lessor(src, () => 0, {checkpointIntervalMs: -1})).to.throw(RangeError, 'checkpointIntervalMs must be an integer >= 0, got -1')
    expect(() => new Lessor(src, () => 0, {revokesPerSecond: 0})).to.throw(RangeError, 'revokesPerSecond must be an integer >= 1')
  })
})
