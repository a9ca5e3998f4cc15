import {expect} from 'chai'
import {DeadlineError, WaitRegistry} from '../../src/server/wait.js'

describe('WaitRegistry', () => {
  it('settles a waiter once, by resolve', async () => {
    const w = new WaitRegistry<number, string>()
    const p = w.register(1, 1000, 'put')
    expect(w.resolve(1, 'done')).to.equal(true)
    expect(w.resolve(1, 'again')).to.equal(false)
    expect(await p).to.equal('done')
    expect(w.size).to.equal(0)
  })

  it('rejects after the deadline with a message naming the request', async () => {
    const w = new WaitRegistry<number, string>()
    const err = await w.register(7, 20, 'proposal 7').catch((e: unknown) => e)
    expect(err).to.be.instanceOf(DeadlineError)
    expect((err as Error).message).to.equal('proposal 7 did not complete within 20 ms')
    expect(w.has(7)).to.equal(false)
  })

  it('rejectAll settles every waiter and refuses duplicate ids', async () => {
    const w = new WaitRegistry<number, string>()
    const a = w.register(1, 1000, 'a').catch((e: Error) => e.message)
    const b = w.register(2, 1000, 'b').catch((e: Error) => e.message)
    expect(() => w.register(1, 1000, 'dup')).to.throw(/duplicate wait id 1/)
    w.rejectAll(new Error('node stopping'))
    expect(await a).to.equal('node stopping')
    expect(await b).to.equal('node stopping')
  })
})
