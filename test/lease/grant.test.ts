import {expect} from 'chai'
import {chooseLeaseId, LeaseError, MAX_LEASE_TTL, minLeaseTtl, prepareGrant} from '../../src/lease/index.js'
import {CodedError} from '../../src/raft/errors.js'

describe('lease/grant (the proposer\'s side)', () => {
  it('derives the minimum TTL from the election timeout as etcd: ceil(floor(3 * ticks / 2) * tick)', () => {
    expect(minLeaseTtl(10, 100)).to.equal(2)
    expect(minLeaseTtl(5, 100)).to.equal(1)
    expect(minLeaseTtl(3, 1000)).to.equal(4)
    expect(minLeaseTtl(10, 1000)).to.equal(15)
    expect(() => minLeaseTtl(0, 100)).to.throw(RangeError, 'election ticks must be a positive integer, got 0')
  })

  const policy = {minTtl: 2, random64: () => 0xfedcba9876543210n}

  it('raises a TTL below the minimum to it and keeps larger ones', () => {
    expect(prepareGrant({ID: 5n, TTL: 1}, policy)).to.deep.equal({ID: 5n, TTL: 2})
    expect(prepareGrant({ID: 5n, TTL: 60}, policy)).to.deep.equal({ID: 5n, TTL: 60})
    expect(prepareGrant({ID: 5n, TTL: MAX_LEASE_TTL}, policy).TTL).to.equal(MAX_LEASE_TTL)
  })

  it('refuses a TTL that is not positive or above etcd\'s maximum, naming it', () => {
    const refused = (TTL: number): LeaseError => {
      try {
        prepareGrant({ID: 0n, TTL}, policy)
      } catch (err) {
        return err as LeaseError
      }
      throw new Error(`TTL ${TTL} was accepted`)
    }
    expect(refused(0)).to.include({code: 'LEASE_TTL_NOT_POSITIVE', message: 'lease TTL must be a positive number of seconds, got 0', name: 'LeaseError'})
    expect(refused(0)).to.be.instanceOf(CodedError)
    expect(refused(-5).code).to.equal('LEASE_TTL_NOT_POSITIVE')
    expect(refused(MAX_LEASE_TTL + 1)).to.include({code: 'LEASE_TTL_TOO_LARGE', message: 'lease TTL 9000000001 s is above the maximum of 9000000000 s'})
  })

  it('chooses a positive 63-bit id when the client gives 0 and keeps a client\'s id, negative ones too', () => {
    expect(prepareGrant({ID: 0n, TTL: 10}, policy).ID).to.equal(0x7edcba9876543210n)
    expect(prepareGrant({ID: -3n, TTL: 10}, policy).ID).to.equal(-3n)
    const draws = [1n << 63n, 0n, 42n]
    expect(chooseLeaseId(() => draws.shift()!)).to.equal(42n)
    expect(() => chooseLeaseId(() => 0n)).to.throw('the random source gave 0 sixty-four times in a row')
  })
})
