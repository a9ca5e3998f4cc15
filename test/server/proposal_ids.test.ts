/**
 * Proposals carry the request id written into their entry (InternalRequest.id,
 * ConfChangeContext.request_id, ServerRequest.request_id); the applied entry's id is checked, so
 * a proposal is never settled with another request's result.
 */
import {expect} from 'chai'
import {ProposalTracker} from '../../src/server/proposals.js'

const lost = (): Error => new Error('lost')

describe('server/proposals: request ids', () => {
  it('resolves the proposal whose entry carries its request id', async () => {
    const t = new ProposalTracker<string>()
    const p = t.register(10, 3, 1000, 'the write', 77)
    t.applied(10, 3, {result: 'ok'}, lost, 77)
    expect(await p).to.equal('ok')
    expect(t.size).to.equal(0)
  })

  it('never hands a proposal the result of an entry with another request id', async () => {
    const t = new ProposalTracker<string>()
    const p = t.register(10, 3, 1000, 'the write', 77)
    t.applied(10, 3, {result: 'someone else\'s'}, lost, 78)
    const err = await p.then(() => undefined, (e: unknown) => e as Error)
    expect(err?.message).to.equal('internal error: the entry applied at index 10 (term 3) carries request 78, not request 77, ' +
      'so the outcome of the request is unknown; read the keys to check')
    expect(t.size).to.equal(0)
  })

  it('still rejects a proposal of another term as lost, whatever the ids', async () => {
    const t = new ProposalTracker<string>()
    const p = t.register(10, 3, 1000, 'the write', 77)
    t.applied(10, 4, {result: 'new leader\'s'}, lost, 77)
    expect((await p.catch((e: unknown) => e as Error) as Error).message).to.equal('lost')
  })

  it('settles by (index, term) alone when the entry carries no request id', async () => {
    const t = new ProposalTracker<string>()
    const p = t.register(10, 3, 1000, 'the write', 77)
    t.applied(10, 3, {result: 'ok'}, lost)
    expect(await p).to.equal('ok')
  })
})
