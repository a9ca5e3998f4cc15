import {expect} from 'chai'
import {MessageType, newMessage} from '../../src/raft/types.js'
import {BoundedQueue} from '../../src/transport/queue.js'
import {app, closeAll, cluster, sleep, stalledPeer, waitFor} from './helpers.js'

describe('transport: back-pressure', () => {
  afterEach(closeAll)

  it('keeps a stalled peer\'s queue within its limits, drops and reports, and never delays a live peer', async () => {
    const limits = {maxQueueMessages: 200, maxQueueBytes: 2 * 1024 * 1024, essentialReserve: 8, maxBatchBytes: 256 * 1024, maxInflightBatches: 2}
    const [a, b] = await cluster([1, 2], limits)
    const stalled = await stalledPeer()
    a.transport.addPeer(3, `127.0.0.1:${stalled.port}`)
    let maxQueued = 0
    let maxBytes = 0
    let maxInflight = 0
    let sent = 0
    for (let round = 0; round < 100; round++) {
      // 100 rounds x 50 messages x 8 KiB = 40 MiB offered to the stalled peer.
      const batch = Array.from({length: 50}, (_, i) => app(1, 3, round * 50 + i, 8 * 1024))
      a.transport.send([...batch, app(1, 2, ++sent)])
      const s = a.transport.peerStats(3)!
      maxQueued = Math.max(maxQueued, s.queuedMessages)
      maxBytes = Math.max(maxBytes, s.queuedBytes)
      maxInflight = Math.max(maxInflight, s.inflightBatches)
      if (round % 10 === 0) await sleep(1)
    }
    await waitFor('every message at the live peer', () => b.received.length === sent, 3000)
    const s = a.transport.peerStats(3)!
    expect(maxQueued).to.be.at.most(limits.maxQueueMessages + limits.essentialReserve)
    expect(maxBytes).to.be.at.most(limits.maxQueueBytes + limits.maxBatchBytes)
    expect(maxInflight).to.be.at.most(limits.maxInflightBatches)
    expect(s.droppedMessages).to.be.greaterThan(4000)
    expect(s.sentMessages + s.droppedMessages + s.queuedMessages).to.be.at.most(5000)
    await waitFor('node 3 reported unreachable', () => a.unreachable.includes(3), 1000)
    expect(a.unreachable).to.not.include(2)
    expect(b.received.map((m) => m.index)).to.deep.equal(Array.from({length: sent}, (_, i) => i + 1))
    const dropLogs = a.events('peer-messages-dropped')
    expect(dropLogs.length).to.be.within(1, 3) // rate-limited to one line a second
    expect(dropLogs[0].fields).to.include({peer: 3, reason: 'queue full'})
  })

  it('a full queue still admits essential messages up to its reserve', () => {
    const q = new BoundedQueue({maxMessages: 3, maxBytes: 100, reserve: 2, reserveBytes: 20})
    const m = (n: number, essential = false) => ({bytes: new Uint8Array(n), essential})
    expect([q.push(m(10)), q.push(m(10)), q.push(m(10)), q.push(m(10))]).to.deep.equal([true, true, true, false])
    expect([q.push(m(5, true)), q.push(m(5, true)), q.push(m(5, true))]).to.deep.equal([true, true, false])
    expect(q.length).to.equal(5)
    expect(q.bytes).to.equal(40)
    expect(q.takeBatch(2, 1000).map((b) => b.length)).to.deep.equal([10, 10])
    expect(q.push(m(80)), 'three queued: the count limit is reached').to.equal(false)
    expect(q.takeBatch(10, 12).map((b) => b.length), 'the byte limit ends the batch').to.deep.equal([10])
    expect(q.push(m(90))).to.equal(true)
    expect(q.bytes).to.equal(100)
    expect(q.push(m(1)), 'the byte limit is reached').to.equal(false)
    expect(q.push(m(20, true)), 'within the reserve bytes').to.equal(true)
    expect(q.push(m(1, true))).to.equal(false)
  })

  it('takeBatch always yields at least one message, even one larger than the byte limit', () => {
    const q = new BoundedQueue({maxMessages: 10, maxBytes: 1000, reserve: 0, reserveBytes: 0})
    q.push({bytes: new Uint8Array(500), essential: false})
    q.push({bytes: new Uint8Array(1), essential: false})
    expect(q.takeBatch(10, 100).map((b) => b.length)).to.deep.equal([500])
    expect(q.takeBatch(10, 100).map((b) => b.length)).to.deep.equal([1])
    expect(q.takeBatch(10, 100)).to.deep.equal([])
    expect(q.clear()).to.equal(0)
  })

  it('votes still reach a peer whose queue is full of appends', async () => {
    const limits = {maxQueueMessages: 20, essentialReserve: 4}
    const [a, b] = await cluster([1, 2], limits)
    const vote = newMessage({msgType: MessageType.MsgRequestVote, from: 1, to: 2, term: 9})
    a.transport.send([...Array.from({length: 40}, (_, i) => app(1, 2, i + 1)), vote])
    await waitFor('the vote', () => b.received.some((m) => m.msgType === MessageType.MsgRequestVote), 2000)
    expect(b.received.filter((m) => m.msgType === MessageType.MsgAppend).length).to.equal(20)
    expect(a.transport.peerStats(2)!.droppedMessages).to.equal(20)
  })
})
