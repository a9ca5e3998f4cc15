/**
 * Proposals carry the request id written into their entry (InternalRaftRequest.id,
 * ConfChangeContext.request_id, ServerRequest.request_id); for a proposal the leader appended
 * itself, the applied entry's id is also checked against the (index, term) it was appended at,
 * so a proposal is never settled with another request's result.
 */
import {expect} from 'chai'
import {ProposalWaits} from '../../src/server/proposals.js'

const lost = (): Error => new Error('lost')

describe('server/proposals: request ids', () => {
  it('resolves the proposal whose entry carries its request id at the slot it was appended at', async () => {
    const t = new ProposalWaits<string>()
    const p = t.register(77, 1, 1000, 'the write')
    t.appended(77, 10, 3)
    t.applied(10, 3, 77, {result: 'ok'}, lost)
    expect(await p).to.equal('ok')
    await new Promise((r) => setImmediate(r))
    expect(t.size).to.equal(0)
  })

  it('never hands a proposal the result of an entry with another request id', async () => {
    const t = new ProposalWaits<string>()
    const p = t.register(77, 1, 1000, 'the write')
    t.appended(77, 10, 3)
    t.applied(10, 3, 78, {result: 'someone else\'s'}, lost)
    const err = await p.then(() => undefined, (e: unknown) => e as Error)
    expect(err?.message).to.equal('internal error: the entry applied at index 10 (term 3) carries request 78, not request 77, ' +
      'so the outcome of the request is unknown; read the keys to check')
    expect(t.size).to.equal(0)
  })

  it('still rejects a proposal of another term as lost, whatever the ids', async () => {
    const t = new ProposalWaits<string>()
    const p = t.register(77, 1, 1000, 'the write')
    t.appended(77, 10, 3)
    t.applied(10, 4, 77, {result: 'new leader\'s'}, lost)
    expect((await p.catch((e: unknown) => e as Error) as Error).message).to.equal('lost')
  })

  it('settles by (index, term) alone when the entry carries no readable request id', async () => {
    const t = new ProposalWaits<string>()
    const p = t.register(77, 1, 1000, 'the write')
    t.appended(77, 10, 3)
    t.applied(10, 3, undefined, {error: new Error('refused at apply time')}, lost)
    expect((await p.catch((e: unknown) => e as Error) as Error).message).to.equal('refused at apply time')
  })
})
