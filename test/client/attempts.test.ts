/**
 * The bookkeeping of a call's attempts, without a network: a round tries the known leader
 * first, then each endpoint, each at most once, and follows a bounded number of hinted leaders;
 * the call log words the final error from what the endpoints did.
 */
import {expect} from 'chai'
import {CallLog, Round} from '../../src/client/attempts.js'

const drain = (r: Round): string[] => {
  const out: string[] = []
  for (let e = r.next(); e !== undefined && out.length < 100; e = r.next()) out.push(e)
  return out
}

describe('client/attempts', () => {
  it('a round tries the leader first, then every endpoint once', () => {
    expect(drain(new Round('b', ['a', 'b', 'c']))).to.deep.equal(['b', 'a', 'c'])
    expect(drain(new Round(undefined, ['a', 'b']))).to.deep.equal(['a', 'b'])
    expect(drain(new Round('x', ['a']))).to.deep.equal(['x', 'a'])
  })

  it('a round follows a hint next, but not to an endpoint it already tried, and at most 8 hints', () => {
    const r = new Round(undefined, ['a', 'b', 'c'])
    expect(r.next()).to.equal('a')
    r.redirect('c')
    expect(r.next()).to.equal('c')
    r.redirect('a')
    expect(drain(r)).to.deep.equal(['b'])
    const many = new Round(undefined, ['a'])
    const seen = [many.next()]
    for (let i = 0; i < 20; i++) {
      many.redirect(`h${i}`)
      seen.push(many.next())
    }
    expect(seen.filter((e) => e !== undefined)).to.have.length(9)
  })

  it('says no server answers only when every endpoint was unreachable', () => {
    const log = new CallLog('put', ['a:1', 'b:2'])
    log.unreachable('a:1')
    log.unreachable('b:2')
    expect(log.finalError(undefined).message).to.equal('cannot reach any endpoint (a:1, b:2): no raftctl server answers')
    log.other('b:2')
    expect(log.finalError(undefined).message).to.equal('put failed: no endpoint answered in time')
  })

  it('prefers overload, then no leader, then a dead leader in the final error', () => {
    const log = new CallLog('put', ['a:1', 'b:2', 'c:3'])
    log.unreachable('a:1')
    log.redirect('b:2', 'a:1')
    expect(log.finalError(undefined).message).to.equal('put failed: the leader does not answer and no new one is known yet ' +
      '(an election may be in progress): b:2 names the leader a:1, which does not answer; no server answers at a:1')
    log.knowsNoLeader('c:3', 3)
    expect(log.finalError(undefined).message).to.equal('put failed: no leader is known (an election is in progress, or too few ' +
      'members are up to elect one): node 3 at c:3 knows no leader; b:2 names the leader a:1, which does not answer; no server answers at a:1')
    log.busy('c:3', 'too many requests')
    const e = log.finalError(undefined)
    expect(e.codeName).to.equal('RESOURCE_EXHAUSTED')
    expect(e.message).to.equal('put failed: the cluster is overloaded and refused it until the deadline (nothing was written): ' +
      'c:3 answered "too many requests"')
  })
})
