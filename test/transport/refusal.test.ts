import {status} from '@grpc/grpc-js'
import {expect} from 'chai'
import {BinaryWriter} from '@bufbuild/protobuf/wire'
import {MessageType, newMessage} from '../../src/raft/types.js'
import {encodeHeaderField} from '../../src/transport/wire.js'
import {app, batchBytes, closeAll, CLUSTER, rawStream, sleep, TestNode, track, waitFor} from './helpers.js'

/** A receiver (node 2) that knows node 1 only. */
async function receiver(): Promise<TestNode> {
  const n = track(new TestNode(2))
  n.known.add(1)
  return n.listen()
}

describe('transport: refused peers and messages', () => {
  afterEach(closeAll)

  const header = {clusterId: CLUSTER, from: 1, to: 2}

  it('accepts a well-formed batch from a known member', async () => {
    const b = await receiver()
    const err = await rawStream(b.port, [batchBytes(header, [app(1, 2, 1)])])
    expect(err).to.equal(null)
    expect(b.received.map((m) => m.index)).to.deep.equal([1])
  })

  const refusals: Array<[string, () => Uint8Array, status, RegExp]> = [
    ['a foreign cluster id', () => batchBytes({...header, clusterId: 8}, [app(1, 2, 1)]),
      status.FAILED_PRECONDITION, /^node 2 belongs to cluster 7, not to cluster 8 of sender node 1$/],
    ['another target node id', () => batchBytes({...header, to: 3}, [app(1, 3, 1)]),
      status.FAILED_PRECONDITION, /^this is node 2, not node 3; node 1 has a stale address for node 3$/],
    ['an unknown sender', () => batchBytes({...header, from: 5}, [app(5, 2, 1)]),
      status.PERMISSION_DENIED, /^node 5 is not a member of cluster 7 as node 2 knows it/],
    ['a missing header', () => batchBytes(undefined, [app(1, 2, 1)]),
      status.INVALID_ARGUMENT, /has no header/],
    ['a message from another sender than the header', () => batchBytes(header, [app(1, 2, 1), app(4, 2, 2)]),
      status.PERMISSION_DENIED, /^message 2 of the batch claims to be from node 4 on a stream from node 1$/],
    ['a message to another node', () => batchBytes(header, [app(1, 3, 1)]),
      status.FAILED_PRECONDITION, /^message 1 of the batch is addressed to node 3, but this is node 2$/],
    ['a local-only message type', () => batchBytes(header, [newMessage({msgType: MessageType.MsgHup, from: 1, to: 2})]),
      status.INVALID_ARGUMENT, /is a MsgHup, which never travels between nodes/],
    ['bytes that are not a PeerBatch', () => new Uint8Array([0x0a, 0xff, 0xff, 0x01]),
      status.INVALID_ARGUMENT, /^cannot decode raftctl\.v1\.PeerBatch/],
    ['an unknown message type', () => withRawMessage(messageBytes({type: 99})),
      status.INVALID_ARGUMENT, /does not decode: Message\.msg_type has unknown value/],
    ['a term above 2^53-1', () => withRawMessage(messageBytes({type: MessageType.MsgAppend, term: 2n ** 60n})),
      status.INVALID_ARGUMENT, /^cannot decode raftctl\.v1\.PeerBatch.*MAX_SAFE_INTEGER/],
  ]

  for (const [what, bytes, code, message] of refusals) {
    it(`refuses ${what} with ${status[code]}, logs it and delivers nothing`, async () => {
      const b = await receiver()
      const err = await rawStream(b.port, [batchBytes(header, [app(1, 2, 1)]), bytes(), batchBytes(header, [app(1, 2, 3)])])
      expect(err, 'the call must fail').to.not.equal(null)
      expect(status[err!.code]).to.equal(status[code])
      expect(err!.details).to.match(message)
      expect(b.received.map((m) => m.index), 'only the batch before the bad one').to.deep.equal([1])
      const logged = b.events('peer-refused')
      expect(logged).to.have.length(1)
      expect(logged[0].fields).to.include({call: 'stream', code: status[code], peer: what === 'an unknown sender' ? 5 : 1})
    })
  }

  it('logs the sender of a first batch it refuses (a removed member), and delivers nothing', async () => {
    const b = await receiver()
    b.known.delete(1)
    const err = await rawStream(b.port, [batchBytes(header, [app(1, 2, 1)])])
    expect(status[err!.code]).to.equal('PERMISSION_DENIED')
    expect(b.received).to.deep.equal([])
    expect(b.events('peer-refused').map((l) => l.fields)).to.deep.equal([{
      call: 'stream', peer: 1, code: 'PERMISSION_DENIED',
      reason: 'node 1 is not a member of cluster 7 as node 2 knows it (removed or not yet added)',
    }])
  })

  it('refuses a stream whose sender changes between batches', async () => {
    const b = await receiver()
    b.known.add(3)
    const err = await rawStream(b.port, [batchBytes(header, [app(1, 2, 1)]), batchBytes({...header, from: 3}, [app(3, 2, 2)])])
    expect(status[err!.code]).to.equal('PERMISSION_DENIED')
    expect(err!.details).to.equal('a stream from node 1 carried a batch from node 3')
    expect(b.received.map((m) => m.index)).to.deep.equal([1])
  })

  it('refuses a member removed while its stream is open, at its next batch', async () => {
    const a = track(new TestNode(1))
    const b = await receiver()
    a.transport.addPeer(2, b.address)
    a.transport.send([app(1, 2, 1)])
    await waitFor('first delivery', () => b.received.length === 1)
    b.known.delete(1)
    a.transport.send([app(1, 2, 2)])
    await waitFor('the sender reports node 2 unreachable', () => a.unreachable.includes(2), 3000)
    expect(b.received.map((m) => m.index)).to.deep.equal([1])
    expect(a.events('peer-stream-refused')[0].fields).to.include({peer: 2, code: 'PERMISSION_DENIED'})
  })

  it('tells the refusal listeners which peer refused, with the status and the reason', async () => {
    const a = track(new TestNode(1))
    const refusals: Array<[number, string, string]> = []
    a.transport.onRefused((peer, code, reason) => refusals.push([peer, status[code], reason]))
    const b = await receiver()
    b.known.delete(1)
    a.transport.addPeer(2, b.address)
    a.transport.send([app(1, 2, 1)])
    await waitFor('the refusal to reach the listener', () => refusals.length > 0, 3000)
    expect(refusals[0]).to.deep.equal([2, 'PERMISSION_DENIED', 'node 1 is not a member of cluster 7 as node 2 knows it (removed or not yet added)'])
  })

  it('a transport of another cluster is refused, reports the peer unreachable and keeps backing off', async () => {
    const a = track(new TestNode(1, {clusterId: 99}))
    const b = await receiver()
    a.transport.addPeer(2, b.address)
    const t0 = Date.now()
    while (Date.now() - t0 < 400) {
      a.transport.send([app(1, 2, 1)])
      await sleep(10)
    }
    expect(b.received).to.deep.equal([])
    expect(a.unreachable).to.include(2)
    const refused = a.events('peer-stream-refused')
    expect(refused.length).to.be.within(2, 6) // 20, 40, 80, 160, 200 ms back-off in 400 ms
    expect(refused[0].fields).to.include({code: 'FAILED_PRECONDITION'})
    expect(refused.map((l) => l.fields.retryInMs)).to.deep.equal([20, 40, 80, 160, 200, 200].slice(0, refused.length))
  })
})

/** Encodes an eraftpb.Message by hand, so that out-of-range values can be produced. */
function messageBytes(m: {type: number, term?: bigint}): Uint8Array {
  const w = new BinaryWriter()
  w.uint32(8).int32(m.type).uint32(16).uint64(2).uint32(24).uint64(1)
  if (m.term !== undefined) w.uint32(32).uint64(m.term)
  return w.finish()
}

/** A PeerBatch with a correct header and one hand-encoded message. */
function withRawMessage(message: Uint8Array): Uint8Array {
  const w = new BinaryWriter()
  w.raw(encodeHeaderField({clusterId: CLUSTER, from: 1, to: 2}))
  w.uint32(18).bytes(message)
  return w.finish()
}
