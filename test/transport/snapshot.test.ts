import {createHash, randomBytes} from 'node:crypto'
import {crc32} from 'node:zlib'
import {credentials, type ServiceError, status} from '@grpc/grpc-js'
import {expect} from 'chai'
import type {SnapshotChunk} from '../../src/generated/raftctl/v1/peer.js'
import {messageToWire} from '../../src/raftpb/convert.js'
import {EMPTY_BYTES, type Message, MessageType, newMessage} from '../../src/raft/types.js'
import {TransportError} from '../../src/transport/errors.js'
import {rechunk} from '../../src/transport/snapshot_send.js'
import {RawPeerClient} from '../../src/transport/wire.js'
import {closeAll, CLUSTER, TestNode, track, waitFor} from './helpers.js'

const MIB = 1024 * 1024

function snapMsg(from: number, to: number, index = 42): Message {
  return newMessage({
    msgType: MessageType.MsgSnapshot, from, to, term: 3,
    snapshot: {data: EMPTY_BYTES, metadata: {index, term: 3, confState: {voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false}}},
  })
}

/** Yields `file` in pieces of `piece` bytes, reusing one buffer (as a file reader would). */
async function* fileChunks(file: Uint8Array, piece: number): AsyncGenerator<Uint8Array> {
  const buf = new Uint8Array(piece)
  for (let off = 0; off < file.length; off += piece) {
    const n = Math.min(piece, file.length - off)
    buf.set(file.subarray(off, off + n))
    yield buf.subarray(0, n)
  }
}

/** A receiver pair: node 2 stores what it is sent; node 1 sends. */
async function pair(onSnapshot: (m: Message, chunks: AsyncIterable<Uint8Array>) => Promise<void>) {
  const b = track(new TestNode(2, {onSnapshot}))
  b.known.add(1)
  await b.listen()
  const a = track(new TestNode(1))
  a.transport.addPeer(2, b.address)
  return {a, b}
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

describe('transport: snapshot transfer', () => {
  afterEach(closeAll)

  it('streams a 6.5 MiB file in chunks of at most 1 MiB; it arrives byte-identical and reports success', async () => {
    const file = randomBytes(6.5 * MIB)
    const pieces: number[] = []
    let got: Message | undefined
    let stored = new Uint8Array(0)
    const {a, b} = await pair(async (m, chunks) => {
      got = m
      const parts: Uint8Array[] = []
      for await (const c of chunks) {
        pieces.push(c.length)
        parts.push(c)
      }
      stored = Buffer.concat(parts)
    })
    await a.transport.sendSnapshot(2, snapMsg(1, 2), fileChunks(file, 64 * 1024))
    expect(sha(stored)).to.equal(sha(file))
    expect(stored.length).to.equal(file.length)
    expect(Math.max(...pieces)).to.equal(MIB)
    expect(pieces.length).to.equal(7)
    expect(got).to.deep.equal(snapMsg(1, 2))
    expect(a.snapshotStatus).to.deep.equal([[2, true]])
    expect(a.events('snapshot-sent')[0].fields).to.include({peer: 2, index: 42, bytes: file.length})
    expect(b.events('snapshot-received')[0].fields).to.include({peer: 1, index: 42, bytes: file.length, complete: true})
  })

  it('delivers an empty snapshot file', async () => {
    let chunks = -1
    const {a} = await pair(async (_m, it) => {
      chunks = 0
      for await (const _ of it) chunks++
    })
    await a.transport.sendSnapshot(2, snapMsg(1, 2), fileChunks(new Uint8Array(0), 10))
    expect(chunks).to.equal(0)
    expect(a.snapshotStatus).to.deep.equal([[2, true]])
  })

  it('reports failure when the receiver throws, and the sender sees its reason', async () => {
    const {a, b} = await pair(async (_m, chunks) => {
      for await (const _ of chunks) throw new Error('disk full')
    })
    const err = await a.transport.sendSnapshot(2, snapMsg(1, 2), fileChunks(randomBytes(3 * MIB), MIB)).catch((e: unknown) => e)
    expect(err).to.be.instanceOf(TransportError)
    expect((err as TransportError).code).to.equal('SNAPSHOT_FAILED')
    expect((err as Error).message).to.match(/ABORTED.*node 2 could not apply the snapshot: disk full|node 2 could not apply the snapshot: disk full/)
    expect(a.snapshotStatus).to.deep.equal([[2, false]])
    expect(b.events('snapshot-receive-failed')[0].fields).to.include({peer: 1, index: 42})
  })

  it('reports failure when reading the local snapshot file fails mid-way; the receiver sees the transfer end', async () => {
    let receiverError = ''
    let receivedFirst!: () => void
    const firstArrived = new Promise<void>((r) => { receivedFirst = r })
    const {a} = await pair(async (_m, chunks) => {
      try {
        for await (const _ of chunks) receivedFirst()
      } catch (e) {
        receiverError = (e as Error).message
        throw e
      }
    })
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield randomBytes(MIB)
      yield randomBytes(MIB)
      await firstArrived
      throw new Error('EIO reading snapshot')
    }
    const err = await a.transport.sendSnapshot(2, snapMsg(1, 2), broken()).catch((e: unknown) => e as Error)
    expect((err as Error).message).to.match(/EIO reading snapshot/)
    expect(a.snapshotStatus).to.deep.equal([[2, false]])
    await waitFor('the receiver saw the transfer end early', () => receiverError !== '', 2000)
  })

  it('refuses a snapshot from an unknown sender before calling the receiver', async () => {
    let called = false
    const {a, b} = await pair(async () => { called = true })
    b.known.delete(1)
    const err = await a.transport.sendSnapshot(2, snapMsg(1, 2), fileChunks(randomBytes(1000), 100)).catch((e: unknown) => e as Error)
    expect((err as Error).message).to.match(/node 1 is not a member of cluster 7/)
    expect(called).to.equal(false)
    expect(a.snapshotStatus).to.deep.equal([[2, false]])
    expect(b.events('peer-refused')[0].fields).to.include({call: 'snapshot', code: 'PERMISSION_DENIED', peer: 1})
  })

  it('refuses sendSnapshot of something that is not a MsgSnapshot, or to an unknown peer', async () => {
    const {a} = await pair(async () => {})
    const notSnap = newMessage({msgType: MessageType.MsgAppend, from: 1, to: 2})
    const e1 = await a.transport.sendSnapshot(2, notSnap, fileChunks(new Uint8Array(1), 1)).catch((e: unknown) => e as TransportError)
    expect((e1 as TransportError).code).to.equal('BAD_MESSAGE')
    const e2 = await a.transport.sendSnapshot(5, snapMsg(1, 5), fileChunks(new Uint8Array(1), 1)).catch((e: unknown) => e as TransportError)
    expect((e2 as TransportError).code).to.equal('UNKNOWN_PEER')
    expect(a.snapshotStatus).to.deep.equal([[5, false]])
  })

  describe('a receiver facing a faulty sender', () => {
    const header = {clusterId: CLUSTER, from: 1, to: 2}
    const first = (): SnapshotChunk => ({header, message: messageToWire(snapMsg(1, 2)), offset: 0, data: EMPTY_BYTES, last: false, crc32: 0})
    const data = (offset: number, bytes: Uint8Array, last = false, crc = 0): SnapshotChunk =>
      ({header: undefined, message: undefined, offset, data: bytes, last, crc32: crc})
    const piece = new Uint8Array(1000).fill(7)

    const cases: Array<[string, SnapshotChunk[], RegExp]> = [
      ['a lost chunk (offset gap)', [first(), data(0, piece), data(2000, piece, true, crc32(piece))], /starts at offset 2000, expected 1000/],
      ['a wrong checksum', [first(), data(0, piece), data(1000, EMPTY_BYTES, true, 12345)], /CRC-32 is \d+ but the sender computed 12345/],
      ['a stream without a last chunk', [first(), data(0, piece)], /ended after 1000 bytes without its last chunk/],
      ['a repeated header', [first(), first()], /repeats the header/],
    ]
    for (const [what, chunks, reason] of cases) {
      it(`fails the transfer on ${what}; the receiver's loop throws so it applies nothing`, async () => {
        let completed = false
        let seen = ''
        const b = track(new TestNode(2, {onSnapshot: async (_m, it) => {
          try {
            for await (const _ of it) { /* store */ }
            completed = true
          } catch (e) {
            seen = (e as Error).message
            throw e
          }
        }}))
        b.known.add(1)
        await b.listen()
        const err = await rawSnapshot(b.port, chunks)
        expect(status[err!.code]).to.equal('INVALID_ARGUMENT')
        expect(err!.details).to.match(reason)
        expect(seen).to.match(reason)
        expect(completed).to.equal(false)
      })
    }

    it('refuses a first chunk without a MsgSnapshot', async () => {
      const b = track(new TestNode(2))
      b.known.add(1)
      await b.listen()
      const err = await rawSnapshot(b.port, [{...first(), message: undefined}])
      expect(status[err!.code]).to.equal('INVALID_ARGUMENT')
      expect(err!.details).to.equal('the first snapshot chunk carries no MsgSnapshot')
    })
  })

  it('rechunk splits and coalesces into fixed-size fresh pieces', async () => {
    const src = randomBytes(10_000)
    const out: Uint8Array[] = []
    for await (const p of rechunk(fileChunks(src, 333), 4096)) out.push(p)
    expect(out.map((p) => p.length)).to.deep.equal([4096, 4096, 1808])
    expect(Buffer.concat(out).equals(src)).to.equal(true)
  })
})

/** Writes hand-made chunks on one SendSnapshot call; resolves with the call's error, if any. */
async function rawSnapshot(port: number, chunks: SnapshotChunk[]): Promise<ServiceError | null> {
  const client = new RawPeerClient(`127.0.0.1:${port}`, credentials.createInsecure())
  try {
    return await new Promise<ServiceError | null>((resolve) => {
      const call = client.sendSnapshot({deadline: new Date(Date.now() + 5000)}, (err) => resolve(err))
      call.on('error', () => {})
      for (const c of chunks) call.write(c)
      call.end()
    })
  } finally {
    client.close()
  }
}
