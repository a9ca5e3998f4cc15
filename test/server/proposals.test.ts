import {expect} from 'chai'
import {AppliedWaiters, ProposalWaits} from '../../src/server/proposals.js'
import {DeadlineError} from '../../src/server/wait.js'

const lost = (): Error => new Error('lost')
const settled = async <T>(p: Promise<T>): Promise<T | Error> => p.catch((e: unknown) => e as Error)

describe('server/proposals', () => {
  it('resolves the proposal whose request id the applied entry carries, on any member', async () => {
    const t = new ProposalWaits<string>()
    const p = t.register(77, 5, 1000, 'w')
    // A follower's proposal: no (index, term) known; the entry lands wherever the leader put it.
    t.applied(12, 3, 77, {result: 'ok'}, lost)
    expect(await p).to.equal('ok')
    await new Promise((r) => setImmediate(r))
    expect(t.size).to.equal(0)
  })

  it('ignores entries of other proposers', async () => {
    const t = new ProposalWaits<string>()
    const p = t.register(77, 5, 1000, 'w')
    t.applied(12, 3, 78, {result: 'someone else\'s'}, lost)
    t.applied(13, 3, undefined, {}, lost)
    expect(t.size).to.equal(1)
    t.applied(14, 3, 77, {result: 'mine'}, lost)
    expect(await p).to.equal('mine')
  })

  it('rejects a leader\'s proposal as lost when its index was applied with another term', async () => {
    const t = new ProposalWaits<string>()
    const old = t.register(1, 1, 1000, 'w')
    t.appended(1, 10, 3)
    const fresh = t.register(2, 1, 1000, 'w')
    t.appended(2, 10, 5)
    t.applied(10, 5, 2, {result: 'new'}, lost)
    expect((await settled(old) as Error).message).to.equal('lost')
    expect(await fresh).to.equal('new')
  })

  it('passes an apply error to the proposer', async () => {
    const t = new ProposalWaits<string>()
    const a = t.register(4, 1, 1000, 'w')
    t.applied(4, 1, 4, {error: new Error('bad request')}, lost)
    expect((await settled(a) as Error).message).to.equal('bad request')
  })

  it('rejects below a snapshot every proposal whose entry may be covered by it, and keeps the others', async () => {
    const t = new ProposalWaits<string>()
    const atFour = t.register(1, 1, 1000, 'w')
    t.appended(1, 4, 1)
    const atNine = t.register(2, 1, 1000, 'w')
    t.appended(2, 9, 1)
    const followerLow = t.register(3, 6, 1000, 'w')
    const followerHigh = t.register(4, 8, 1000, 'w')
    t.rejectUpTo(7, () => new Error('snapshot'))
    const out = await Promise.allSettled([atFour, followerLow])
    expect(out.map((o) => (o as PromiseRejectedResult).reason.message)).to.deep.equal(['snapshot', 'snapshot'])
    t.applied(9, 1, 2, {result: 'late'}, lost)
    t.applied(10, 1, 4, {result: 'later'}, lost)
    expect([await atNine, await followerHigh]).to.deep.equal(['late', 'later'])
  })

  it('forgets a discarded proposal without settling it', async () => {
    const t = new ProposalWaits<string>()
    let settledAtAll = false
    void t.register(5, 1, 20, 'w').then(() => { settledAtAll = true }, () => { settledAtAll = true })
    t.discard(5)
    expect(t.size).to.equal(0)
    await new Promise((r) => setTimeout(r, 40))
    expect(settledAtAll, 'no deadline fires for a discarded proposal').to.equal(false)
    // The id may be registered again (a retry after the core refused it).
    const again = t.register(5, 1, 1000, 'w')
    t.applied(3, 1, 5, {result: 'ok'}, lost)
    expect(await again).to.equal('ok')
  })

  it('times out with a DeadlineError saying that the outcome is unknown', async () => {
    const t = new ProposalWaits<string>()
    const err = await settled(t.register(1, 1, 10, 'the write'))
    expect(err).to.be.instanceOf(DeadlineError)
    expect((err as Error).message).to.equal(
      'the write did not complete within 10 ms; its outcome is unknown (it may still be applied), so check before repeating it')
  })

  it('AppliedWaiters resolves once the applied index is reached, and at once when it was', async () => {
    const w = new AppliedWaiters(5)
    await w.wait(5, 10, 'r')
    let done = false
    const p = w.wait(8, 1000, 'r').then(() => { done = true })
    w.advance(7)
    await new Promise((r) => setImmediate(r))
    expect(done).to.equal(false)
    w.advance(8)
    await p
    expect(done).to.equal(true)
    let err: unknown
    await w.wait(100, 10, 'the read').catch((e) => { err = e })
    expect((err as Error).message).to.match(/did not apply up to index 100/)
  })
})
