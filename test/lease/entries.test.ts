import {expect} from 'chai'
import {LeaseCheckpointEntry, LeaseRevokeEntry} from '../../src/generated/raftctl/v1/internal.js'
import {checkpointEntry, checkpointsOf, LeaseError, revokeEntry, revokeOf} from '../../src/lease/index.js'
import {LessorBench} from './lessor_helpers.js'

describe('lease/entries (the revoke and checkpoint entries of the log)', () => {
  it('carries a revoke\'s id and grant through the wire encoding; a client\'s revoke names no grant', () => {
    const wire = (e: LeaseRevokeEntry): LeaseRevokeEntry => LeaseRevokeEntry.decode(LeaseRevokeEntry.encode(e).finish())
    expect(revokeOf(wire(revokeEntry(-9223372036854775808n, 17)))).to.deep.equal({id: -9223372036854775808n, grantedIndex: 17})
    expect(revokeOf(wire(revokeEntry(5n)))).to.deep.equal({id: 5n, grantedIndex: 0})
    expect(() => revokeOf({request: undefined, grantedIndex: 0})).to.throw(LeaseError, 'a lease revoke entry names no lease')
  })

  it('carries the Lessor\'s checkpoints, each with its grant, through the wire encoding', () => {
    const t = new LessorBench({checkpointIntervalMs: 1000})
    t.lessor.promote(0)
    t.grant(1n << 62n, 100)
    t.grant(-1n, 100)
    t.clock.now = 1500
    const cps = t.lessor.checkpoints()
    expect(cps).to.have.length(2)
    const decoded = LeaseCheckpointEntry.decode(LeaseCheckpointEntry.encode(checkpointEntry(cps)).finish())
    expect(checkpointsOf(decoded)).to.deep.equal(cps)
  })

  it('refuses a checkpoint entry whose granted indexes do not match its checkpoints', () => {
    const e = {request: {checkpoints: [{ID: 1n, remainingTTL: 5}]}, grantedIndex: []}
    expect(() => checkpointsOf(e)).to.throw(LeaseError, 'a lease checkpoint entry has 1 checkpoints but 0 granted indexes')
  })

  it('reports an expired lease with the grant it found expired', () => {
    const t = new LessorBench()
    t.lessor.promote(0)
    t.grant(7n, 5)
    t.apply({revoke: 7n})
    t.grant(7n, 5)
    t.clock.now = 5000
    expect(t.lessor.expired()).to.deep.equal([{ID: 7n, grantedIndex: 3}])
  })
})
