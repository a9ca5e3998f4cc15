import {expect} from 'chai'
import {AppliedWaiters, ProposalTracker} from '../../src/server/proposals.js'
import {DeadlineError} from '../../src/server/wait.js'

const lost = (): Error => new Error('lost')

describe('server/proposals', () => {
  it('resolves the proposal whose entry was applied with the same index and term', async () => {
    const t = new ProposalTracker<string>()
    const p = t.register(10, 3, 1000, 'w')
    t.applied(10, 3, {result: 'ok'}, lost)
    expect(await p).to.equal('ok')
    expect(t.size).to.equal(0)
  })

  it('rejects a proposal as lost when its index was applied with another term', async () => {
    const t = new ProposalTracker<string>()
    const old = t.register(10, 3, 1000, 'w')
    const fresh = t.register(10, 5, 1000, 'w')
    t.applied(10, 5, {result: 'new'}, lost)
    let err: unknown
    await old.catch((e) => { err = e })
    expect((err as Error).message).to.equal('lost')
    expect(await fresh).to.equal('new')
  })

  it('passes an apply error to the proposer and rejects everything below a snapshot', async () => {
    const t = new ProposalTracker<string>()
    const a = t.register(4, 1, 1000, 'w')
    const b = t.register(6, 1, 1000, 'w')
    const c = t.register(9, 1, 1000, 'w')
    t.applied(4, 1, {error: new Error('bad request')}, lost)
    t.rejectUpTo(6, () => new Error('snapshot'))
    const outcome = await Promise.allSettled([a, b])
    expect(outcome.map((o) => (o as PromiseRejectedResult).reason.message)).to.deep.equal(['bad request', 'snapshot'])
    t.applied(9, 1, {result: 'late'}, lost)
    expect(await c).to.equal('late')
  })

  it('times out with a DeadlineError', async () => {
    const t = new ProposalTracker<string>()
    let err: unknown
    await t.register(1, 1, 10, 'the write').catch((e) => { err = e })
    expect(err).to.be.instanceOf(DeadlineError)
    expect((err as Error).message).to.match(/the write did not complete within 10 ms/)
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
