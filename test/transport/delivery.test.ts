import {expect} from 'chai'
import {MessageType, newMessage} from '../../src/raft/types.js'
import {app, closeAll, cluster, deadPort, FAST, sleep, TestNode, track, waitFor} from './helpers.js'

describe('transport: message delivery', () => {
  afterEach(closeAll)

  it('delivers messages between two transports in the order they were sent', async () => {
    const [a, b] = await cluster([1, 2])
    for (let i = 1; i <= 300; i++) a.transport.send([app(1, 2, i, 100)])
    for (let i = 1; i <= 300; i++) b.transport.send([app(2, 1, i)])
    await waitFor('300 messages at node 2', () => b.received.length === 300)
    await waitFor('300 messages at node 1', () => a.received.length === 300)
    expect(b.received.map((m) => m.index)).to.deep.equal(range(1, 300))
    expect(a.received.map((m) => m.index)).to.deep.equal(range(1, 300))
    expect(b.received[0]).to.deep.equal(app(1, 2, 1, 100))
    expect(a.unreachable).to.deep.equal([])
  })

  it('routes each message of one send() to its own peer among three nodes, in order', async () => {
    const [a, b, c] = await cluster([1, 2, 3])
    for (let i = 1; i <= 50; i++) a.transport.send([app(1, 2, i), app(1, 3, 1000 + i)])
    c.transport.send([newMessage({msgType: MessageType.MsgRequestVote, from: 3, to: 2, term: 5})])
    await waitFor('deliveries', () => b.received.length === 51 && c.received.length === 50)
    expect(c.received.map((m) => m.index)).to.deep.equal(range(1001, 1050))
    expect(b.received.filter((m) => m.from === 1).map((m) => m.index)).to.deep.equal(range(1, 50))
    expect(b.received.filter((m) => m.from === 3).map((m) => m.msgType)).to.deep.equal([MessageType.MsgRequestVote])
    expect(a.received).to.deep.equal([])
  })

  it('batches the messages of one send() into few PeerBatches', async () => {
    const [a, b] = await cluster([1, 2])
    a.transport.send(range(1, 200).map((i) => app(1, 2, i)))
    await waitFor('200 messages', () => b.received.length === 200)
    expect(b.deliveries.length).to.be.at.most(2)
    expect(b.deliveries.flat()).to.deep.equal(b.received)
    expect(b.received.map((m) => m.index)).to.deep.equal(range(1, 200))
  })

  it('splits batches at maxBatchMessages and maxBatchBytes', async () => {
    const [a, b] = await cluster([1, 2], {maxBatchMessages: 10, maxBatchBytes: 64 * 1024})
    a.transport.send(range(1, 35).map((i) => app(1, 2, i)))
    a.transport.send(range(36, 40).map((i) => app(1, 2, i, 40 * 1024)))
    await waitFor('40 messages', () => b.received.length === 40)
    expect(Math.max(...b.deliveries.map((d) => d.length))).to.be.at.most(10)
    const large = b.deliveries.map((d) => d.filter((m) => m.entries.length > 0).length)
    expect(large.filter((n) => n > 0)).to.deep.equal([1, 1, 1, 1, 1])
    expect(b.received.map((m) => m.index)).to.deep.equal(range(1, 40))
  })

  it('reports a dead peer unreachable without delaying delivery to a live one', async () => {
    const [a, b] = await cluster([1, 2])
    a.transport.addPeer(3, `127.0.0.1:${await deadPort()}`)
    const latencies: number[] = []
    for (let round = 1; round <= 20; round++) {
      const t0 = Date.now()
      a.transport.send([app(1, 3, round), app(1, 2, round)])
      await waitFor(`round ${round} at node 2`, () => b.received.length === round, 2000)
      latencies.push(Date.now() - t0)
      await sleep(10)
    }
    await waitFor('node 3 reported unreachable', () => a.unreachable.includes(3), 2000)
    expect(a.unreachable).to.not.include(2)
    expect(Math.max(...latencies)).to.be.below(500)
    expect(a.events('peer-unreachable').some((l) => l.fields.peer === 3)).to.equal(true)
    expect(a.transport.peerStats(3)!.droppedMessages).to.be.greaterThan(0)
  })

  it('reconnects with back-off after the receiving server restarts on the same port', async () => {
    const [a, b] = await cluster([1, 2])
    a.transport.send([app(1, 2, 1)])
    await waitFor('first message', () => b.received.length === 1)
    await b.server.close()
    a.transport.send([app(1, 2, 2)])
    await waitFor('unreachable after the server stopped', () => a.unreachable.includes(2), 3000)
    await sleep(100)
    b.server = b.newServer()
    await b.listen(b.port)
    let i = 3
    await waitFor('delivery after restart', () => {
      a.transport.send([app(1, 2, i++)])
      return b.received.length >= 2
    }, 5000)
    const after = b.received.slice(1).map((m) => m.index)
    expect(after).to.deep.equal([...after].sort((x, y) => x - y))
    await waitFor('the stream accepted again', () => a.transport.peerStats(2)!.state === 'open', 2000)
    expect(a.transport.peerStats(2)!.nextBackoffMs).to.equal(FAST.initialBackoffMs)
  })

  it('reports messages to an unknown peer unreachable and drops them', async () => {
    const [a] = await cluster([1, 2])
    a.transport.send([app(1, 9, 1)])
    await waitFor('report for node 9', () => a.unreachable.includes(9), 1000)
    expect(a.events('peer-unknown')[0].fields).to.include({peer: 9, droppedMessages: 1})
  })

  it('follows updatePeer to a new address and stops sending to a removed peer', async () => {
    const [a, b] = await cluster([1, 2])
    const b2 = track(new TestNode(2))
    b2.known.add(1)
    await b2.listen()
    a.transport.updatePeer(2, b2.address)
    a.transport.send([app(1, 2, 1)])
    await waitFor('delivery at the new address', () => b2.received.length === 1)
    expect(b.received).to.deep.equal([])
    a.transport.removePeer(2)
    expect(a.transport.hasPeer(2)).to.equal(false)
    a.transport.send([app(1, 2, 2)])
    await waitFor('report after removal', () => a.unreachable.includes(2), 1000)
    expect(b2.received.length).to.equal(1)
  })

  it('refuses invalid messages in send() before queueing any', async () => {
    const [a, b] = await cluster([1, 2])
    const hup = newMessage({msgType: MessageType.MsgHup, from: 1, to: 2})
    expect(() => a.transport.send([app(1, 2, 1), hup])).to.throw(/MsgHup to node 2 never travels between nodes/)
    expect(() => a.transport.send([app(3, 2, 1)])).to.throw(/is from node 3, not from this node 1/)
    expect(() => a.transport.send([app(1, 1, 1)])).to.throw(/has no remote receiver/)
    expect(() => a.transport.addPeer(1, '127.0.0.1:1')).to.throw(/cannot add itself/)
    expect(() => a.transport.addPeer(4, 'nonsense')).to.throw(/is not host:port/)
    expect(() => a.transport.updatePeer(5, '127.0.0.1:1')).to.throw(/node 5 is not a peer of node 1/)
    await sleep(50)
    expect(b.received).to.deep.equal([])
  })

  it('calls no listener after close() and refuses further use', async () => {
    const [a] = await cluster([1, 2])
    a.transport.send([app(1, 9, 1)])
    await a.transport.close()
    await sleep(30)
    expect(a.unreachable).to.deep.equal([])
    a.transport.send([app(1, 2, 1)])
    expect(() => a.transport.addPeer(3, '127.0.0.1:1')).to.throw(/is closed/)
  })
})

function range(lo: number, hi: number): number[] {
  return Array.from({length: hi - lo + 1}, (_, i) => lo + i)
}
