/**
 * The reconnect schedule of a peer pipe: every delay lies between the initial and the maximum
 * back-off whatever the number of failures, a node caps it at a quarter of its election timeout
 * (so a peer that comes back is reached well within one election timeout), and a real pipe to a
 * peer that is down never waits longer than the cap before it tries again.
 */
import {expect} from 'chai'
import fc from 'fast-check'
import {DEFAULT_LIMITS, MIN_BACKOFF_MS, reconnectBackoff, reconnectDelay} from '../../src/transport/options.js'
import {app, closeAll, deadPort, TestNode, track, waitFor} from './helpers.js'

describe('transport: reconnect back-off', () => {
  afterEach(closeAll)

  it('doubles from the initial delay and never exceeds the maximum', () => {
    const limits = {initialBackoffMs: 100, maxBackoffMs: 250}
    expect([1, 2, 3, 4, 5, 100].map((n) => reconnectDelay(limits, n))).to.deep.equal([100, 200, 250, 250, 250, 250])
    expect(reconnectDelay(limits, 10_000)).to.equal(250)
    fc.assert(fc.property(fc.integer({min: 1, max: 5000}), fc.integer({min: 0, max: 60_000}), fc.integer({min: 1, max: 100_000}),
      (initial, extra, failures) => {
        const l = {initialBackoffMs: initial, maxBackoffMs: initial + extra}
        const d = reconnectDelay(l, failures)
        const next = reconnectDelay(l, failures + 1)
        return d >= initial && d <= l.maxBackoffMs && next >= d && next <= 2 * d
      }))
  })

  it('caps the delay of a node at a quarter of its election timeout', () => {
    expect(reconnectBackoff(1000)).to.deep.equal({initialBackoffMs: 100, maxBackoffMs: 250})
    expect(reconnectBackoff(300)).to.deep.equal({initialBackoffMs: 75, maxBackoffMs: 75})
    expect(reconnectBackoff(600_000)).to.deep.equal({initialBackoffMs: 100, maxBackoffMs: DEFAULT_LIMITS.maxBackoffMs})
    expect(reconnectBackoff(1)).to.deep.equal({initialBackoffMs: MIN_BACKOFF_MS, maxBackoffMs: MIN_BACKOFF_MS})
    fc.assert(fc.property(fc.integer({min: 4 * MIN_BACKOFF_MS, max: 10_000_000}), (election) => {
      const b = reconnectBackoff(election)
      return b.maxBackoffMs <= election / 4 && b.initialBackoffMs <= b.maxBackoffMs && b.maxBackoffMs <= DEFAULT_LIMITS.maxBackoffMs
    }))
  })

  it('retries a peer that is down within the maximum delay, and starts over once it is back', async () => {
    const limits = {initialBackoffMs: 5, maxBackoffMs: 40}
    const port = await deadPort()
    const a = track(new TestNode(1, {limits}))
    await a.listen()
    a.transport.addPeer(2, `127.0.0.1:${port}`)
    const failures = (): number => a.events('peer-unreachable').length
    // Keep a message in front of the pipe (as heartbeats do) until it failed often enough to
    // reach the cap several times over.
    for (let i = 0; i < 4000 && failures() < 8; i++) {
      a.transport.send([app(1, 2, i)])
      await new Promise((r) => setTimeout(r, 2))
    }
    const delays = a.events('peer-unreachable').map((l) => l.fields.retryInMs as number)
    expect(delays.length).to.be.at.least(8)
    expect(delays.slice(0, 4)).to.deep.equal([5, 10, 20, 40])
    expect(Math.max(...delays)).to.equal(limits.maxBackoffMs)
    expect(a.transport.peerStats(2)!.nextBackoffMs).to.equal(limits.maxBackoffMs)

    const b = track(new TestNode(2, {limits}))
    b.known.add(1)
    await b.listen(port)
    let i = 10_000
    await waitFor('delivery once the peer listens again', () => {
      a.transport.send([app(1, 2, i++)])
      return b.received.length > 0
    }, 5000)
    await waitFor('the stream accepted', () => a.transport.peerStats(2)!.state === 'open', 2000)
    expect(a.transport.peerStats(2)!.nextBackoffMs).to.equal(limits.initialBackoffMs)
  })
})
