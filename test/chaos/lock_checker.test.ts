import {expect} from 'chai'
import {checkLocks, formatViolation, type LeaseTrail, leaseBound, type LockHistory, type LockRecord, parseLockHistory} from './lock_checker.js'

/** Times in the tests are in ms, stored as ns; TTLs in seconds. */
const ms = (t: number): number => t * 1_000_000

/** A lease of `ttl` s granted at `grant` ms with keep-alives `[sent, received, ttl]` in ms. */
const lease = (name: string, grant: number, ttl: number, keepAlives: Array<[number, number, number]> = []): LeaseTrail =>
  ({clientId: 0, lease: name, grantSentAt: ms(grant), ttl, keepAlives: keepAlives.map(([s, r, t]) => [ms(s), ms(r), t]), lostAt: null, lostReason: null})

/** An acquisition of lock `lock` with lease `l`, held from `from` to `to` ms (null: never released). */
const held = (l: string, rev: number, from: number, to: number | null, lost: number | null = null, lock = 'L', clientId = 0): LockRecord =>
  ({clientId, lock, lease: l, key: `${lock}/${l}`, revision: rev, acquiredAt: ms(from), releasedAt: to === null ? null : ms(to), leaseLostAt: lost === null ? null : ms(lost)})

const verdict = (h: LockHistory): string => checkLocks(h).verdict

describe('chaos/lock_checker (lock safety judged by lease validity)', () => {
  describe('the lease bound (one TTL after the sending of the last keep-alive confirmed in time)', () => {
    it('is the grant plus its TTL without keep-alives', () => {
      expect(leaseBound(lease('a', 100, 2))).to.equal(ms(2100))
    })

    it('moves with each answer received in time, counted from its request\'s sending', () => {
      expect(leaseBound(lease('a', 0, 2, [[600, 700, 2], [1300, 1900, 2]]))).to.equal(ms(3300))
    })

    it('does not move with an answer that arrives after the bound passed (the lease may have expired meanwhile)', () => {
      expect(leaseBound(lease('a', 0, 2, [[600, 700, 2], [1300, 2700, 2], [2800, 2810, 2]]))).to.equal(ms(2600))
    })

    it('ends when an answer says TTL 0 (the lease is gone), at its arrival', () => {
      expect(leaseBound(lease('a', 0, 2, [[600, 700, 2], [1300, 1310, 0]]))).to.equal(ms(1310))
    })
  })

  describe('hand-made histories', () => {
    it('accepts holders one after another, each released before the next acquires', () => {
      const h = {leases: [lease('a', 0, 2), lease('b', 0, 2)], acquisitions: [held('a', 10, 100, 200), held('b', 12, 250, 400)]}
      expect(checkLocks(h)).to.deep.include({verdict: 'safe', acquisitions: 2, tenures: 2, locks: 1, violations: []})
    })

    it('catches two holders at once, printing both records', () => {
      const h = {leases: [lease('a', 0, 2), lease('b', 0, 2)], acquisitions: [held('a', 10, 100, 300, null, 'L', 1), held('b', 12, 250, 400, null, 'L', 2)]}
      const r = checkLocks(h)
      expect(r.verdict).to.equal('unsafe')
      expect(r.violations.map((v) => v.kind)).to.deep.equal(['overlap'])
      expect(formatViolation(r.violations[0])).to.deep.equal([
        'two holders of L at once:',
        '  client 1: L/a revision 10, held [100.000 ms, 300.000 ms] (ended: released)',
        '  client 2: L/b revision 12, held [250.000 ms, 400.000 ms] (ended: released)',
      ])
    })

    it('catches a holder inside a long earlier tenure even when a short one lies between them', () => {
      const h = {
        leases: [lease('a', 0, 5), lease('b', 0, 5), lease('c', 0, 5)],
        acquisitions: [held('a', 10, 100, 1000), held('b', 12, 200, 300), held('c', 14, 500, 600)],
      }
      const r = checkLocks(h)
      expect(r.violations.map((v) => [v.kind, v.first.record.lease, v.second.record.lease]))
        .to.deep.equal([['overlap', 'a', 'b'], ['overlap', 'a', 'c']])
    })

    it('allows the overlap after the first holder\'s session reported its lease lost', () => {
      // Holder a still "releases" at 3000 ms (it only noticed late), but its session said at 1500 ms that the lease was lost.
      const h = {leases: [lease('a', 0, 10), lease('b', 0, 10)], acquisitions: [held('a', 10, 100, 3000, 1500), held('b', 12, 2000, 2500)]}
      expect(verdict(h)).to.equal('safe')
      h.acquisitions[0] = held('a', 10, 100, 3000, 2100)
      expect(verdict(h)).to.equal('unsafe')
    })

    it('allows the overlap after the first holder\'s lease bound (the TTL since its last confirmed keep-alive)', () => {
      // a's last keep-alive confirmed in time was sent at 600 ms with TTL 2 s: a may assume its lease only until 2600 ms.
      const trail = lease('a', 0, 2, [[600, 700, 2]])
      const h = {leases: [trail, lease('b', 0, 10)], acquisitions: [held('a', 10, 100, null), held('b', 12, 2600, 2700)]}
      expect(verdict(h)).to.equal('safe')
      // One more keep-alive confirmed in time extends it: then b's tenure overlaps.
      trail.keepAlives.push([ms(1200), ms(1300), 2])
      const r = checkLocks(h)
      expect(r.violations.map((v) => [v.kind, v.first.endReason])).to.deep.equal([['overlap', 'lease bound']])
    })

    it('ignores an acquisition that returned after its lease\'s bound, in both checks', () => {
      const h = {leases: [lease('a', 0, 2), lease('b', 0, 10)], acquisitions: [held('b', 12, 1000, 5000), held('a', 10, 2500, 3000)]}
      expect(checkLocks(h)).to.deep.include({verdict: 'safe', tenures: 1})
    })

    it('catches a fencing revision that does not grow from one holder to the next', () => {
      const h = {leases: [lease('a', 0, 2), lease('b', 0, 2)], acquisitions: [held('a', 12, 100, 200), held('b', 12, 250, 400)]}
      const r = checkLocks(h)
      expect(r.violations.map((v) => v.kind)).to.deep.equal(['fencing'])
      expect(formatViolation(r.violations[0])[0]).to.equal('fencing revision of L did not grow:')
    })

    it('judges each lock on its own', () => {
      const h = {leases: [lease('a', 0, 2), lease('b', 0, 2)], acquisitions: [held('a', 10, 100, 300, null, 'L'), held('b', 12, 150, 400, null, 'M')]}
      expect(checkLocks(h)).to.deep.include({verdict: 'safe', locks: 2})
    })

    it('refuses an acquisition whose lease has no record', () => {
      expect(() => checkLocks({leases: [], acquisitions: [held('a', 10, 100, 200)]})).to.throw('names lease a, which has no record')
    })
  })

  describe('the file', () => {
    it('reads back what checkLocks judges', () => {
      const h = {leases: [lease('a', 0, 2), lease('b', 0, 2)], acquisitions: [held('a', 10, 100, 300), held('b', 12, 250, 400)]}
      expect(verdict(parseLockHistory(JSON.stringify(h)))).to.equal('unsafe')
    })

    it('names the first bad entry in one line', () => {
      expect(() => parseLockHistory('[]', 'f.json')).to.throw('f.json must be a JSON object with the arrays "acquisitions" and "leases"')
      const bad = {leases: [lease('a', 0, 2)], acquisitions: [{...held('a', 10, 100, 300), acquiredAt: 'x'}]}
      expect(() => parseLockHistory(JSON.stringify(bad), 'f.json')).to.throw('f.json: acquisition 0: acquiredAt must be an integer (nanoseconds)')
      const badTrail = {leases: [{...lease('a', 0, 2), keepAlives: [[1, 2]]}], acquisitions: []}
      expect(() => parseLockHistory(JSON.stringify(badTrail), 'f.json')).to.throw('f.json: lease 0: keepAlives must be a list of [sent, received, ttl]')
    })
  })
})
